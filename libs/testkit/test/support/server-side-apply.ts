// Server-side apply as the agent does it: the raw object as JSON (valid YAML) in a PATCH with
// Content-Type application/apply-patch+yaml, a field manager and force.
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest, type KubeResponse } from "../../src/index.js";

interface Applied {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const plurals: Record<string, string> = { Deployment: "deployments", ConfigMap: "configmaps", ClusterRole: "clusterroles" };

export function objectPath(obj: Applied): string {
  const plural = plurals[obj.kind];
  if (!plural) throw new Error(`no plural known for ${obj.kind}`);
  const base = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = obj.metadata.namespace ? `/namespaces/${obj.metadata.namespace}` : "";
  return `${base}${ns}/${plural}/${obj.metadata.name}`;
}

export function serverSideApply(kc: KubeConfig, obj: Applied, fieldManager = "flotilla"): Promise<KubeResponse> {
  return kubeRequest(kc, {
    method: "PATCH",
    path: `${objectPath(obj)}?fieldManager=${fieldManager}&force=true`,
    body: JSON.stringify(obj),
    contentType: "application/apply-patch+yaml",
  });
}
