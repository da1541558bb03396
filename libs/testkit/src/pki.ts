// A private PKI per control plane, made with the openssl CLI: a CA, the apiserver's serving
// certificate, one client certificate per identity (CN = user, O = groups) and the key pair that
// signs ServiceAccount tokens. EC P-256 keys: generating them is instant, RSA is not.
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface ClientIdentity {
  /** File stem, e.g. "admin". */
  id: string;
  /** Certificate CN: the Kubernetes user name. */
  user: string;
  /** Certificate O entries: the Kubernetes groups. */
  groups: string[];
}

export interface PemPair {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

export interface Pki {
  caPath: string;
  caKeyPath: string;
  caPem: string;
  serving: PemPair;
  /** ServiceAccount token signing key (private) and verification key (public), PEM files. */
  saKeyPath: string;
  saPubPath: string;
  clients: Record<string, PemPair>;
}

// Our own openssl config so the system one (extensions, prompts) never leaks in.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
`;

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const DAYS = "30";

export async function createPki(dir: string, label: string, clients: ClientIdentity[]): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const config = join(dir, "openssl.cnf");
  await writeFile(config, OPENSSL_CONFIG);
  const caPath = join(dir, "ca.crt");
  const caKeyPath = join(dir, "ca.key");
  await openssl("req", "-x509", "-config", config, "-extensions", "ca_ext", ...EC_KEY, "-keyout", caKeyPath,
    "-out", caPath, "-days", DAYS, "-subj", `/CN=flotilla-test-ca-${label}`);

  const sign = (stem: string, subject: string, extensions: CertificateExtensions) =>
    issue(dir, config, caPath, caKeyPath, stem, subject, extensions);

  const sa = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const saKeyPath = join(dir, "sa.key");
  const saPubPath = join(dir, "sa.pub");
  await writeFile(saKeyPath, sa.privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  await writeFile(saPubPath, sa.publicKey.export({ type: "spki", format: "pem" }));

  const [serving, ...signed] = await Promise.all([
    sign("apiserver", "/CN=kube-apiserver", "server_ext"),
    ...clients.map((c) => sign(c.id, subjectOf(c), "client_ext")),
  ]);
  const byId: Record<string, PemPair> = {};
  clients.forEach((c, i) => (byId[c.id] = signed[i]!));
  return { caPath, caKeyPath, caPem: await readFile(caPath, "utf8"), serving: serving!, saKeyPath, saPubPath, clients: byId };
}

/** The extension sections of the PKI's openssl config: a serving (127.0.0.1, localhost) or a client certificate. */
export type CertificateExtensions = "server_ext" | "client_ext";

/**
 * Another certificate from the CA of `pki`, written next to it as `<stem>.crt`/`<stem>.key` with a
 * fresh key and serial — e.g. a renewed serving certificate, as cert-manager issues one.
 */
export function issueCertificate(pki: Pki, stem: string, subject: string, extensions: CertificateExtensions): Promise<PemPair> {
  const dir = dirname(pki.caPath);
  return issue(dir, join(dir, "openssl.cnf"), pki.caPath, pki.caKeyPath, stem, subject, extensions);
}

async function issue(dir: string, config: string, caPath: string, caKeyPath: string, stem: string, subject: string, extensions: CertificateExtensions): Promise<PemPair> {
  const keyPath = join(dir, `${stem}.key`);
  const certPath = join(dir, `${stem}.crt`);
  const csrPath = join(dir, `${stem}.csr`);
  await openssl("req", "-new", "-config", config, ...EC_KEY, "-keyout", keyPath, "-out", csrPath, "-subj", subject);
  await openssl("x509", "-req", "-in", csrPath, "-CA", caPath, "-CAkey", caKeyPath,
    "-set_serial", `0x${randomBytes(12).toString("hex")}`, "-days", DAYS, "-extfile", config,
    "-extensions", extensions, "-out", certPath);
  return { certPath, keyPath, certPem: await readFile(certPath, "utf8"), keyPem: await readFile(keyPath, "utf8") };
}

function subjectOf(c: ClientIdentity): string {
  const escape = (s: string) => s.replace(/[/\\]/g, (m) => `\\${m}`);
  return [...c.groups.map((g) => `/O=${escape(g)}`), `/CN=${escape(c.user)}`].join("");
}

async function openssl(...args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}
