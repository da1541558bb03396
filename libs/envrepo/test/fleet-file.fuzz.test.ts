// Bad-input property test of the fleet file (docs/bad-input.md): seeded mutations of a valid
// fleet file either parse or are refused with FleetFileErrors naming the file (and the field when
// the YAML itself is readable) — never an uncaught TypeError / RangeError.
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ErrorCode, FleetFileError } from "@flotilla/model";
import { readFleet } from "@flotilla/envrepo";
import { forEachSeed, mutateText, mutateValue } from "@flotilla/testkit/mutate";

const FILE = "fleets/prod/flotilla.yaml";
const VALID = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    drift: warn
    promotion: { autoPromote: true }
  - name: prod
    prune: false
    requireDigests: true
    secrets: refuse
    ignore:
      - { kind: Deployment, paths: ["/spec/replicas"] }
    promotion:
      from: [dev]
      soak: 1h30m
      approvals: { count: 1, groups: [sre] }
      freeze:
        - { name: holidays, kind: deny, start: "2026-12-24T00:00:00Z", end: "2026-12-27T00:00:00Z" }
        - { name: weekdays, kind: allow, days: [mon, fri], from: "08:00", to: "17:00" }
      rollout:
        progressDeadline: 10m
        waves:
          - { name: canary, selector: { matchLabels: { ring: canary } } }
          - { name: all, percent: 100, failureBudget: 1, pause: 1m }
clusters:
  - { name: dev-1, environment: dev, labels: { region: eu } }
  - { name: prod-1, environment: prod, labels: { ring: canary }, namespaces: [team-a] }
  - { name: prod-2, environment: prod }
apps:
  - { name: shop, path: ./apps/shop/ }
  - name: billing
    path: apps/billing
    drift: observe
    selector: { environments: [prod], clusters: [prod-1], matchLabels: { ring: canary } }
`;

/** Block YAML, or JSON (also YAML) when the yaml printer itself cannot go that deep. */
function toYaml(v: unknown): string {
  try {
    return stringify(v, { aliasDuplicateObjects: false });
  } catch (err) {
    if (err instanceof RangeError) return JSON.stringify(v);
    throw err;
  }
}

/** Checks one fleet text: parsed, or refused with typed errors that name the file. */
function expectParsedOrNamed(text: string, what: string, fieldExpected: boolean): "ok" | "refused" {
  const r = readFleet(text, FILE);
  if (r.ok) return "ok";
  expect(r.errors.length, what).toBeGreaterThan(0);
  for (const e of r.errors) {
    expect(e, what).toBeInstanceOf(FleetFileError);
    expect(e.code, what).toBe(ErrorCode.FleetFileInvalid);
    expect(e.location?.file, what).toBe(FILE);
    expect(e.message.startsWith(FILE), `${what}: ${e.message}`).toBe(true);
    // Readable YAML of the wrong shape: the error says which field (or that the whole file is wrong).
    if (fieldExpected && !/invalid YAML|is empty|YAML documents/.test(e.message)) {
      expect(e.location?.field !== undefined || /must be a mapping with apiVersion/.test(e.message), `${what}: ${e.message}`).toBe(true);
    }
  }
  return "refused";
}

describe("fleet file under bad input", () => {
  it("the base fleet file is valid", () => {
    expect(readFleet(VALID, FILE).ok).toBe(true);
  });

  it("500 seeded structural mutations parse or name the file and field", async () => {
    const base = parse(VALID) as unknown;
    const seen = { ok: 0, refused: 0 };
    await forEachSeed(500, (rng) => {
      const m = mutateValue(base, rng, { hugeBytes: 20_000 });
      const text = m.value === undefined ? "" : toYaml(m.value);
      seen[expectParsedOrNamed(text, m.what, true)]++;
    });
    // Most mutations must be refused; some (a duplicated label, an appended string) stay valid.
    expect(seen.refused).toBeGreaterThan(seen.ok);
  });

  it("500 seeded text mutations (truncation, NUL, stray tokens) parse or name the file", async () => {
    await forEachSeed(500, (rng) => {
      const m = mutateText(VALID, rng);
      expectParsedOrNamed(m.text, m.what, false);
    });
  });
});
