// A private nats-server with TLS on its client port and JetStream, for tests of how the hub and
// the agents connect over TLS: a throwaway CA (createPki, openssl at test time), a serving
// certificate for 127.0.0.1, and client certificates signed by the same CA. With `verify` the
// server demands a client certificate (mutual TLS). The caller disposes it.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPki, type PemPair, type Pki } from "./pki.js";
import { freePort, spawnNatsServer, type NatsServerProcess } from "./private-nats.js";

export interface PrivateTlsNatsOptions {
  /** Require and verify a client certificate (nats-server `tls { verify: true }`). */
  verify?: boolean;
  /** Client certificates to issue, by id (CN = id). Default: "client". */
  clients?: string[];
}

export interface PrivateTlsNats {
  /** `tls://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The CA that signed the server and client certificates. */
  caPath: string;
  pki: Pki;
  /** The client certificate (and key) issued for `id`. */
  client(id?: string): PemPair;
  /** A directory for the test's own files; removed by dispose(). */
  dir: string;
  server: NatsServerProcess;
  /** Stops the server and removes the PKI and the JetStream store. */
  dispose(): Promise<void>;
}

export async function privateTlsNats(opts: PrivateTlsNatsOptions = {}): Promise<PrivateTlsNats> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-tls-nats-"));
  try {
    const clients = opts.clients ?? ["client"];
    const pki = await createPki(join(dir, "pki"), "nats", clients.map((id) => ({ id, user: id, groups: [] })));
    const port = await freePort();
    const config = join(dir, "nats.conf");
    await writeFile(
      config,
      [
        `listen: "127.0.0.1:${port}"`,
        "tls {",
        `  cert_file: ${JSON.stringify(pki.serving.certPath)}`,
        `  key_file: ${JSON.stringify(pki.serving.keyPath)}`,
        `  ca_file: ${JSON.stringify(pki.caPath)}`,
        `  verify: ${opts.verify === true}`,
        "  timeout: 2",
        "}",
        "",
      ].join("\n"),
    );
    const server = await spawnNatsServer(["-c", config, "-js", "-sd", join(dir, "js")], port);
    return {
      url: `tls://127.0.0.1:${port}`,
      port,
      caPath: pki.caPath,
      pki,
      dir,
      server,
      client(id = clients[0]!) {
        const pair = pki.clients[id];
        if (!pair) throw new Error(`privateTlsNats: no client certificate "${id}" (issued: ${clients.join(", ")})`);
        return pair;
      },
      async dispose() {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
