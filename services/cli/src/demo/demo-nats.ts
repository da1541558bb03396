// Where the demo finds NATS: NATS_URL if set; else a server already on 127.0.0.1:4222; else a
// nats-server from PATH started on a free port (JetStream on, state in the demo's temp dir).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { connect as tcpConnect, createServer } from "node:net";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export interface DemoNats {
  url: string;
  how: string;
  stop(): Promise<void>;
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host, port });
    s.setTimeout(1_000);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
    s.once("timeout", () => (s.destroy(), resolve(false)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.once("error", reject);
  });
}

export async function resolveNats(workDir: string): Promise<DemoNats> {
  const none = async () => {};
  if (process.env.NATS_URL) return { url: process.env.NATS_URL, how: "from NATS_URL", stop: none };
  if (await answers("127.0.0.1", 4222)) return { url: "nats://127.0.0.1:4222", how: "already running", stop: none };
  if (spawnSync("nats-server", ["--version"]).status !== 0) {
    throw new Error(
      "no NATS server: set NATS_URL, run one on 127.0.0.1:4222, or install nats-server (Debian/Ubuntu: apt-get install nats-server; " +
        "macOS: brew install nats-server; or https://github.com/nats-io/nats-server/releases) so the demo can start it",
    );
  }
  const port = await freePort();
  const dir = join(workDir, "nats");
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir], { stdio: "ignore" });
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  for (let i = 0; i < 100 && !(await answers("127.0.0.1", port)); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    url: `nats://127.0.0.1:${port}`,
    how: `started nats-server -js on port ${port}`,
    async stop() {
      process.off("exit", kill);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
