// What we send in a server-side apply: the manifest without server-owned bookkeeping. Sending
// managedFields or resourceVersion would make the apply a conditional update or rewrite
// ownership; status is written by controllers, not by us.
import type { KubeObject } from "@flotilla/model";
import { clone } from "./json.js";

const serverOwnedMetadata = [
  "managedFields",
  "resourceVersion",
  "uid",
  "creationTimestamp",
  "generation",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
];

export function prepareForApply(o: KubeObject): KubeObject {
  const copy = clone(o);
  for (const f of serverOwnedMetadata) delete copy.metadata[f];
  delete copy["status"];
  return copy;
}
