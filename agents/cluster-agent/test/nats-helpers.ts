// Test helpers for the agent's NATS adapters: the resources the hub creates in production, a
// hub-side publisher of signed pointers and bundles, a private nats-server the tests can stop
// and restart (re-exported from @flotilla/testkit), and a reader of the report stream.
import { BUNDLE_API_VERSION, type Bundle, type Report, type SignedPointer } from "@flotilla/model";
import { bundleStoreOf, canonicalJson, desiredKey, encodeJson, parseReport, sha256Digest, signPointer, decodeJson, type SigningKey, type WireNames } from "@flotilla/wire";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { nanos, type NatsConnection } from "@nats-io/transport-node";

// The private nats-server and free ports now live in @flotilla/testkit (shared with the hub's tests).
export { freePort, privateNats, type PrivateNats } from "@flotilla/testkit";

/** Short JetStream timeouts: tests retry the hub's calls while a restarted server recovers. */
const JS_TIMEOUT_MS = 1_000;

/** Creates the KV bucket and report stream the way the hub does (bundle stores: publishBundle). */
export async function ensureWireResources(nc: NatsConnection, names: WireNames): Promise<void> {
  const js = jetstream(nc, { timeout: JS_TIMEOUT_MS });
  await new Kvm(js).create(names.desiredBucket, { history: 5, allow_direct: true });
  const jsm = await jetstreamManager(nc, { timeout: JS_TIMEOUT_MS });
  await jsm.streams.add({ name: names.reportStream, subjects: [names.reportSubjects], duplicate_window: nanos(120_000) });
  // Read back what the agent relies on (2.9 silently ignores what it does not know).
  const info = await jsm.streams.info(names.reportStream);
  if (info.config.duplicate_window !== nanos(120_000)) throw new Error("report stream lost its duplicate window");
}

/** `padding`: a data value that makes the bundle as large as a test needs. */
export function makeBundle(cluster: string, revision: string, replicas = 1, padding?: string): { bundle: Bundle; bytes: Uint8Array; digest: string } {
  const bundle: Bundle = {
    apiVersion: BUNDLE_API_VERSION,
    cluster,
    revision,
    apps: [
      {
        name: "web",
        policy: { drift: "enforce", prune: true, ignore: [] },
        objects: [
          { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web", namespace: "web" }, data: { replicas: String(replicas), ...(padding ? { padding } : {}) } },
        ],
      },
    ],
  };
  const bytes = new TextEncoder().encode(canonicalJson(bundle));
  return { bundle, bytes, digest: sha256Digest(bytes) };
}

export function signedPointer(key: SigningKey, cluster: string, revision: string, digest: string, generation: number): SignedPointer {
  return signPointer({ cluster, revision, bundleDigest: digest, generation, issuedAt: new Date().toISOString() }, key);
}

/** What the hub does per cluster: store the bundle by digest in `cluster`'s store, then put the pointer. */
export async function publishBundle(nc: NatsConnection, names: WireNames, cluster: string, digest: string, bytes: Uint8Array): Promise<void> {
  const os = await new Objm(jetstream(nc, { timeout: JS_TIMEOUT_MS })).create(bundleStoreOf(names, cluster));
  await os.putBlob({ name: digest }, bytes);
}

export async function putPointer(nc: NatsConnection, names: WireNames, cluster: string, pointer: unknown): Promise<void> {
  const kv = await new Kvm(jetstream(nc, { timeout: JS_TIMEOUT_MS })).open(names.desiredBucket, { allow_direct: true });
  await kv.put(desiredKey(cluster), encodeJson(pointer));
}

/** Every report in the stream, validated, in stream order. */
export async function readReports(nc: NatsConnection, names: WireNames): Promise<{ subject: string; msgId: string; report: Report }[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(names.reportStream);
  const out: { subject: string; msgId: string; report: Report }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(names.reportStream, { seq });
    if (!m) continue;
    const value = decodeJson(m.data);
    if (value instanceof Error) throw value;
    out.push({ subject: m.subject, msgId: m.header.get("Nats-Msg-Id"), report: parseReport(value) });
  }
  return out;
}

/** Polls `check` until it returns a truthy value (returned) or the timeout passes. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
