// The hub's ed25519 signing key: read from a PEM file when configured; otherwise generated and
// kept next to the hub's state (the demo), so agents can be given the matching public key.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { generateSigningKey, privateKeyPem, publicKeyPem, signingKeyFromPem, type SigningKey } from "@flotilla/wire";

export interface SigningKeyOptions {
  /** PEM (PKCS#8) private key file. */
  path: string;
  /** Generate the key (and `<path>.pub`) when the file does not exist. */
  generateIfMissing?: boolean;
}

export function loadSigningKey(opts: SigningKeyOptions): SigningKey {
  if (!existsSync(opts.path)) {
    if (!opts.generateIfMissing) {
      throw new FlotillaError(ErrorCode.ConfigInvalid, `signing key ${opts.path} does not exist: pass --generate-signing-key to create it (its public key is written to ${opts.path}.pub for the agents)`);
    }
    const key = generateSigningKey();
    mkdirSync(dirname(opts.path), { recursive: true });
    writeFileSync(opts.path, privateKeyPem(key), { mode: 0o600 });
    writeFileSync(`${opts.path}.pub`, publicKeyPem(key.publicKey));
    return key;
  }
  try {
    return signingKeyFromPem(readFileSync(opts.path, "utf8"));
  } catch (err) {
    throw new FlotillaError(ErrorCode.ConfigInvalid, `signing key ${opts.path} is not a PEM ed25519 private key: ${(err as Error).message}`, { cause: err });
  }
}
