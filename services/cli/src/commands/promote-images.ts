// `--image` of `flotilla promote release create`: `name@sha256:…`, `name:tag@sha256:…` or
// `name:tag` (refused by environments with digestOnly). A registry port (`host:5000/x`) is part
// of the name: a tag is only what follows the last colon after the last slash.
import type { ReleaseImage } from "@flotilla/model";
import { UsageError } from "../args.js";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function parseImage(value: string, command: string): ReleaseImage {
  const hint = `give name@sha256:<64 hex>, name:tag@sha256:<64 hex> or name:tag (such as ghcr.io/acme/shop@sha256:…)`;
  const at = value.indexOf("@");
  const ref = at < 0 ? value : value.slice(0, at);
  const digest = at < 0 ? undefined : value.slice(at + 1);
  if (digest !== undefined && !DIGEST.test(digest)) throw new UsageError(`flotilla ${command}: --image "${value}": the digest "${digest}" is not sha256:<64 lowercase hex>; ${hint}`);
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  const hasTag = colon > slash;
  const name = hasTag ? ref.slice(0, colon) : ref;
  const tag = hasTag ? ref.slice(colon + 1) : undefined;
  if (!name || tag === "") throw new UsageError(`flotilla ${command}: --image "${value}": ${hint}`);
  if (digest === undefined && tag === undefined) throw new UsageError(`flotilla ${command}: --image "${value}" has neither a tag nor a digest; ${hint}`);
  return { name, ...(digest ? { digest } : {}), ...(tag ? { tag } : {}) };
}
