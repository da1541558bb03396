// APIService: the aggregator's Available condition says whether the API it registers is served.
// Argo CD reports Available=False as Progressing; an unavailable API breaks every client of that
// group (and kubectl discovery), so False is Degraded here, with the aggregator's message.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { conditionOf, nameOf } from "../fields.js";
import { HealthReason } from "../reasons.js";
import { degraded, healthy, progressing, type HealthResult } from "../result.js";

export function apiServiceHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  const available = conditionOf(o, "Available");
  if (available?.status === "True") return healthy(`${name} is available`);
  if (available?.status === "False") {
    const detail = [available.reason, available.message].filter(Boolean).join(": ");
    return degraded(HealthReason.NotAvailable, `${name} is not available${detail ? `: ${detail}` : ""}`);
  }
  return progressing(Reason.InProgress, `${name}: waiting for the aggregator to report availability`);
}
