// The hub's side of NATS for agent tests: a private nats-server (which a test may stop and
// restart), the wire resources, signed pointers and bundles published like the hub does, and the
// report stream read back.
import { type NatsConnection, connect } from "@nats-io/transport-node";
import { BUNDLE_API_VERSION, type Bundle, type BundleApp, type Report } from "@flotilla/model";
import { canonicalJson, generateSigningKey, sha256Digest, wireNames, type SigningKey, type WireNames } from "@flotilla/wire";
import { ensureWireResources, privateNats, publishBundle, putPointer, readReports, signedPointer, type PrivateNats } from "../nats-helpers.js";

export interface HubSim {
  nats: PrivateNats;
  names: WireNames;
  key: SigningKey;
  /** Stores the bundle by digest and puts the signed pointer, as the hub does. */
  publish(cluster: string, generation: number, apps: BundleApp[], namespaces?: string[]): Promise<void>;
  reports(): Promise<{ subject: string; msgId: string; report: Report }[]>;
  dispose(): Promise<void>;
}

export async function startHubSim(): Promise<HubSim> {
  const nats = await privateNats();
  await nats.start();
  const names = wireNames("flotilla");
  const key = generateSigningKey();
  const withConnection = async <T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T> => {
    const nc = await connect({ servers: nats.url });
    try {
      return await fn(nc);
    } finally {
      await nc.close();
    }
  };
  await withConnection((nc) => ensureWireResources(nc, names));
  return {
    nats,
    names,
    key,
    async publish(cluster, generation, apps, namespaces) {
      const bundle: Bundle = { apiVersion: BUNDLE_API_VERSION, cluster, revision: `r${generation}`, ...(namespaces ? { namespaces } : {}), apps };
      const bytes = new TextEncoder().encode(canonicalJson(bundle));
      const digest = sha256Digest(bytes);
      await withConnection(async (nc) => {
        await publishBundle(nc, names, cluster, digest, bytes);
        await putPointer(nc, names, cluster, signedPointer(key, cluster, `r${generation}`, digest, generation));
      });
    },
    reports: () => withConnection((nc) => readReports(nc, names)),
    dispose: () => nats.dispose(),
  };
}
