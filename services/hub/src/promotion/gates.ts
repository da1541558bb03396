// The gates a promotion passes before its first wave (and, for freeze, before every wave): each a
// verdict with a reason a person reads and, when it will pass by itself, the time it will.
import { GateKind, GateVerdict, type ApprovalPolicy, type GateResult, type PromotionPolicy, type Release } from "@flotilla/model";
import { freezeState } from "./freeze.js";

export interface UpstreamResult {
  environment: string;
  /** When the release's promotion into the upstream env succeeded; undefined if it has not. */
  succeededAt: Date | undefined;
}

export interface Approval {
  subject: string;
  groups: readonly string[];
}

export interface GateInput {
  policy: PromotionPolicy;
  release: Release;
  requestedBy: string;
  rollback: boolean;
  upstream: UpstreamResult[];
  approvals: Approval[];
  now: Date;
}

export function evaluateGates(i: GateInput): GateResult[] {
  const gates: GateResult[] = [];
  if (!i.rollback) {
    gates.push(digestGate(i.policy, i.release));
    for (const u of i.upstream) gates.push(upstreamGate(u, i.policy.soakMs, i.now));
    if (i.policy.approvals.count > 0) gates.push(approvalGate(i.policy.approvals, i.approvals, i.requestedBy));
  }
  const freeze = freezeState(i.policy.freeze, i.now, i.rollback);
  gates.push(
    freeze.blocked
      ? {
          gate: GateKind.Freeze,
          verdict: GateVerdict.Pending,
          message: `${freeze.window?.kind === "allow" ? "outside every allow window" : `inside freeze window${freeze.window?.name ? ` "${freeze.window.name}"` : ""}`}`,
          ...(freeze.until ? { until: freeze.until } : {}),
        }
      : { gate: GateKind.Freeze, verdict: GateVerdict.Pass, message: "no freeze window blocks" },
  );
  return gates;
}

/** The images of a release that are not pinned by digest. */
export const unpinnedImages = (release: Release): string[] => release.images.filter((i) => !i.digest).map((i) => `${i.name}${i.tag ? `:${i.tag}` : ""}`);

function digestGate(policy: PromotionPolicy, release: Release): GateResult {
  const unpinned = unpinnedImages(release);
  if (policy.digestOnly && unpinned.length) {
    return { gate: GateKind.DigestOnly, verdict: GateVerdict.Fail, message: `images not pinned by digest: ${unpinned.join(", ")}` };
  }
  return { gate: GateKind.DigestOnly, verdict: GateVerdict.Pass, message: policy.digestOnly ? "every image is pinned by digest" : "digests not required" };
}

function upstreamGate(u: UpstreamResult, soakMs: number, now: Date): GateResult {
  if (!u.succeededAt) return { gate: GateKind.Upstream, verdict: GateVerdict.Pending, message: `the release has not succeeded in ${u.environment} yet` };
  const soakEnd = u.succeededAt.getTime() + soakMs;
  if (soakMs > 0 && now.getTime() < soakEnd) {
    return { gate: GateKind.Soak, verdict: GateVerdict.Pending, message: `soaking in ${u.environment}`, until: new Date(soakEnd).toISOString() };
  }
  return { gate: soakMs > 0 ? GateKind.Soak : GateKind.Upstream, verdict: GateVerdict.Pass, message: `succeeded in ${u.environment}${soakMs > 0 ? " and soaked" : ""}` };
}

function approvalGate(policy: ApprovalPolicy, approvals: Approval[], requestedBy: string): GateResult {
  const counted = approvals.filter((a) => (policy.allowSelfApproval || a.subject !== requestedBy) && (!policy.groups || a.groups.some((g) => policy.groups!.includes(g))));
  const who = counted.map((a) => a.subject);
  if (counted.length >= policy.count) return { gate: GateKind.Approval, verdict: GateVerdict.Pass, message: `approved by ${who.join(", ")}` };
  const groups = policy.groups ? ` from ${policy.groups.join(" or ")}` : "";
  return { gate: GateKind.Approval, verdict: GateVerdict.Pending, message: `${counted.length} of ${policy.count} approval(s)${groups}` };
}

/** True when every gate passes; a failed gate means the promotion can never start. */
export const allPass = (gates: readonly GateResult[]): boolean => gates.every((g) => g.verdict === GateVerdict.Pass);
