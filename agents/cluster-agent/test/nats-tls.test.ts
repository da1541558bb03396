// The hub and an agent over TLS to a real nats-server (a throwaway CA made with openssl, see
// @flotilla/testkit privateTlsNats): the hub publishes and ingests with --nats-ca, the agent
// reads its verified pointer and reports; a missing CA, a missing client certificate on a mutual
// TLS server and half a client pair are errors naming the flag to pass.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "@flotilla/model";
import { createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { startHub, type Hub } from "@flotilla/hub";
import { createTestDatabase, privateTlsNats, waitFor, type PrivateTlsNats } from "@flotilla/testkit";
import { generateSigningKey, natsTlsOptions, NatsTlsError, type SigningKey } from "@flotilla/wire";
import type { NatsConnection } from "@nats-io/transport-node";
import { connectAgentNats, NatsDesiredStateSource, NatsReporter, startAgent } from "../src/index.js";
import type { VerifiedDesired } from "../src/ports.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/env-repo", import.meta.url));
const FAST = { initialMs: 50, maxMs: 500 };
const PREFIX = `tls${process.pid}`;

describe("NATS over TLS (server certificate from a private CA)", () => {
  let nats: PrivateTlsNats;
  let hub: Hub;
  let key: SigningKey;
  let databaseUrl: string;
  let drop: () => Promise<void>;
  let repoDir: string;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    nats = await privateTlsNats();
    repoDir = await mkdtemp(join(tmpdir(), "flotilla-tls-repo-"));
    await createWorkRepo(repoDir, await readFilesFrom(EXAMPLE));
    const db = await createTestDatabase("nats_tls");
    databaseUrl = db.url;
    drop = db.drop;
    key = generateSigningKey();
    hub = await startHub({
      auth: { insecureNoAuth: true },
      repo: { path: repoDir },
      databaseUrl,
      natsUrl: nats.url,
      natsTls: { caFile: nats.caPath },
      natsPrefix: PREFIX,
      signingKey: key,
      port: 0,
      pollIntervalMs: 3_600_000,
    });
  }, 90_000);
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await hub?.stop();
    await nats?.dispose();
    await drop?.();
    await rm(repoDir, { recursive: true, force: true });
  });

  it("the hub connects with --nats-ca; an agent reads its verified pointer and its report is ingested", async () => {
    expect(hub.nc.info?.tls_required).toBe(true);
    const tls = natsTlsOptions(nats.url, { caFile: nats.caPath });
    let shared: Promise<NatsConnection> | undefined;
    const connection = () => (shared ??= connectAgentNats({ servers: nats.url, ...(tls ? { tls } : {}) }));
    cleanups.push(async () => (await shared)?.close());
    const errorsSeen: string[] = [];
    const source = new NatsDesiredStateSource({
      connection,
      names: hub.names,
      cluster: "dev-1",
      publicKey: key.publicKey,
      cacheDir: join(nats.dir, "cache"),
      retry: FAST,
      onError: (err, during) => errorsSeen.push(`${during}: ${String(err)}`),
    });
    cleanups.push(() => source.stop());
    const desired: VerifiedDesired[] = [];
    await source.start({ onDesired: (d) => desired.push(d), onRefused: () => undefined });
    await waitFor(() => desired.length === 1, { what: "dev-1's desired state over TLS", timeoutMs: 20_000 });
    expect(desired[0]?.bundle.cluster).toBe("dev-1");

    const reporter = new NatsReporter({ connection, names: hub.names, cluster: "dev-1", agent: "dev-1/tls/1", spoolDir: join(nats.dir, "spool"), retry: FAST });
    cleanups.push(() => reporter.stop());
    const before = hub.ingest.counts.ingested;
    reporter.heartbeat({ generation: desired[0]!.pointer.generation, deadlineSeconds: 30 });
    await reporter.flush();
    await waitFor(() => hub.ingest.counts.ingested > before, { what: `the heartbeat ingested (counts ${JSON.stringify(hub.ingest.counts)})`, timeoutMs: 20_000 });
    expect(errorsSeen).toEqual([]);
  });

  it("without the CA, the hub and the agent fail with an error naming --nats-ca", async () => {
    const noCa = startHub({ auth: { insecureNoAuth: true }, repo: { path: repoDir }, databaseUrl, natsUrl: nats.url, natsPrefix: PREFIX, signingKey: key, port: 0, pollIntervalMs: 3_600_000 });
    await expect(noCa).rejects.toThrow(NatsTlsError);
    await expect(noCa).rejects.toThrow(/^NATS at tls:\/\/127\.0\.0\.1:\d+: certificate signed by an unknown authority .*pass --nats-ca \(NATS_CA\) <file>/);
    await expect(connectAgentNats({ servers: nats.url, tls: {} })).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid, message: expect.stringMatching(/unknown authority.*--nats-ca/) });
    // A nats:// URL against a TLS server is upgraded by nats.js, and fails the same way.
    await expect(connectAgentNats({ servers: `nats://127.0.0.1:${nats.port}` })).rejects.toThrow(/unknown authority.*--nats-ca/);
  });

  it("a CA that did not sign the server's certificate is named as the wrong one", async () => {
    const other = await privateTlsNats();
    cleanups.push(() => other.dispose());
    const tls = natsTlsOptions(nats.url, { caFile: other.caPath })!;
    await expect(connectAgentNats({ servers: nats.url, tls })).rejects.toThrow(`the CA in --nats-ca (NATS_CA) ${other.caPath} did not sign it`);
  });
});

describe("NATS with mutual TLS (server verifies client certificates)", () => {
  let nats: PrivateTlsNats;
  beforeAll(async () => {
    nats = await privateTlsNats({ verify: true, clients: ["agent-a"] });
  }, 30_000);
  afterAll(async () => {
    await nats?.dispose();
  });

  it("connects with --nats-cert and --nats-key", async () => {
    const client = nats.client("agent-a");
    const nc = await connectAgentNats({ servers: nats.url, tls: natsTlsOptions(nats.url, { caFile: nats.caPath, certFile: client.certPath, keyFile: client.keyPath })! });
    try {
      expect(nc.info?.tls_verify).toBe(true);
      await nc.flush();
    } finally {
      await nc.close();
    }
  });

  it("without a client certificate, fails at once naming --nats-cert and --nats-key (not a connect timeout)", async () => {
    const started = Date.now();
    await expect(connectAgentNats({ servers: nats.url, tls: natsTlsOptions(nats.url, { caFile: nats.caPath })! })).rejects.toThrow(
      /requires a client certificate \(mutual TLS\); pass --nats-cert \(NATS_CERT\) <file> and --nats-key \(NATS_KEY\) <file>/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("NATS TLS configuration, checked before connecting", () => {
  let nats: PrivateTlsNats;
  beforeAll(async () => {
    nats = await privateTlsNats();
  }, 30_000);
  afterAll(async () => {
    await nats?.dispose();
  });

  it("a certificate without its key (or a key alone) is a config error naming both flags", async () => {
    const client = nats.client();
    for (const [config, pattern] of [
      [{ certFile: client.certPath }, /--nats-cert \(NATS_CERT\) .*client\.crt given without --nats-key \(NATS_KEY\)/],
      [{ keyFile: client.keyPath }, /--nats-key \(NATS_KEY\) .*client\.key given without --nats-cert/],
    ] as const) {
      expect(() => natsTlsOptions(nats.url, config)).toThrow(pattern);
    }
    // The agent refuses to start (no connection attempt, no kubeconfig read): nothing would fix it.
    await expect(
      startAgent({ cluster: "a", natsUrl: nats.url, natsTls: { certFile: client.certPath }, hubPublicKey: generateSigningKey().publicKey, stateDir: join(nats.dir, "agent"), kubeconfig: "/nonexistent" }),
    ).rejects.toMatchObject({ name: "NatsTlsError", code: ErrorCode.ConfigInvalid, location: { field: "keyFile", file: client.certPath } });
  });

  it("names the file of an unreadable CA, a non-PEM file and a key that is not the certificate's", () => {
    const client = nats.client();
    expect(() => natsTlsOptions(nats.url, { caFile: join(nats.dir, "missing.crt") })).toThrow(/--nats-ca \(NATS_CA\) .*missing\.crt: cannot read the file \(ENOENT/);
    expect(() => natsTlsOptions(nats.url, { caFile: client.keyPath })).toThrow(/--nats-ca \(NATS_CA\) .*client\.key: not the CA certificate in PEM/);
    expect(() => natsTlsOptions(nats.url, { certFile: client.certPath, keyFile: nats.pki.serving.keyPath })).toThrow(
      /--nats-key \(NATS_KEY\) .*apiserver\.key is not the private key of the certificate in --nats-cert \(NATS_CERT\) .*client\.crt/,
    );
  });

  it("tls:// requires TLS; nats:// without files leaves TLS to the server", () => {
    expect(natsTlsOptions("tls://nats:4222")).toEqual({});
    expect(natsTlsOptions("nats://nats:4222")).toBeUndefined();
    expect(natsTlsOptions("nats://nats:4222", { caFile: nats.caPath })).toEqual({ caFile: nats.caPath });
  });
});
