// Manifests and fleet files of the benches' env repos (the lab app: a Namespace and Deployments).

export function namespaceYaml(ns: string): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`;
}

export function deploymentYaml(ns: string, name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
  labels:
    app: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: main
          image: nginx:1.27
`;
}

export interface FleetEntry {
  cluster: string;
  /** Tenant cluster: its namespaces. */
  namespaces?: string[];
  app: string;
  path: string;
}

/** A fleet file: one environment, one app per cluster (selected to that cluster only). */
export function fleetYaml(entries: FleetEntry[]): string {
  const clusters = entries
    .map((e) => `  - name: ${e.cluster}\n    environment: bench\n${e.namespaces ? `    namespaces: [${e.namespaces.join(", ")}]\n` : ""}`)
    .join("");
  const apps = entries.map((e) => `  - name: ${e.app}\n    path: ${e.path}\n    selector:\n      clusters: [${e.cluster}]\n`).join("");
  return `apiVersion: flotilla.dev/v1alpha1\nenvironments:\n  - name: bench\nclusters:\n${clusters}apps:\n${apps}`;
}
