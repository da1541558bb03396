// Clients of one API server with the same TLS material share one keep-alive agent (and so one
// socket pool and TLS context) while each still sends its own token; different material gets its
// own agent; the last client's close() destroys the shared one. The TLS path against a real API
// server is exercised by every *.kube.test.ts.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { KubeHttp } from "../src/http.js";
import { sharedAgentCount } from "../src/http-agents.js";

let server: Server;
let url: string;
const seen: IncomingHttpHeaders[] = [];
const peers = new Set<number>();
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    peers.add(req.socket.remotePort ?? 0);
    res.setHeader("Content-Type", "application/json");
    res.end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it("shares one agent per server and TLS material, keeps each client's token, frees it with the last close", async () => {
  const before = sharedAgentCount();
  const a = new KubeHttp({ server: url, token: "token-a", identity: "a" });
  const b = new KubeHttp({ server: url, token: "token-b", identity: "b" });
  const c = new KubeHttp({ server: url, token: "token-c", identity: "c", tlsServerName: "other" });
  await a.request("GET", "/api");
  await b.request("GET", "/api");
  await a.request("GET", "/api");
  await c.request("GET", "/api");
  expect(seen.map((h) => h.authorization)).toEqual(["Bearer token-a", "Bearer token-b", "Bearer token-a", "Bearer token-c"]);
  expect(sharedAgentCount()).toBe(before + 2);
  // Sequential requests of a and b went over one kept-alive socket.
  expect(peers.size).toBeLessThanOrEqual(2);
  a.close();
  expect(sharedAgentCount()).toBe(before + 2);
  await b.request("GET", "/api"); // b's agent is still alive after a's close
  b.close();
  c.close();
  expect(sharedAgentCount()).toBe(before);
  // A closed client that is used again takes the agent back.
  await a.request("GET", "/api");
  expect(sharedAgentCount()).toBe(before + 1);
  a.close();
  expect(sharedAgentCount()).toBe(before);
});
