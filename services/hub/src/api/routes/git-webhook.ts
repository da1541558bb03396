// POST /v1/webhooks/git — a Git server says "pushed"; the hub fetches at once instead of at the next
// poll. Public (no bearer token): the request proves itself with the shared secret, checked over
// the raw body before anything is parsed or refreshed.
//   GitHub  X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>, X-GitHub-Event
//   Gitea   X-Gitea-Signature: <hex HMAC-SHA256(secret, body)> (or X-Hub-Signature-256), X-Gitea-Event
//   GitLab  X-Gitlab-Token: <secret> (GitLab sends the secret itself, not a signature), X-Gitlab-Event
// The refresh runs after the answer: Git servers give up on a webhook after ~10 s, and a render
// can take longer. Deliveries are deduplicated by their id, so a redelivery does not fetch twice.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import type { HubControl } from "../hub-control.js";
import { badRequest } from "../query-params.js";

export interface GitWebhookOptions {
  /** Shared secrets (several, so one can be rotated); each at least 16 characters. */
  secrets: readonly string[];
}

export type GitProvider = "github" | "gitea" | "gitlab";

export interface GitWebhookAnswer {
  provider: GitProvider;
  event: string;
  /** True when the hub is fetching because of this delivery. */
  refreshing: boolean;
  ref?: string;
  after?: string;
  reason?: string;
  /** Set when a follower replica handed the refresh to the leader: the leader's identity. */
  leader?: string;
}

const MIN_SECRET = 16;
const MAX_BODY = 5 * 1024 * 1024;
const SEEN_DELIVERIES = 1000;

const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
const hmacHex = (secret: string, body: Buffer) => createHmac("sha256", secret).update(body).digest();

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Which Git server sent this, and whether its proof matches one of the secrets. */
function verify(request: FastifyRequest, body: Buffer, secrets: readonly string[]): { provider: GitProvider; event: string; delivery?: string } {
  const refuse = (why: string) => new FlotillaError(ErrorCode.WebhookSignatureInvalid, `${why}; nothing was refreshed`);
  const gitlabToken = header(request, "x-gitlab-token");
  if (gitlabToken !== undefined || header(request, "x-gitlab-event") !== undefined) {
    if (gitlabToken === undefined) throw refuse("a GitLab webhook without X-Gitlab-Token: set the secret token in the GitLab webhook");
    const given = Buffer.from(gitlabToken);
    if (!secrets.some((s) => equal(Buffer.from(s), given))) throw refuse("the GitLab webhook's X-Gitlab-Token is not the configured secret");
    const delivery = header(request, "x-gitlab-event-uuid") ?? header(request, "x-gitlab-webhook-uuid");
    return { provider: "gitlab", event: header(request, "x-gitlab-event") ?? "unknown", ...(delivery ? { delivery } : {}) };
  }
  const gitea = header(request, "x-gitea-event") !== undefined || header(request, "x-gitea-signature") !== undefined;
  const provider: GitProvider = gitea ? "gitea" : "github";
  const raw = header(request, "x-hub-signature-256") ?? (gitea ? header(request, "x-gitea-signature") : undefined);
  if (raw === undefined) throw refuse(`a webhook without a signature: configure the secret in the ${provider === "gitea" ? "Gitea" : "GitHub"} webhook (X-Hub-Signature-256${gitea ? " or X-Gitea-Signature" : ""})`);
  const hex = raw.startsWith("sha256=") ? raw.slice(7) : raw;
  const given = /^[0-9a-f]{64}$/i.test(hex) ? Buffer.from(hex, "hex") : Buffer.alloc(0);
  if (!secrets.some((s) => equal(hmacHex(s, body), given))) throw refuse("the webhook's HMAC-SHA256 signature does not match the configured secret");
  const event = (gitea ? header(request, "x-gitea-event") : header(request, "x-github-event")) ?? "unknown";
  const delivery = gitea ? header(request, "x-gitea-delivery") : header(request, "x-github-delivery");
  return { provider, event, ...(delivery ? { delivery } : {}) };
}

const isPush = (provider: GitProvider, event: string) => (provider === "gitlab" ? event === "Push Hook" || event === "Tag Push Hook" : event === "push");

/** Throws FLOTILLA_ERR_CONFIG_INVALID for secrets a Git server could be brute-forced against. */
export function checkGitWebhookOptions(options: GitWebhookOptions): void {
  if (options.secrets.length === 0 || options.secrets.some((s) => s.length < MIN_SECRET)) {
    throw new FlotillaError(ErrorCode.ConfigInvalid, `webhook secrets: give at least one, each at least ${MIN_SECRET} characters`, { location: { field: "webhookSecrets" } });
  }
}

export function gitWebhookRoutes(app: FastifyInstance, hub: HubControl, options: GitWebhookOptions): void {
  checkGitWebhookOptions(options);
  const seen = new Set<string>();
  app.register(async (scope) => {
    // The signature covers the bytes as sent: keep them, parse JSON only after verifying.
    scope.addContentTypeParser(["application/json", "application/x-www-form-urlencoded"], { parseAs: "buffer", bodyLimit: MAX_BODY }, (_request, body, done) => done(null, body));
    scope.post("/v1/webhooks/git", { config: { public: true, errors: [ErrorCode.WebhookSignatureInvalid, ErrorCode.NotLeader] }, bodyLimit: MAX_BODY }, async (request, reply): Promise<GitWebhookAnswer> => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let who;
      try {
        who = verify(request, body, options.secrets);
      } catch (err) {
        request.log.warn({ ip: request.ip, err: (err as Error).message }, "Git webhook refused");
        throw err;
      }
      const { provider, event, delivery } = who;
      if (!isPush(provider, event)) return reply.code(200).send({ provider, event, refreshing: false, reason: `not a push event; nothing to fetch` });
      let payload: { ref?: unknown; after?: unknown; checkout_sha?: unknown };
      try {
        payload = JSON.parse(body.toString("utf8") || "{}");
      } catch {
        // GitHub can send form-encoded payloads; the refresh does not need the payload's content.
        payload = {};
      }
      if (payload === null || typeof payload !== "object") throw badRequest("body", "a push payload must be a JSON object");
      const ref = typeof payload.ref === "string" ? payload.ref : undefined;
      const after = typeof payload.after === "string" ? payload.after : typeof payload.checkout_sha === "string" ? payload.checkout_sha : undefined;
      const answer = { provider, event, ...(ref ? { ref } : {}), ...(after ? { after } : {}) };
      if (delivery !== undefined) {
        if (seen.has(delivery)) return reply.code(200).send({ ...answer, refreshing: false, reason: `delivery ${delivery} was handled already` });
        seen.add(delivery);
        if (seen.size > SEEN_DELIVERIES) seen.delete(seen.values().next().value!);
      }
      request.log.info({ provider, ref, after, delivery }, "Git webhook: refreshing");
      if ((await hub.role?.())?.role === "follower") {
        // A follower hands the refresh to the leader (one NOTIFY: quick); no leader → NOT_LEADER.
        const r = await hub.refresh();
        return reply.code(202).send({ ...answer, refreshing: true, ...("handedOff" in r ? { leader: r.leader } : {}) });
      }
      hub.refresh().catch((err: unknown) => request.log.error({ err }, "refresh after a Git webhook failed; the next poll retries"));
      return reply.code(202).send({ ...answer, refreshing: true });
    });
  });
}
