// The container image fields of a workload object, with their paths: what environment checks
// look at, and what a plain manifest remembers the line of (manifests.ts).
import type { KubeObject } from "@flotilla/model";

/** Each container image with the path of its field in the object. */
export function imageFields(obj: KubeObject): { image: string; field: (string | number)[] }[] {
  const spec = obj.spec as Record<string, unknown> | undefined;
  const podSpecs: { spec: unknown; at: string[] }[] = [];
  if (obj.kind === "Pod") podSpecs.push({ spec, at: ["spec"] });
  const template = spec?.template as { spec?: unknown } | undefined;
  if (template?.spec) podSpecs.push({ spec: template.spec, at: ["spec", "template", "spec"] });
  const jobTemplate = spec?.jobTemplate as { spec?: { template?: { spec?: unknown } } } | undefined;
  if (jobTemplate?.spec?.template?.spec) podSpecs.push({ spec: jobTemplate.spec.template.spec, at: ["spec", "jobTemplate", "spec", "template", "spec"] });
  const out: { image: string; field: (string | number)[] }[] = [];
  for (const { spec: ps, at } of podSpecs) {
    const p = ps as Record<string, unknown> | undefined;
    for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
      const containers = p?.[list];
      if (!Array.isArray(containers)) continue;
      containers.forEach((c, i) => {
        const image = c && typeof c === "object" ? (c as { image?: unknown }).image : undefined;
        if (typeof image === "string") out.push({ image, field: [...at, list, i, "image"] });
      });
    }
  }
  return out;
}
