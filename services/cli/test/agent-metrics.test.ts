// `flotilla agent --metrics-listen host:port`: the address parsing, the OpenTelemetry SDK loaded
// only when asked, and the Prometheus exporter's own server serving the agent's counters (what
// the command starts; no Kubernetes needed).
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { observeReconciler } from "@flotilla/cluster-agent";
import { parseListen, startAgentTelemetry } from "../src/commands/agent.js";
import { UsageError } from "../src/args.js";

async function listening(host: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}
const portOf = (s: Server) => (s.address() as { port: number }).port;

describe("agent metrics", () => {
  it("parses host:port, [ipv6]:port and :port; names the flag otherwise", () => {
    expect(parseListen("127.0.0.1:9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListen("[::1]:9100")).toEqual({ host: "::1", port: 9100 });
    expect(parseListen(":9464")).toEqual({ host: "0.0.0.0", port: 9464 });
    for (const bad of ["9464", "host:", "host:0", "host:70000", "a:b:c"]) {
      expect(() => parseListen(bad), bad).toThrow(UsageError);
      expect(() => parseListen(bad), bad).toThrow(/--metrics-listen/);
    }
  });

  it("serves the reconciler counters on GET /metrics at the listen address", async () => {
    const probe = await listening("127.0.0.1");
    const port = portOf(probe);
    await new Promise((r) => probe.close(r));
    const telemetry = await startAgentTelemetry(parseListen(`127.0.0.1:${port}`), {});
    expect(telemetry.sdk).toBe(true);
    const counters = { reconciles: 7, reverts: 1, revertFailures: 0, refusals: 2 };
    const unobserve = observeReconciler("edge-9", counters);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/^flotilla_agent_reconciles_total\{cluster="edge-9"[^}]*\} 7$/m);
      expect(text).toMatch(/^flotilla_agent_refusals_total\{cluster="edge-9"[^}]*\} 2$/m);
      expect(text).toMatch(/^target_info\{service_name="flotilla-agent"/m);
    } finally {
      unobserve();
      await telemetry.shutdown();
    }
    // shutdown() stops the exporter's server.
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it("loads no OpenTelemetry SDK without --metrics-listen or an OTLP endpoint, one with an endpoint", async () => {
    const none = await startAgentTelemetry(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: " " });
    expect(none.sdk).toBe(false);
    await none.shutdown();
    const otlp = await startAgentTelemetry(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:1/v1/traces" });
    expect(otlp.sdk).toBe(true);
    await otlp.shutdown();
  });

  it("fails to start when the listen address is taken", async () => {
    const taken = await listening("127.0.0.1");
    try {
      await expect(startAgentTelemetry({ host: "127.0.0.1", port: portOf(taken) }, {})).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});
