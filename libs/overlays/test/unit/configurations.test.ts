import { describe, expect, it } from "vitest";
import { find, loose, render } from "./helpers.js";

// A base declares, for its custom resource, which fields hold names, labels, images and so on;
// the overlay's transformers use that. Expected values from `kubectl kustomize` (v5.5).
const config = `nameReference:
- kind: Secret
  fieldSpecs:
  - {path: spec/secretRef/name, kind: MyApp}
- kind: MyApp
  group: example.com
  fieldSpecs:
  - {path: spec/parent, kind: MyApp}
commonLabels:
- {path: spec/selector/matchLabels, kind: MyApp, create: true}
commonAnnotations:
- {path: spec/podAnnotations, kind: MyApp, create: true}
images:
- {path: spec/image, kind: MyApp}
replicas:
- {path: spec/size, kind: MyApp}
nameSpace:
- {path: spec/targetNamespace, kind: MyApp, create: true}
`;

const files = {
  "base/kustomizeconfig.yaml": config,
  "base/kustomization.yaml": "configurations: [kustomizeconfig.yaml]\nresources: [app.yaml]\nsecretGenerator:\n- name: creds\n  literals: [a=b]\n",
  "base/app.yaml":
    "apiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: app}\nspec:\n  image: nginx:1.0\n  size: 1\n  secretRef: {name: creds}\n  parent: other\n---\napiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: other}\nspec:\n  image: busybox\n",
  "o/kustomization.yaml":
    "resources: [../base]\nnamePrefix: p-\nnamespace: ns\ncommonLabels: {team: t}\ncommonAnnotations: {note: n1}\nimages:\n- name: nginx\n  newTag: '2.0'\nreplicas:\n- name: app\n  count: 5\n",
};

describe("configurations", () => {
  it("apply a base's field specs for custom resources in the overlay", () => {
    const app = loose(find(render(files, "o"), "MyApp", "p-app"));
    expect(app.spec).toEqual({
      image: "nginx:2.0",
      parent: "p-other",
      podAnnotations: { note: "n1" },
      secretRef: { name: "p-creds-k695gkmbtk" },
      selector: { matchLabels: { team: "t" } },
      size: 5,
      targetNamespace: "ns",
    });
  });

  it("prefix the fields custom namePrefix field specs name, as kubectl kustomize does", () => {
    const app = loose(find(render({ ...files, "base/kustomizeconfig.yaml": `${config}namePrefix:\n- {path: spec/label, kind: MyApp}\n`,
      "base/app.yaml": "apiVersion: example.com/v1\nkind: MyApp\nmetadata: {name: app}\nspec:\n  label: x\n" }, "o"), "MyApp", "p-app"));
    expect(app.spec).toMatchObject({ label: "p-x" });
  });
});
