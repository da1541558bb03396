// deploy/nats as `kubectl kustomize` builds it, alone and with the TLS parts: the reloader sidecar
// watches every TLS file nats-server's configuration names (so a certificate cert-manager renews
// is served after a reload, without a restart), at a path it mounts from the same volume
// nats-server reads it from, and it signals the pid nats-server writes to its pid_file. The default
// build watches only the configuration and the users, as before. Every object of each build passes
// the apiserver's strict validation (server-side dry-run), cert-manager's Issuer and Certificate
// aside: the test plane has no cert-manager CRDs.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "@flotilla/model";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { kubectlKustomize, withOverlay } from "./support/kubectl-kustomize.js";
import { natsPod, reloaderWatch, settingValues, tlsFilesOf, volumeAt } from "./support/nats-reloader.js";
import { apply } from "./support/server-side-apply.js";

const CONFIG = ["/etc/nats/config/nats.conf", "/etc/nats/auth/nats-server.conf"];
const CLIENT_TLS = ["/etc/nats/client-tls/tls.crt", "/etc/nats/client-tls/tls.key"];
const LEAFNODES_TLS = ["/etc/nats/leafnodes-tls/tls.crt", "/etc/nats/leafnodes-tls/tls.key"];

/** Each build as an install's overlay lists it, and the TLS files its nats.conf names. */
const BUILDS: { resources: string; components: string[]; tls: string[] }[] = [
  { resources: "deploy/nats/base", components: [], tls: [] },
  { resources: "deploy/nats/base", components: ["deploy/nats/client-tls"], tls: CLIENT_TLS },
  { resources: "deploy/nats/base", components: ["deploy/nats/client-tls", "deploy/nats/cert-manager"], tls: CLIENT_TLS },
  { resources: "deploy/nats/leafnodes", components: [], tls: LEAFNODES_TLS },
  { resources: "deploy/nats/leafnodes", components: ["deploy/nats/client-tls", "deploy/nats/cert-manager"], tls: [...CLIENT_TLS, ...LEAFNODES_TLS] },
];

const build = (resources: string, components: string[]): Promise<KubeObject[]> =>
  components.length === 0 ? Promise.resolve(kubectlKustomize(resources)) : withOverlay(resources, components, kubectlKustomize);

describe("deploy/nats: the reloader sidecar follows the files nats-server reads", () => {
  const plane = useSharedControlPlane();

  for (const { resources, components, tls } of BUILDS) {
    const name = [resources, ...components].join(" + ");

    it(`${name}: the reloader watches ${tls.length ? "the TLS files and " : ""}the configuration, from nats-server's volumes, and signals its pid`, async () => {
      const objects = await build(resources, components);
      const pod = natsPod(objects);
      expect(tlsFilesOf(pod.config)).toEqual([...tls].sort());

      const { pidFile, watched } = reloaderWatch(pod.reloader);
      expect(pod.shareProcessNamespace, "the reloader must see nats-server's process").toBe(true);
      expect(settingValues(pod.config, "pid_file")).toEqual([pidFile]);
      expect([...watched].sort()).toEqual([...CONFIG, ...tls].sort());
      for (const file of [pidFile!, ...watched]) {
        const volume = volumeAt(pod.nats, file);
        expect(volume, `nats-server mounts no volume at ${file}`).toBeDefined();
        expect(volumeAt(pod.reloader, file), `the reloader sees ${file} from another volume than nats-server`).toBe(volume);
      }

      const ns = await plane.freshNamespace("nats-reload");
      let checked = 0;
      for (const o of objects) {
        if (o.apiVersion.startsWith("cert-manager.io/")) continue;
        const inNs = { ...o, metadata: { ...o.metadata, namespace: ns } };
        await apply(plane.kubeConfig, inNs, { dryRun: true }).catch((err: Error) => {
          throw new Error(`${name}: ${o.kind} ${o.metadata.name}: ${err.message}`);
        });
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(6);
    });
  }
});
