// A tenant identity as real clusters hand them out: a ServiceAccount in one namespace, a Role
// granting everything inside each of its namespaces (and nothing cluster-wide), and a token from
// the TokenRequest API.
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { writeKubeconfig } from "./kubeconfig-file.js";
import { kubeRequestOk } from "./kube-request.js";

export interface NamespacedIdentityOptions {
  /** ServiceAccount, Role and RoleBinding name. */
  name: string;
  /** Namespaces the identity may write to; the ServiceAccount lives in the first. */
  namespaces: string[];
  /** Token lifetime (default 24 h). */
  expirationSeconds?: number;
}

export interface NamespacedIdentity {
  /** `system:serviceaccount:<namespace>:<name>` — how the apiserver names it in errors. */
  user: string;
  token: string;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
}

export interface IdentityContext {
  admin: KubeConfig;
  planeName: string;
  server: string;
  caPem: string;
  dir: string;
}

export async function mintNamespacedIdentity(
  ctx: IdentityContext,
  opts: NamespacedIdentityOptions,
): Promise<NamespacedIdentity> {
  const [home] = opts.namespaces;
  if (!home) throw new Error("mintNamespacedIdentity: give at least one namespace");
  const { admin } = ctx;
  const create = (path: string, body: object) => kubeRequestOk(admin, { method: "POST", path, body }, [409]);

  await create(`/api/v1/namespaces/${home}/serviceaccounts`, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: opts.name, namespace: home },
  });
  for (const ns of opts.namespaces) {
    await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: opts.name, namespace: ns },
      rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
    });
    await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: opts.name, namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: opts.name },
      subjects: [{ kind: "ServiceAccount", name: opts.name, namespace: home }],
    });
  }
  const res = await kubeRequestOk<{ status?: { token?: string } }>(admin, {
    method: "POST",
    path: `/api/v1/namespaces/${home}/serviceaccounts/${opts.name}/token`,
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: opts.expirationSeconds ?? 86_400 },
    },
  });
  const token = res.body.status?.token;
  if (!token) throw new Error(`TokenRequest for ${home}/${opts.name} returned no token`);
  const user = `system:serviceaccount:${home}:${opts.name}`;
  const kubeconfigPath = join(ctx.dir, `identity-${home}-${opts.name}.kubeconfig`);
  const kubeConfig = await writeKubeconfig(kubeconfigPath, {
    name: ctx.planeName,
    user,
    server: ctx.server,
    caPem: ctx.caPem,
    credentials: { token },
    namespace: home,
  });
  return { user, token, kubeconfigPath, kubeConfig };
}
