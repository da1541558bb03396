// TLS on the NATS client connections of the hub and the agents: the CA to trust and an optional
// client certificate (mutual TLS), checked before connecting so a wrong file is an error naming
// the flag and the file, and TLS failures while connecting turned into what to do about them.
// nats.js is passed in (`connect`), so this module imports no NATS runtime.
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { readNatsServerInfo } from "./nats-server-info.js";

/** Files of the NATS client TLS settings (`--nats-ca`, `--nats-cert`, `--nats-key`). */
export interface NatsTlsConfig {
  /** PEM file of the CA that signed the server's certificate (instead of the system's CAs). */
  caFile?: string;
  /** PEM client certificate for mutual TLS; needs keyFile. */
  certFile?: string;
  /** PEM private key of certFile. */
  keyFile?: string;
}

/** The subset of nats.js's `TlsOptions` this module produces. */
export interface NatsTlsOptions {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** The command-line flag and environment variable of each setting, as errors name them. */
export const NATS_TLS_FLAGS = {
  caFile: "--nats-ca (NATS_CA)",
  certFile: "--nats-cert (NATS_CERT)",
  keyFile: "--nats-key (NATS_KEY)",
} as const;

/** A NATS TLS setting that cannot work: a file, a pair, or the server's answer. */
export class NatsTlsError extends FlotillaError {
  override readonly name = "NatsTlsError";
  constructor(message: string, field: string, file?: string, cause?: unknown) {
    super(ErrorCode.ConfigInvalid, message, { location: { field, ...(file ? { file } : {}) }, cause });
  }
}

/**
 * The `tls` connection option for `url`, or undefined when TLS is not asked for (a `nats://` URL
 * and no files: nats.js still upgrades when the server offers TLS, trusting the system's CAs).
 * A `tls://` URL requires TLS: nats.js strips the scheme and would otherwise connect in clear
 * text to a server that does not offer it. Throws NatsTlsError for an unreadable or non-PEM
 * file, half a client pair, or a key that is not the certificate's.
 *
 * The files are read again by nats.js at every (re)connect, so certificates rotated in place
 * (cert-manager renewing a mounted Secret) are picked up without a restart.
 */
export function natsTlsOptions(url: string, config: NatsTlsConfig = {}): NatsTlsOptions | undefined {
  const { caFile, certFile, keyFile } = config;
  if (certFile && !keyFile) throw new NatsTlsError(`${NATS_TLS_FLAGS.certFile} ${certFile} given without ${NATS_TLS_FLAGS.keyFile}: a client certificate needs its private key; pass both, or neither`, "keyFile", certFile);
  if (keyFile && !certFile) throw new NatsTlsError(`${NATS_TLS_FLAGS.keyFile} ${keyFile} given without ${NATS_TLS_FLAGS.certFile}: pass the client certificate with its key, or neither`, "certFile", keyFile);
  const required = /^\s*tls:\/\//i.test(url);
  if (!required && !caFile && !certFile) return undefined;
  if (caFile) certificateOf(caFile, "caFile", "the CA certificate");
  if (certFile && keyFile) {
    const cert = certificateOf(certFile, "certFile", "the client certificate");
    const key = privateKeyOf(keyFile);
    if (!cert.checkPrivateKey(key)) {
      throw new NatsTlsError(`${NATS_TLS_FLAGS.keyFile} ${keyFile} is not the private key of the certificate in ${NATS_TLS_FLAGS.certFile} ${certFile}: pass the key the certificate was issued for`, "keyFile", keyFile);
    }
  }
  return { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) };
}

/**
 * Connects with nats.js's `connect`; a TLS failure becomes a NatsTlsError saying what to pass.
 * Without a client certificate the server's INFO is read first: a server that verifies client
 * certificates would otherwise drop the connection after the handshake and nats.js report a
 * timeout.
 */
export async function connectNatsTls<O extends { servers?: string | string[]; tls?: NatsTlsOptions | null }, C>(connect: (opts: O) => Promise<C>, opts: O): Promise<C> {
  const url = Array.isArray(opts.servers) ? opts.servers.join(",") : (opts.servers ?? "nats://127.0.0.1:4222");
  if (opts.tls && !opts.tls.certFile) {
    const info = await readNatsServerInfo(url);
    if (info?.tls_verify) {
      throw new NatsTlsError(`NATS at ${url}: the server requires a client certificate (mutual TLS); pass ${NATS_TLS_FLAGS.certFile} <file> and ${NATS_TLS_FLAGS.keyFile} <file>`, "certFile");
    }
  }
  try {
    return await connect(opts);
  } catch (err) {
    throw explainNatsTlsFailure(url, opts.tls ?? undefined, err);
  }
}

// Node's TLS error codes for a server certificate the client cannot trust.
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_SIGNATURE_FAILURE",
]);

/** A NatsTlsError for a TLS failure of a connection to `url`; any other error unchanged. */
export function explainNatsTlsFailure(url: string, tls: NatsTlsOptions | undefined, err: unknown): unknown {
  const code = codeOf(err);
  const detail = messageOf(err);
  if (code && UNTRUSTED.has(code)) {
    const hint = tls?.caFile
      ? `the CA in ${NATS_TLS_FLAGS.caFile} ${tls.caFile} did not sign it; pass the CA that did`
      : `pass ${NATS_TLS_FLAGS.caFile} <file> with the CA that signed it`;
    return new NatsTlsError(`NATS at ${url}: certificate signed by an unknown authority (${detail}); ${hint}`, "caFile", tls?.caFile, err);
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return new NatsTlsError(`NATS at ${url}: the server's certificate is not valid now (${detail}); renew it`, "caFile", tls?.caFile, err);
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new NatsTlsError(`NATS at ${url}: the server's certificate does not name this host (${detail}); connect by a name the certificate lists`, "url", undefined, err);
  }
  if (/server does not support 'tls'|tls is not available/i.test(detail)) {
    return new NatsTlsError(`NATS at ${url}: the server does not offer TLS, but the tls:// URL or the TLS flags require it; enable TLS on the server's client port or use nats://`, "url", undefined, err);
  }
  if (/certificate required|bad certificate|unknown ca|handshake failure/i.test(detail)) {
    return new NatsTlsError(`NATS at ${url}: the server refused the client certificate (${detail}); pass ${NATS_TLS_FLAGS.certFile} and ${NATS_TLS_FLAGS.keyFile} issued by a CA the server trusts`, "certFile", tls?.certFile, err);
  }
  return err;
}

function certificateOf(file: string, field: keyof NatsTlsConfig, what: string): X509Certificate {
  const pem = readPem(file, field);
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new NatsTlsError(`${NATS_TLS_FLAGS[field]} ${file}: not ${what} in PEM (${messageOf(err)})`, field, file, err);
  }
}

function privateKeyOf(file: string): KeyObject {
  const pem = readPem(file, "keyFile");
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new NatsTlsError(`${NATS_TLS_FLAGS.keyFile} ${file}: not an unencrypted PEM private key (${messageOf(err)})`, "keyFile", file, err);
  }
}

function readPem(file: string, field: keyof NatsTlsConfig): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new NatsTlsError(`${NATS_TLS_FLAGS[field]} ${file}: cannot read the file (${messageOf(err)})`, field, file, err);
  }
}

// nats.js wraps some socket errors in a ConnectionError whose cause is Node's.
function codeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
