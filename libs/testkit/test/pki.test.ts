// The plane's PKI as the apiserver will read it: a CA that verifies every certificate, a serving
// certificate valid for 127.0.0.1 and localhost, client certificates carrying user and groups.
import { execFileSync } from "node:child_process";
import { X509Certificate, createPublicKey, createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createPki } from "../src/pki.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-pki-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("createPki", () => {
  it("issues a serving certificate and client certificates the CA verifies", async () => {
    const pki = await createPki(dir, "unit", [
      { id: "admin", user: "flotilla-admin", groups: ["system:masters"] },
      { id: "multi", user: "jane", groups: ["team-a", "team-b"] },
    ]);
    const ca = new X509Certificate(pki.caPem);
    expect(ca.ca).toBe(true);

    const serving = new X509Certificate(pki.serving.certPem);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(serving.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(serving.checkHost("localhost")).toBe("localhost");
    expect(serving.checkHost("example.com")).toBeUndefined();

    const admin = new X509Certificate(pki.clients.admin!.certPem);
    expect(admin.verify(ca.publicKey)).toBe(true);
    expect(admin.subject).toContain("CN=flotilla-admin");
    expect(admin.subject).toContain("O=system:masters");
    expect(admin.ca).toBe(false);

    const multi = new X509Certificate(pki.clients.multi!.certPem);
    expect(multi.subject.match(/^O=/gm)).toHaveLength(2);
    expect(multi.checkPrivateKey(createPrivateKey(pki.clients.multi!.keyPem))).toBe(true);

    // Extended key usages: the apiserver accepts client certificates for clientAuth only.
    const text = execFileSync("openssl", ["x509", "-noout", "-ext", "extendedKeyUsage", "-in", pki.clients.admin!.certPath], {
      encoding: "utf8",
    });
    expect(text).toContain("TLS Web Client Authentication");

    // ServiceAccount signing pair: the public half matches the private one.
    const sa = createPrivateKey(readFileSync(pki.saKeyPath, "utf8"));
    expect(createPublicKey(sa).export({ type: "spki", format: "pem" })).toBe(readFileSync(pki.saPubPath, "utf8"));
  });
});
