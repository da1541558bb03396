// What the end-to-end tests put in their env repo (the fleet file, the shop app's Deployment),
// what they read back from the API, and the agents' console logger — shared so each test file
// only says what is particular to its scenario.

/** Logs an agent's lines with its cluster name (the fleet's logger interface). */
export const consoleLogger = (cluster: string) => {
  const line = (level: string) => (obj: object, msg: string) => console.log(`[${cluster}] ${level} ${msg} ${JSON.stringify(obj)}`);
  return { info: line("info"), warn: line("warn"), error: line("error") };
};

/** `flotilla.yaml` with the app "shop" (apps/shop) on the given clusters; environments in order of first use. */
export function fleetFile(clusters: readonly { name: string; environment: string }[]): string {
  const environments = [...new Set(clusters.map((c) => c.environment))];
  return `apiVersion: flotilla.dev/v1alpha1
environments:
${environments.map((e) => `  - name: ${e}\n`).join("")}clusters:
${clusters.map((c) => `  - name: ${c.name}\n    environment: ${c.environment}\n`).join("")}apps:
  - name: shop
    path: apps/shop
`;
}

export interface InventoryApiOptions {
  namespace: string;
  replicas: number;
  /** Also label the Deployment itself (not only its pods) with app: inventory-api. */
  metadataLabels?: boolean;
  /** A containerPort on the api container. */
  containerPort?: number;
}

/** The shop app's Deployment inventory-api (nginx), as a manifest file. */
export function inventoryApiDeployment(o: InventoryApiOptions): string {
  const labels = o.metadataLabels ? "  labels:\n    app: inventory-api\n" : "";
  const ports = o.containerPort === undefined ? "" : `          ports:\n            - containerPort: ${o.containerPort}\n`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: inventory-api
  namespace: ${o.namespace}
${labels}spec:
  replicas: ${o.replicas}
  selector:
    matchLabels:
      app: inventory-api
  template:
    metadata:
      labels:
        app: inventory-api
    spec:
      containers:
        - name: api
          image: nginx:1.27
${ports}`;
}

/** GET /v1/clusters/:name (the fields the tests read). */
export interface ClusterView {
  name: string;
  desired: { revision: string; generation: number; bundleDigest: string } | null;
  observedRevision: string | null;
  syncState: string;
  health: string;
  lastError: { code: string; message: string } | null;
  openDriftCount: number;
}
