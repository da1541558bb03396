// Kubernetes label selectors in their string form (`app=web,tier in (a,b),!legacy`), as
// `kubectl -l` and kustomize's labelSelector/annotationSelector accept them.

import { PatchError } from "./patch-error.js";

type Requirement =
  | { op: "exists" | "!"; key: string }
  | { op: "=" | "!=" | "in" | "notin"; key: string; values: string[] }
  | { op: "gt" | "lt"; key: string; value: number };

export type LabelSelector = (labels: Readonly<Record<string, string>>) => boolean;

// Label keys may carry a DNS prefix (`app.kubernetes.io/name`); values are restricted but we
// only need to tell tokens apart, so be generous and let the matcher compare strings.
const TOKEN = /^[A-Za-z0-9_.\-/]*$/;

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function token(raw: string, what: string, selector: string): string {
  const t = raw.trim();
  if (!TOKEN.test(t)) throw new PatchError(`invalid ${what} ${JSON.stringify(t)} in selector ${JSON.stringify(selector)}`);
  return t;
}

function parseRequirement(part: string, selector: string): Requirement {
  const p = part.trim();
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(p);
  if (set) {
    const values = set[3]!.split(",").map((v) => token(v, "value", selector));
    return { op: set[2] as "in" | "notin", key: token(set[1]!, "key", selector), values };
  }
  const cmp = /^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(.*)$/.exec(p);
  if (cmp) {
    const key = token(cmp[1]!, "key", selector);
    const op = cmp[2]!;
    if (op === "<" || op === ">") {
      const value = Number(cmp[3]!.trim());
      if (!Number.isInteger(value)) throw new PatchError(`"${op}" needs an integer in selector ${JSON.stringify(selector)}`);
      return { op: op === ">" ? "gt" : "lt", key, value };
    }
    return { op: op === "!=" ? "!=" : "=", key, values: [token(cmp[3]!, "value", selector)] };
  }
  if (p.startsWith("!")) return { op: "!", key: token(p.slice(1), "key", selector) };
  if (p !== "" && TOKEN.test(p)) return { op: "exists", key: p };
  throw new PatchError(`cannot parse ${JSON.stringify(p)} in selector ${JSON.stringify(selector)}`);
}

function matches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case "exists":
      return has;
    case "!":
      return !has;
    case "=":
    case "in":
      return has && r.values.includes(v!);
    case "!=":
    case "notin":
      return !has || !r.values.includes(v!);
    case "gt":
    case "lt": {
      if (!has || !/^-?[0-9]+$/.test(v!)) return false;
      return r.op === "gt" ? Number(v) > r.value : Number(v) < r.value;
    }
  }
}

/** Parses a selector; the empty selector matches everything. Throws PatchError when malformed. */
export function parseLabelSelector(selector: string): LabelSelector {
  if (selector.trim() === "") return () => true;
  const reqs = splitTopLevel(selector).map((p) => parseRequirement(p, selector));
  return (labels) => reqs.every((r) => matches(r, labels));
}
