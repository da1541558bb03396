// useSharedControlPlane's namespaces: one made inside a test is deleted when that test ends, one
// made in beforeAll lives until the file is done.
import { beforeAll, describe, expect, it } from "vitest";
import { kubeRequest } from "../src/index.js";
import { useSharedControlPlane } from "../src/vitest.js";

const plane = useSharedControlPlane();

async function phase(ns: string): Promise<string> {
  const res = await kubeRequest<{ status?: { phase?: string } }>(plane.kubeConfig, { path: `/api/v1/namespaces/${ns}` });
  return res.status === 404 ? "Gone" : (res.body.status?.phase ?? `HTTP ${res.status}`);
}

describe("useSharedControlPlane", () => {
  let forTheFile = "";
  let forOneTest = "";

  beforeAll(async () => {
    forTheFile = await plane.freshNamespace("file-wide");
  });

  it("creates namespaces ready for Pods, named after the label", async () => {
    forOneTest = await plane.freshNamespace("One Test!");
    expect(forOneTest).toMatch(/^one-test-[0-9a-f]{6}$/);
    expect(await phase(forOneTest)).toBe("Active");
    const sa = await kubeRequest(plane.kubeConfig, { path: `/api/v1/namespaces/${forOneTest}/serviceaccounts/default` });
    expect(sa.status).toBe(200);
    expect(plane.nodes).toHaveLength(2);
  });

  it("deleted the previous test's namespace and keeps the file's", async () => {
    expect(["Terminating", "Gone"]).toContain(await phase(forOneTest));
    expect(await phase(forTheFile)).toBe("Active");
  });
});
