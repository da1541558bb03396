// The verbs of `flotilla promote` that change something: release create, start, approve, reject,
// pause, resume, abort, cancel, retry, skip, rollback. Every POST carries an Idempotency-Key
// (generated, or --idempotency-key) so a retry after a lost answer does the thing once.
import { randomUUID } from "node:crypto";
import { parseDuration } from "@flotilla/envrepo";
import { UsageError, type FlagSpec } from "../args.js";
import { positionals, requireFlag, type Invocation } from "../client/command.js";
import { ConnectionError } from "../client/http.js";
import { printData } from "../client/output.js";
import type { Verb } from "../client/verbs.js";
import { parseImage } from "./promote-images.js";
import type { PromotionDetail, ReleaseCreated } from "./promote-types.js";
import { releaseCreatedText } from "./promote-views.js";
import { waitForPromotion } from "./promote-wait.js";

const IDEMPOTENCY: FlagSpec = { name: "idempotency-key", type: "string", description: "the Idempotency-Key header (default: a new random one); the same key and body answer what the first call answered" };
const WAIT: FlagSpec[] = [
  { name: "wait", type: "boolean", description: "follow the promotion's events (one line each on stderr) until it ends: exit 0 Succeeded, 5 ended otherwise, 6 --timeout" },
  { name: "timeout", type: "string", description: "with --wait: stop waiting after this long (30s, 10m, 2h); the promotion goes on (exit 6)" },
];

/** POST with an Idempotency-Key; when the answer is lost the message says which key to retry with. */
export async function postIdempotent<T>(inv: Invocation, path: string, body: unknown): Promise<T> {
  const key = inv.str("idempotency-key") ?? randomUUID();
  try {
    const res = await inv.client().request<T>("POST", path, { body, headers: { "idempotency-key": key } });
    if (res.headers.get("idempotent-replayed") === "true") console.error(`flotilla ${inv.spec.name}: the hub already answered Idempotency-Key "${key}"; this is that answer, nothing was done again`);
    return res.body;
  } catch (err) {
    if (err instanceof ConnectionError) throw new ConnectionError(`${err.message}; the request may or may not have been applied — run it again with --idempotency-key ${key} to be sure it happens once`);
    throw err;
  }
}

function timeoutOf(inv: Invocation): number | undefined {
  const t = inv.str("timeout");
  if (t === undefined) return undefined;
  if (!inv.bool("wait")) throw new UsageError(`flotilla ${inv.spec.name}: --timeout only bounds --wait; add --wait or drop --timeout`);
  const ms = parseDuration(t);
  if (ms === undefined || ms <= 0) throw new UsageError(`flotilla ${inv.spec.name}: --timeout "${t}" is not a duration with a unit, such as 30s, 10m or 2h`);
  return ms;
}

export function actionLine(what: string, p: PromotionDetail): string {
  return `${what} ${p.id} (${p.app} ${p.releaseId} → ${p.environment}): ${p.state}${p.reason ? ` — ${p.reason}` : ""}`;
}

/** Prints the answer, then follows the promotion when --wait is given. */
async function answer(inv: Invocation, what: string, body: { promotion: PromotionDetail }, timeoutMs: number | undefined): Promise<number> {
  if (!printData(inv.format, body)) console.log(actionLine(what, body.promotion));
  if (!inv.bool("wait")) return 0;
  return waitForPromotion(inv.client(), body.promotion.id, { since: body.promotion.updatedAt, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
}

interface Simple {
  name: "approve" | "reject" | "pause" | "resume" | "abort" | "cancel" | "retry" | "rollback";
  done: string;
  summary: string;
  text?: "comment" | "reason";
  wait?: boolean;
}

const SIMPLE: Simple[] = [
  { name: "approve", done: "approved", summary: "approve a Pending promotion (not your own unless the environment allows it)", text: "comment", wait: true },
  { name: "reject", done: "rejected", summary: "reject a Pending, Running or Verifying promotion", text: "comment" },
  { name: "pause", done: "paused", summary: "pause: no further wave starts until resume" },
  { name: "resume", done: "resumed", summary: "resume a Paused or Halted promotion", wait: true },
  { name: "abort", done: "aborted", summary: "abort an open promotion (nothing is reverted: roll back for that)", text: "reason" },
  { name: "cancel", done: "cancelled", summary: "cancel a Pending promotion" },
  { name: "retry", done: "retried", summary: "retry an Errored promotion where it was", wait: true },
  { name: "rollback", done: "rolling back with", summary: "revert the lock files the promotion committed, rolled out as a new promotion (higher generations); the release is held", text: "reason", wait: true },
];

function simpleVerb(v: Simple): Verb {
  const textFlag: FlagSpec[] = v.text ? [{ name: v.text, type: "string", description: v.text === "comment" ? "a comment, recorded with the approval or rejection" : "why, recorded in the promotion's events" }] : [];
  return {
    name: v.name,
    summary: v.summary,
    usage: `ID${v.text ? ` [--${v.text} TEXT]` : ""}${v.wait ? " [--wait [--timeout D]]" : ""} [--idempotency-key K] [-o table|json|yaml]`,
    flags: [...textFlag, IDEMPOTENCY, ...(v.wait ? WAIT : [])],
    async run(inv) {
      const [id] = positionals(inv, ["ID"]) as [string];
      const timeoutMs = v.wait ? timeoutOf(inv) : undefined;
      const text = v.text ? inv.str(v.text) : undefined;
      const body = await postIdempotent<{ promotion: PromotionDetail }>(inv, `/v1/promotions/${encodeURIComponent(id)}/${v.name}`, text !== undefined ? { [v.text!]: text } : {});
      return answer(inv, v.done, body, timeoutMs);
    },
  };
}

export const actionVerbs: Verb[] = [
  {
    name: "release create",
    summary: "record a release (POST /v1/releases); entry environments with autoPromote start promoting it",
    usage: "--app A --commit SHA --image NAME@sha256:… [--image …] [--note TEXT] [--idempotency-key K] [-o table|json|yaml]",
    flags: [
      { name: "app", type: "string", description: "the app of the fleet file" },
      { name: "commit", type: "string", description: "the source commit the images were built from" },
      { name: "image", type: "string", multiple: true, description: "an image: name@sha256:…, name:tag@sha256:… or name:tag (repeat for each)" },
      { name: "note", type: "string", description: "free text: a CI build URL, a changelog line" },
      IDEMPOTENCY,
    ],
    async run(inv) {
      positionals(inv, []);
      const app = requireFlag(inv, "app", "the app the release is of");
      const sourceRevision = requireFlag(inv, "commit", "the source commit the images were built from");
      const images = inv.list("image").map((i) => parseImage(i, inv.spec.name));
      if (!images.length) throw new UsageError(`flotilla ${inv.spec.name}: --image is required (once per image): name@sha256:<64 hex>\nUsage: ${inv.spec.usage}`);
      const note = inv.str("note");
      const body = await postIdempotent<ReleaseCreated>(inv, "/v1/releases", { app, sourceRevision, images, ...(note !== undefined ? { note } : {}) });
      if (!printData(inv.format, body)) console.log(releaseCreatedText(body));
      return 0;
    },
  },
  {
    name: "start",
    summary: "promote a release into an environment (POST /v1/promotions): Pending until its gates pass",
    usage: "--release R --env E [--wait [--timeout D]] [--idempotency-key K] [-o table|json|yaml]",
    flags: [
      { name: "release", type: "string", description: "the release id (rel-<app>-…)" },
      { name: "env", type: "string", description: "the environment to promote into" },
      IDEMPOTENCY,
      ...WAIT,
    ],
    async run(inv) {
      positionals(inv, []);
      const release = requireFlag(inv, "release", "the release to promote (flotilla promote release list)");
      const environment = requireFlag(inv, "env", "the environment to promote into (flotilla promote env)");
      const timeoutMs = timeoutOf(inv);
      const body = await postIdempotent<{ promotion: PromotionDetail }>(inv, "/v1/promotions", { release, environment });
      return answer(inv, "created", body, timeoutMs);
    },
  },
  ...SIMPLE.map(simpleVerb),
  {
    name: "skip",
    summary: "take one cluster out of a promotion (it stays Skipped; the wave goes on without it)",
    usage: "ID --cluster C --reason TEXT [--idempotency-key K] [-o table|json|yaml]",
    flags: [
      { name: "cluster", type: "string", description: "the cluster to skip" },
      { name: "reason", type: "string", description: "why (required, audited as an event)" },
      IDEMPOTENCY,
    ],
    async run(inv) {
      const [id] = positionals(inv, ["ID"]) as [string];
      const cluster = requireFlag(inv, "cluster", "the cluster to take out of the promotion");
      const reason = requireFlag(inv, "reason", "why the cluster is skipped (audited)");
      const body = await postIdempotent<{ promotion: PromotionDetail }>(inv, `/v1/promotions/${encodeURIComponent(id)}/clusters/${encodeURIComponent(cluster)}/skip`, { reason });
      return answer(inv, `skipped ${cluster} in`, body, undefined);
    },
  },
];
