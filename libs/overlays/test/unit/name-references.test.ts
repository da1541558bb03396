import { describe, expect, it } from "vitest";
import { deployment, find, loose, render } from "./helpers.js";

describe("name references", () => {
  it("rewrites ConfigMap, Secret, ServiceAccount and PVC references in pod templates", () => {
    const pod = `      serviceAccountName: runner
      imagePullSecrets: [{name: pull}]
      volumes:
      - name: c
        configMap: {name: settings}
      - name: d
        persistentVolumeClaim: {claimName: data}
      - name: p
        projected:
          sources:
          - secret: {name: creds}
`;
    const objects = render({
      "kustomization.yaml": [
        "namePrefix: p-",
        "nameSuffix: -s",
        "resources: [deploy.yaml, other.yaml]",
        "configMapGenerator:",
        "- name: settings",
        "  literals: [A=1]",
        "",
      ].join("\n"),
      "deploy.yaml":
        deployment("web").replace("      containers:", `${pod}      containers:`) +
        "        envFrom: [{secretRef: {name: creds}}]\n        env:\n        - name: X\n          valueFrom: {configMapKeyRef: {name: settings, key: A}}\n",
      "other.yaml": [
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: runner}",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: pull}",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}",
      ].join("\n---\n"),
    });
    const spec = loose(find(objects, "Deployment", "p-web-s").spec).template.spec;
    expect(spec.serviceAccountName).toBe("p-runner-s");
    expect(spec.imagePullSecrets).toEqual([{ name: "p-pull-s" }]);
    expect(spec.volumes[0].configMap.name).toMatch(/^p-settings-s-[a-z0-9]{10}$/);
    expect(spec.volumes[1].persistentVolumeClaim.claimName).toBe("p-data-s");
    expect(spec.volumes[2].projected.sources[0].secret.name).toBe("p-creds-s");
    expect(spec.containers[0].envFrom[0].secretRef.name).toBe("p-creds-s");
    expect(spec.containers[0].env[0].valueFrom.configMapKeyRef.name).toBe(spec.volumes[0].configMap.name);
  });

  it("rewrites RoleBinding roleRef and ServiceAccount subjects, with the namespace", () => {
    const objects = render({
      "kustomization.yaml": "namePrefix: p-\nnamespace: ns1\nresources: [rbac.yaml]\n",
      "rbac.yaml": [
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}",
        [
          "apiVersion: rbac.authorization.k8s.io/v1",
          "kind: RoleBinding",
          "metadata: {name: rb}",
          "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}",
          "subjects:",
          "- {kind: ServiceAccount, name: sa}",
          "- {kind: ServiceAccount, name: default}",
          "- {kind: ServiceAccount, name: other, namespace: x}",
          "- {kind: User, name: u}",
        ].join("\n"),
      ].join("\n---\n"),
    });
    const rb = find(objects, "RoleBinding", "p-rb");
    expect(rb.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "p-r" });
    expect(rb.subjects).toEqual([
      { kind: "ServiceAccount", name: "p-sa", namespace: "ns1" },
      { kind: "ServiceAccount", name: "default", namespace: "ns1" },
      { kind: "ServiceAccount", name: "other", namespace: "x" },
      { kind: "User", name: "u" },
    ]);
  });

  it("rewrites Service names in Ingress backends and HPA scale targets", () => {
    const objects = render({
      "kustomization.yaml": "namePrefix: p-\nresources: [r.yaml]\n",
      "r.yaml": [
        deployment("web"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}",
        [
          "apiVersion: networking.k8s.io/v1",
          "kind: Ingress",
          "metadata: {name: web}",
          "spec:",
          "  defaultBackend: {service: {name: web, port: {number: 80}}}",
          "  rules:",
          "  - http:",
          "      paths:",
          "      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}",
        ].join("\n"),
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}",
      ].join("\n---\n"),
    });
    const ing = loose(find(objects, "Ingress", "p-web").spec);
    expect(ing.defaultBackend.service.name).toBe("p-web");
    expect(ing.rules[0].http.paths[0].backend.service.name).toBe("p-web");
    expect(loose(find(objects, "HorizontalPodAutoscaler", "p-web").spec).scaleTargetRef.name).toBe("p-web");
  });

  it("leaves references to objects outside the build alone", () => {
    const objects = render({
      "kustomization.yaml": "namePrefix: p-\nresources: [d.yaml]\n",
      "d.yaml": deployment("web").replace("      containers:", "      serviceAccountName: external\n      containers:"),
    });
    expect(loose(find(objects, "Deployment", "p-web").spec).template.spec.serviceAccountName).toBe("external");
  });
});
