// Ingress: ready once its controller has published an address (Argo CD's rule). An entry without
// an ip or hostname (some controllers write `{}` first) does not count.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { arr, nameOf, obj, statusOf, str } from "../fields.js";
import { healthy, progressing, type HealthResult } from "../result.js";

export function ingressHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  const addresses = arr(obj(statusOf(o)["loadBalancer"])["ingress"])
    .map(obj)
    .map((i) => str(i["ip"]) || str(i["hostname"]))
    .filter((a): a is string => Boolean(a));
  if (addresses.length === 0) return progressing(Reason.LoadBalancerPending, `${name}: no address published by its controller yet`);
  return healthy(`${name}: served at ${addresses.join(", ")}`);
}
