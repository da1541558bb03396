// The shape of a LIST call, shared by the client (which makes it) and the watch (which lists before
// it watches): its own file, so client.ts and watch.ts do not import each other.
import type { KubeObject } from "@flotilla/model";

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}
