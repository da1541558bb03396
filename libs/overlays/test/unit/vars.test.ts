import { describe, expect, it } from "vitest";
import { expand, fieldValue } from "../../src/vars.js";

const values: Record<string, unknown> = { HOST: "db", PORT: 5432, ON: true };
const mapping = (name: string) => (name in values ? values[name] : `$(${name})`);

describe("vars expansion (kustomize's DoReplacements)", () => {
  it.each([
    ["exactly one reference keeps the type", "$(PORT)", 5432],
    ["inside a string the value is printed", "tcp://$(HOST):$(PORT)", "tcp://db:5432"],
    ["$$ is a literal $", "$$(HOST)", "$(HOST)"],
    ["an unknown name stays as written", "$(NOPE)-$(HOST)", "$(NOPE)-db"],
    ["a lone or trailing $ stays", "a $ b $", "a $ b $"],
    ["$ before another character stays", "$x", "$x"],
    ["an unclosed reference stays", "$(HOST", "$(HOST"],
    ["booleans", "$(ON)", true],
  ])("%s", (_name, input, expected) => {
    expect(expand(input, mapping)).toEqual(expected);
  });
});

describe("var field paths (kyaml's GetFieldValue)", () => {
  const obj = { spec: { ports: [{ name: "http", port: 80 }, { name: "https", port: 443 }] } };
  it.each([
    ["spec.ports[1].port", 443],
    ["spec.ports.0.name", "http"],
    ["spec.ports.[name=https].port", 443],
    ["spec.ports[2].port", undefined],
    ["spec.missing", undefined],
  ])("%s", (path, expected) => {
    expect(fieldValue(obj, path)).toEqual(expected);
  });
});
