// A renewed certificate on deploy/nats/client-tls, run: nats-server 2.9 with the component's TLS
// block and the base's pid_file, as `kubectl kustomize` builds them (only the mount paths moved
// into a temporary directory; routes, JetStream and the users are run by deploy-nats.test.ts),
// serving a certificate from a throwaway openssl CA out of a directory laid out as the kubelet
// lays out a Secret volume. The Secret is renewed the way the kubelet updates it; nats-server
// keeps serving the old certificate until the reloader's signal (SIGHUP to the pid in the
// pid_file); then a new TLS connection gets the renewed certificate, and a connection made before
// the renewal is still the same connection and still delivers.
import { createHash, X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPki, freePort, issueCertificate, spawnNatsServer, waitFor, type NatsServerProcess, type Pki } from "@flotilla/testkit";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { kubectlKustomize, withOverlay } from "./support/kubectl-kustomize.js";
import { natsPod, reloaderWatch, settingValues, type NatsPod } from "./support/nats-reloader.js";

const MOUNT = "/etc/nats/client-tls";

/**
 * Writes `files` into the volume directory `dir` as the kubelet's atomic writer updates a Secret
 * volume: a new hidden directory with the files, `..data` switched to it by one rename, each key a
 * symlink through `..data` (made once), the previous directory removed.
 */
async function updateSecretVolume(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const previous = (await readdir(dir)).filter((e) => e.startsWith("..") && e !== "..data");
  const version = `..${new Date().toISOString().replace(/[:.]/g, "_")}.${previous.length}`;
  await mkdir(join(dir, version));
  for (const [key, text] of Object.entries(files)) await writeFile(join(dir, version, key), text, { mode: 0o400 });
  await symlink(version, join(dir, "..data_tmp"));
  await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  const present = new Set(await readdir(dir));
  for (const key of Object.keys(files)) if (!present.has(key)) await symlink(join("..data", key), join(dir, key));
  for (const old of previous) await rm(join(dir, old), { recursive: true, force: true });
}

/** The certificate nats-server presents to a new client: its INFO read in clear, then TLS, as a client connects. */
function servedCertificate(port: number, caPem: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, "127.0.0.1");
    let info = "";
    const onInfo = (d: Buffer) => {
      info += d.toString();
      if (!info.includes("\r\n")) return;
      socket.off("data", onInfo);
      const secure = tlsConnect({ socket, ca: caPem, servername: "localhost" }, () => {
        const cert = new X509Certificate(secure.getPeerCertificate().raw);
        secure.destroy();
        resolve(cert);
      });
      secure.once("error", reject);
    };
    socket.on("data", onInfo);
    socket.once("error", reject);
  });
}

const digest = async (file: string): Promise<string> => createHash("sha256").update(await readFile(file)).digest("hex");

describe("deploy/nats/client-tls: a renewed certificate is served after the reloader's signal", () => {
  let dir: string;
  let pki: Pki;
  let pod: NatsPod;
  let server: NatsServerProcess;
  let volume: string;
  let pidFile: string;
  const connections: NatsConnection[] = [];
  /** A path of the pod, where this test put it. */
  let moved: (path: string) => string;

  beforeAll(async () => {
    pod = natsPod(await withOverlay("deploy/nats/base", ["deploy/nats/client-tls"], kubectlKustomize));
    dir = await mkdtemp(join(tmpdir(), "flotilla-nats-reload-"));
    volume = join(dir, "client-tls");
    const run = join(dir, "run");
    moved = (path) => path.replace(MOUNT, volume).replace("/var/run/nats", run);
    pki = await createPki(join(dir, "pki"), "nats-reload", []);
    await updateSecretVolume(volume, { "tls.crt": pki.serving.certPem, "tls.key": pki.serving.keyPem });
    await mkdir(run);

    const port = await freePort();
    const [pid] = settingValues(pod.config, "pid_file");
    pidFile = moved(pid!);
    await writeFile(join(dir, "client-tls.conf"), pod.config["client-tls.conf"]!.replaceAll(MOUNT, volume));
    await writeFile(join(dir, "nats.conf"), [`listen: "127.0.0.1:${port}"`, `pid_file: ${JSON.stringify(pidFile)}`, 'include "client-tls.conf"', ""].join("\n"));
    server = await spawnNatsServer(["-c", join(dir, "nats.conf")], port);
  });

  afterAll(async () => {
    for (const nc of connections) await nc.close().catch(() => undefined);
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a new connection gets the renewed certificate; a connection made before stays and delivers", async () => {
    const original = new X509Certificate(pki.serving.certPem);
    expect((await servedCertificate(server.port, pki.caPem)).serialNumber).toBe(original.serialNumber);
    const nc = await connect({ servers: `tls://127.0.0.1:${server.port}`, tls: { caFile: pki.caPath } });
    connections.push(nc);
    const clientId = nc.info?.client_id;
    const interruptions: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === "disconnect" || s.type === "reconnect") interruptions.push(s.type);
    })();

    // cert-manager renews (a new key and serial from the same CA); the kubelet swaps the volume.
    const watched = reloaderWatch(pod.reloader).watched.filter((f) => f.startsWith(`${MOUNT}/`)).map(moved);
    expect(watched).toHaveLength(2);
    const before = await Promise.all(watched.map(digest));
    const pair = await issueCertificate(pki, "renewed", "/CN=nats", "server_ext");
    const renewed = new X509Certificate(pair.certPem);
    await updateSecretVolume(volume, { "tls.crt": pair.certPem, "tls.key": pair.keyPem });
    // Both files the reloader watches read differently now: it would signal.
    const after = await Promise.all(watched.map(digest));
    after.forEach((d, i) => expect(d, watched[i]).not.toBe(before[i]));
    // Without that signal nats-server goes on serving the old certificate.
    expect((await servedCertificate(server.port, pki.caPem)).serialNumber).toBe(original.serialNumber);

    // The reloader's signal: SIGHUP to the pid nats-server wrote to its pid_file.
    const pid = Number((await readFile(pidFile, "utf8")).trim());
    expect(pid).toBe(server.pid);
    process.kill(pid, "SIGHUP");
    const served = await waitFor(
      async () => {
        const cert = await servedCertificate(server.port, pki.caPem);
        return cert.serialNumber === renewed.serialNumber ? cert : undefined;
      },
      { timeoutMs: 15_000, what: "nats-server presenting the renewed certificate to a new connection" },
    );
    expect(served.validTo).toBe(renewed.validTo);

    // The connection from before the renewal: never dropped, the same client, still delivering.
    const sub = nc.subscribe("reload.check", { max: 1 });
    nc.publish("reload.check", "after the reload");
    for await (const m of sub) expect(m.string()).toBe("after the reload");
    expect(nc.info?.client_id).toBe(clientId);
    expect(interruptions).toEqual([]);
  });
});
