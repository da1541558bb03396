// docs/errors.md, ErrorCode and httpStatusOf must tell the same story.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ErrorCode, FlotillaError, httpStatusOf, toErrorInfo, values } from "../src/index.js";

const docs = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");

/** Rows of the docs table: `| \`CODE\` | status | meaning | what to do |`. */
function documentedCodes(): Map<string, number> {
  const rows = new Map<string, number>();
  for (const line of docs.split("\n")) {
    const m = /^\|\s*`(FLOTILLA_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|(.*)\|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const [, code, status, meaning, todo] = m;
    expect(rows.has(code!), `${code} is documented twice`).toBe(false);
    expect(meaning!.trim().length, `${code} has no meaning in docs/errors.md`).toBeGreaterThan(10);
    expect(todo!.trim().length, `${code} has no "what to do" in docs/errors.md`).toBeGreaterThan(3);
    rows.set(code!, Number(status));
  }
  return rows;
}

describe("error codes", () => {
  it("are documented in docs/errors.md with the HTTP status httpStatusOf gives them, and nothing else is", () => {
    const documented = documentedCodes();
    const codes = values(ErrorCode);
    expect([...documented.keys()].sort()).toEqual([...codes].sort());
    for (const code of codes) expect({ code, status: documented.get(code) }).toEqual({ code, status: httpStatusOf[code] });
  });

  it("each have an HTTP status that is a client or server error", () => {
    expect(Object.keys(httpStatusOf).sort()).toEqual(values(ErrorCode).sort());
    for (const status of Object.values(httpStatusOf)) expect(status >= 400 && status < 600).toBe(true);
  });

  it("reach ErrorInfo unchanged, and anything else thrown gets the fallback code", () => {
    const err = new FlotillaError(ErrorCode.NotFound, 'cluster "x" is not in the fleet', { location: { field: "name" } });
    expect(err.httpStatus).toBe(404);
    expect(toErrorInfo(err)).toEqual({ code: "FLOTILLA_ERR_NOT_FOUND", message: 'cluster "x" is not in the fleet', location: { field: "name" } });
    expect(toErrorInfo(new Error("boom"), ErrorCode.Internal)).toEqual({ code: "FLOTILLA_ERR_INTERNAL", message: "boom" });
  });
});
