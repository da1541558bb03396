// `replicas:` — sets spec.replicas on the named Deployment / ReplicaSet / StatefulSet /
// ReplicationController (matched by any name it has had); a name that matches nothing is an error.
import { renderFailed } from "../errors.js";
import { specApplies, walkFieldSpec, type FieldSpec } from "../field-spec.js";
import type { ReplicaEntry } from "../kustomization.js";
import { allIds, type Resource } from "../resource.js";

export function applyReplicas(resources: Resource[], replicas: ReplicaEntry[], specs: FieldSpec[], file: string): void {
  replicas.forEach((entry, i) => {
    let found = false;
    for (const spec of specs) {
      for (const r of resources) {
        if (!specApplies(r.obj, spec) || !allIds(r).some((id) => id.name === entry.name)) continue;
        found = true;
        walkFieldSpec(r.obj, spec, (parent, key) => {
          parent[key] = entry.count;
        });
      }
    }
    if (!found) {
      throw renderFailed(
        `replicas: no Deployment, ReplicaSet, StatefulSet or ReplicationController named "${entry.name}"`,
        { file, field: `replicas[${i}]` },
      );
    }
  });
}
