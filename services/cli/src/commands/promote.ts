// `flotilla promote …`: releases through the pipeline (docs/promotion.md). Read verbs: list, show,
// env, release list|show. Changing verbs (release create, start, approve, …) are in
// promote-actions.ts; --wait follows the event stream (promote-wait.ts).
import { ApiError } from "../client/http.js";
import { positionals, type Invocation } from "../client/command.js";
import { printData } from "../client/output.js";
import { runVerbs, type Verb } from "../client/verbs.js";
import type { Release } from "@flotilla/model";
import { actionVerbs } from "./promote-actions.js";
import type { EnvironmentView, PromotionDetail, PromotionSummary } from "./promote-types.js";
import { environmentsTable, environmentText, promotionsTable, promotionText, releasesTable, releaseLine, imageText } from "./promote-views.js";
import { fields } from "../client/output.js";
import { when } from "./drift.js";

const SUMMARY = "Record releases and promote them through the pipeline's environments: gates, waves, approvals, rollback.";

async function show(inv: Invocation): Promise<number> {
  const [id] = positionals(inv, ["ID"]) as [string];
  const body = await inv.client().get<{ promotion: PromotionDetail }>(`/v1/promotions/${encodeURIComponent(id)}`);
  if (!printData(inv.format, body)) console.log(promotionText(body.promotion));
  return 0;
}

const readVerbs: Verb[] = [
  {
    name: "list",
    summary: "promotions, newest first",
    usage: "[--app A] [--env E] [--state S[,S…]] [--limit N] [-o table|json|yaml]",
    flags: [
      { name: "app", type: "string", description: "only this app" },
      { name: "env", type: "string", description: "only into this environment" },
      { name: "state", type: "string", description: "only in these states, comma-separated (Pending, Running, Halted, Succeeded, …)" },
      { name: "limit", type: "string", description: "how many, 1 to 1000 (default 100)" },
    ],
    async run(inv) {
      positionals(inv, []);
      const body = await inv.client().get<{ promotions: PromotionSummary[] }>("/v1/promotions", { app: inv.str("app"), environment: inv.str("env"), state: inv.str("state"), limit: inv.str("limit") });
      if (!printData(inv.format, body)) console.log(body.promotions.length ? promotionsTable(body.promotions) : "No promotions.");
      return 0;
    },
  },
  {
    name: "show",
    summary: "one promotion: gates (pass/pending/fail, until), approvals, waves, each cluster's outcome, budget, commits",
    usage: "ID [-o table|json|yaml]",
    flags: [],
    run: show,
  },
  {
    name: "env",
    summary: "environments: pipeline, current release per app, holds, freeze state, open promotions",
    usage: "[ENV] [-o table|json|yaml]",
    flags: [],
    async run(inv) {
      const [name] = positionals(inv, ["ENV"], { optional: 1 });
      const body = await inv.client().get<{ environments: EnvironmentView[] }>("/v1/environments");
      if (name === undefined) {
        if (!printData(inv.format, body)) console.log(body.environments.length ? environmentsTable(body.environments) : "No environments.");
        return 0;
      }
      const env = body.environments.find((e) => e.name === name);
      if (!env) throw new ApiError(404, "FLOTILLA_ERR_NOT_FOUND", `environment "${name}" is not in the fleet file (environments: ${body.environments.map((e) => e.name).join(", ")})`, "env");
      if (!printData(inv.format, env)) console.log(environmentText(env));
      return 0;
    },
  },
  {
    name: "release list",
    summary: "releases, newest first",
    usage: "[--app A] [--limit N] [-o table|json|yaml]",
    flags: [
      { name: "app", type: "string", description: "only this app" },
      { name: "limit", type: "string", description: "how many, 1 to 1000 (default 100)" },
    ],
    async run(inv) {
      positionals(inv, []);
      const body = await inv.client().get<{ releases: Release[] }>("/v1/releases", { app: inv.str("app"), limit: inv.str("limit") });
      if (!printData(inv.format, body)) console.log(body.releases.length ? releasesTable(body.releases) : "No releases.");
      return 0;
    },
  },
  {
    name: "release show",
    summary: "one release with its promotions",
    usage: "ID [-o table|json|yaml]",
    flags: [],
    async run(inv) {
      const [id] = positionals(inv, ["ID"]) as [string];
      const body = await inv.client().get<{ release: Release; promotions: PromotionSummary[] }>(`/v1/releases/${encodeURIComponent(id)}`);
      if (printData(inv.format, body)) return 0;
      const r = body.release;
      console.log(fields([["Release", releaseLine(r.id)], ["App", r.app], ["Source", r.sourceRevision], ["Images", r.images.map(imageText).join(", ")], ["Created", `${r.createdBy} at ${when(r.createdAt)}`], ["Note", r.note ?? "-"]]));
      console.log("");
      console.log(body.promotions.length ? promotionsTable(body.promotions) : "Not promoted anywhere yet.");
      return 0;
    },
  },
];

export function runPromote(argv: string[]): Promise<number> {
  return runVerbs("promote", SUMMARY, [...actionVerbs, ...readVerbs], argv);
}
