// The agent's inventories: one ConfigMap per app in the inventory namespace (the format of
// @flotilla/kube's inventory.ts), labelled so the agent can list every app it ever applied on this
// cluster — including apps that have since left the bundle — and annotated with the app's prune
// policy, so an app that disappears is pruned only if its last policy allowed it (also after an
// agent restart, when the previous bundle is no longer in memory).
import type { InventoryEntry, KubeClient, KubeResult } from "@flotilla/kube";
import { INVENTORY_DATA_KEY, Label, decodeInventory, encodeInventory, inventoryName } from "@flotilla/kube";
import type { KubeObject } from "@flotilla/model";

/** Label on every inventory ConfigMap (set by @flotilla/kube too). */
export const INVENTORY_LABEL = "flotilla.dev/inventory";
/** Annotation: the app's prune policy when its inventory was last written ("true" | "false"). */
export const INVENTORY_PRUNE_ANNOTATION = "flotilla.dev/app-prune";

export interface StoredInventory {
  app: string;
  entries: InventoryEntry[];
  /** The app's prune policy when it was last applied. */
  prune: boolean;
}

export class AppInventories {
  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly cluster: string,
    private readonly fieldManager: string,
  ) {}

  /** Stores an app's inventory (creating the inventory namespace when it is missing). */
  async write(app: string, entries: readonly InventoryEntry[], prune: boolean): Promise<KubeResult<void>> {
    const cm: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: inventoryName(app),
        namespace: this.namespace,
        labels: { [Label.App]: app, [Label.Cluster]: this.cluster, [INVENTORY_LABEL]: "true" },
        annotations: { [INVENTORY_PRUNE_ANNOTATION]: String(prune) },
      },
      data: { [INVENTORY_DATA_KEY]: encodeInventory(entries) },
    };
    const opts = { fieldManager: this.fieldManager, force: true };
    let r = await this.client.apply(cm, opts);
    if (!r.ok && r.failure.status === 404 && r.failure.detailsKind === "namespaces") {
      const ns = await this.client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: this.namespace } }, opts);
      if (!ns.ok) return ns;
      r = await this.client.apply(cm, opts);
    }
    return r.ok ? { ok: true, value: undefined } : r;
  }

  /** Every inventory this cluster's agent wrote in the inventory namespace. */
  async list(): Promise<KubeResult<StoredInventory[]>> {
    const r = await this.client.list("v1", "ConfigMap", { namespace: this.namespace, labelSelector: `${INVENTORY_LABEL}=true,${Label.Cluster}=${this.cluster}` });
    if (!r.ok) return r;
    const out: StoredInventory[] = [];
    for (const cm of r.value.items) {
      const app = cm.metadata.labels?.[Label.App];
      const text = (cm["data"] as Record<string, unknown> | undefined)?.[INVENTORY_DATA_KEY];
      if (!app || typeof text !== "string") continue;
      let entries: InventoryEntry[];
      try {
        entries = decodeInventory(text);
      } catch {
        continue; // unreadable: leave it alone rather than prune by a guess
      }
      out.push({ app, entries, prune: cm.metadata.annotations?.[INVENTORY_PRUNE_ANNOTATION] === "true" });
    }
    return { ok: true, value: out };
  }

  async remove(app: string): Promise<KubeResult<"deleted" | "absent">> {
    return this.client.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: this.namespace, name: inventoryName(app) });
  }
}
