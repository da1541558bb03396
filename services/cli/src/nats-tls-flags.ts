// The NATS TLS flags shared by `flotilla hub` and `flotilla agent`. Their environment variables
// are the ones the `nats` CLI reads, so one env file serves both.
import type { NatsTlsConfig } from "@flotilla/wire";
import type { FlagSpec, Parsed } from "./args.js";

export const natsTlsFlagSpecs: FlagSpec[] = [
  { name: "nats-ca", env: "NATS_CA", type: "string", description: "PEM file of the CA that signed the NATS server's certificate (default: the system's CAs); a tls:// --nats-url requires TLS" },
  { name: "nats-cert", env: "NATS_CERT", type: "string", description: "PEM client certificate for NATS mutual TLS (with --nats-key)" },
  { name: "nats-key", env: "NATS_KEY", type: "string", description: "PEM private key of --nats-cert" },
];

/** The TLS files given; natsTlsOptions (at start) checks them and names the flag of a bad one. */
export function natsTlsConfigOf(p: Parsed): NatsTlsConfig | undefined {
  const file = (name: string) => {
    const v = p.values[name];
    return typeof v === "string" && v.length > 0 ? v : undefined;
  };
  const caFile = file("nats-ca");
  const certFile = file("nats-cert");
  const keyFile = file("nats-key");
  if (!caFile && !certFile && !keyFile) return undefined;
  return { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) };
}
