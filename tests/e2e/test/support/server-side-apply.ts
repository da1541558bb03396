// Server-side apply of deploy/'s objects as the installer would (`kubectl apply --server-side`),
// strictly validated: an unknown or misplaced field is an error, not silently dropped.
import type { KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "@flotilla/model";
import { kubeRequestOk } from "@flotilla/testkit";

/** REST collection of a kind (the kinds deploy/ uses; an unknown one fails the test). */
export function collection(o: KubeObject): string {
  const kinds: Record<string, [string, string]> = {
    Namespace: ["/api/v1", "namespaces"],
    ServiceAccount: ["/api/v1", "serviceaccounts"],
    ConfigMap: ["/api/v1", "configmaps"],
    Service: ["/api/v1", "services"],
    Deployment: ["/apis/apps/v1", "deployments"],
    StatefulSet: ["/apis/apps/v1", "statefulsets"],
    Role: ["/apis/rbac.authorization.k8s.io/v1", "roles"],
    RoleBinding: ["/apis/rbac.authorization.k8s.io/v1", "rolebindings"],
    ClusterRole: ["/apis/rbac.authorization.k8s.io/v1", "clusterroles"],
    ClusterRoleBinding: ["/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings"],
    PodDisruptionBudget: ["/apis/policy/v1", "poddisruptionbudgets"],
    NetworkPolicy: ["/apis/networking.k8s.io/v1", "networkpolicies"],
  };
  const k = kinds[o.kind];
  if (!k) throw new Error(`no REST path known for kind ${o.kind}`);
  const ns = o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : "";
  return `${k[0]}${ns}/${k[1]}`;
}

/** Applies `o` with fieldValidation=Strict; with `dryRun`, validated and admitted but not stored. */
export async function apply(kc: KubeConfig, o: KubeObject, opts: { dryRun?: boolean } = {}): Promise<void> {
  const q = `fieldManager=flotilla-install&fieldValidation=Strict&force=true${opts.dryRun ? "&dryRun=All" : ""}`;
  await kubeRequestOk(kc, { method: "PATCH", path: `${collection(o)}/${o.metadata.name}?${q}`, contentType: "application/apply-patch+yaml", body: o });
}
