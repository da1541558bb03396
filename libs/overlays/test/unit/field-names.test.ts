import { describe, expect, it } from "vitest";
import { canonicalizeFieldNames } from "../../src/field-names.js";

const known = ["namePrefix", "nameSuffix", "resources"] as const;

describe("canonicalizeFieldNames", () => {
  it.each([
    ["exact names stay", { namePrefix: "a" }, { namePrefix: "a" }],
    ["any case matches", { NAMEPREFIX: "a", Resources: [] }, { namePrefix: "a", resources: [] }],
    // Keys are decoded in byte order, the later overwriting: "nameprefix" sorts after "namePrefix".
    ["with two spellings the one sorting last wins", { nameprefix: "lower", namePrefix: "exact" }, { namePrefix: "lower" }],
    ["unknown keys are kept for the caller to refuse", { nameprefixx: "a" }, { nameprefixx: "a" }],
    ["the long s (U+017F) folds to s, as in Go", { "\u017FuffixName": 1, "name\u017Fuffix": "x" }, { "\u017FuffixName": 1, nameSuffix: "x" }],
  ])("%s", (_name, input, expected) => {
    expect(canonicalizeFieldNames({ ...input }, known)).toEqual(expected);
  });
});
