// The agent's local copy of its last verified desired state, so it keeps enforcing it across
// restarts while NATS or the hub is away. The file is written atomically (temp file, fsync,
// rename) and never trusted: load() re-verifies the signature and the digest.
//
// Format of `<cacheDir>/<cluster>.desired`: line 1 is the signed pointer as JSON, everything after
// the first newline is the bundle's bytes exactly as fetched (the digest covers these bytes).
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, type SignedPointer } from "@flotilla/model";
import { encodeJson } from "@flotilla/wire";
import { checkBundle, checkPointer, type TrustContext } from "./nats-desired-verify.js";
import type { Refusal, VerifiedDesired } from "./ports.js";

export type CacheLoad = { found: false } | { found: true; desired: VerifiedDesired } | { found: true; refusal: Refusal };

const NEWLINE = 0x0a;

export class DesiredCache {
  readonly path: string;

  constructor(
    private readonly dir: string,
    private readonly trust: TrustContext,
  ) {
    this.path = join(dir, `${trust.cluster}.desired`);
  }

  /** Reads and re-verifies the cached state. A corrupt or untrusted file becomes a refusal. */
  async load(): Promise<CacheLoad> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { found: false };
      return { found: true, refusal: this.corrupt(`cannot be read: ${(err as Error).message}`) };
    }
    const nl = bytes.indexOf(NEWLINE);
    if (nl < 0) return { found: true, refusal: this.corrupt("has no pointer line") };
    const pointer = checkPointer(bytes.subarray(0, nl), this.trust);
    if (!pointer.ok) return { found: true, refusal: this.fromCache(pointer.refusal) };
    const bundle = checkBundle(pointer.value, bytes.subarray(nl + 1), this.trust);
    if (!bundle.ok) return { found: true, refusal: this.fromCache(bundle.refusal) };
    return { found: true, desired: { pointer: pointer.value, bundle: bundle.value } };
  }

  /** Replaces the cached state atomically: a crash leaves either the old or the new file. */
  async save(pointer: SignedPointer, bundleBytes: Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    const fh = await open(tmp, "w", 0o600);
    try {
      await fh.write(encodeJson(pointer));
      await fh.write(Uint8Array.of(NEWLINE));
      await fh.write(bundleBytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private corrupt(what: string): Refusal {
    return { error: { code: ErrorCode.DigestMismatch, message: `cached desired state ${this.path} ${what}; ignoring it` } };
  }

  private fromCache(r: Refusal): Refusal {
    return { ...r, error: { ...r.error, message: `cached desired state ${this.path}: ${r.error.message}; ignoring it` } };
  }
}
