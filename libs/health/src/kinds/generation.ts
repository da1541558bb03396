// kstatus' first rule for every kind: a controller that has not observed the latest generation
// says nothing about it yet, however ready the rest of the status looks.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { nameOf, num, statusOf } from "../fields.js";
import { progressing, type HealthResult } from "../result.js";

export function generationNotObserved(o: KubeObject): HealthResult | undefined {
  const generation = o.metadata["generation"];
  const observed = statusOf(o)["observedGeneration"];
  if (typeof generation !== "number" || typeof observed !== "number") return undefined;
  if (observed >= generation) return undefined;
  return progressing(
    Reason.LatestGenerationNotObserved,
    `${nameOf(o)}: generation ${generation} not yet observed by its controller (observed ${num(observed)})`,
  );
}
