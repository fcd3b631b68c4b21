// Reading certificate, key and CA files with the checks Go's tls.X509KeyPair and etcd's NewCertPool make,
// and their error texts ("tls: private key does not match public key", ...), so bad input fails at start
// with a message that says what is wrong.

import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

export interface PemBlock {
  type: string;
  der: Buffer;
  /** The block as PEM text. */
  pem: string;
}

/** The PEM blocks of `data`, in order. */
export function pemBlocks(data: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(data); m !== null; m = re.exec(data)) {
    out.push({ type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ""), "base64"), pem: m[0] });
  }
  return out;
}

/** Go's os.ReadFile error text ("open /x: no such file or directory"). */
export function readFileGo(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why: Record<string, string> = {
      ENOENT: "no such file or directory",
      EACCES: "permission denied",
      EISDIR: "is a directory",
    };
    throw new Error(`open ${path}: ${why[err.code ?? ""] ?? err.message}`);
  }
}

function parseCert(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new Error("x509: malformed certificate");
  }
}

export interface KeyPair {
  certPem: Buffer;
  keyPem: Buffer;
  /** The leaf (first) certificate. */
  leaf: X509Certificate;
  key: KeyObject;
}

/** Go's tls.X509KeyPair over two PEM inputs: the certificate chain and the matching private key. */
export function parseKeyPair(certPem: Buffer, keyPem: Buffer): KeyPair {
  const certBlocks = pemBlocks(certPem.toString("latin1"));
  if (certBlocks.length === 0) throw new Error("tls: failed to find any PEM data in certificate input");
  const certs = certBlocks.filter((b) => b.type === "CERTIFICATE");
  if (certs.length === 0) {
    const types = certBlocks.map((b) => b.type).join(" ");
    throw new Error(
      `tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [${types}]`,
    );
  }
  const leaf = parseCert(certs[0]!.der);
  for (const c of certs.slice(1)) parseCert(c.der);

  const keyBlocks = pemBlocks(keyPem.toString("latin1"));
  if (keyBlocks.length === 0) throw new Error("tls: failed to find any PEM data in key input");
  const keyBlock = keyBlocks.find((b) => b.type === "PRIVATE KEY" || b.type.endsWith(" PRIVATE KEY"));
  if (keyBlock === undefined) {
    if (keyBlocks.some((b) => b.type === "CERTIFICATE")) {
      throw new Error("tls: found a certificate rather than a key in the PEM for the private key");
    }
    const types = keyBlocks.map((b) => b.type).join(" ");
    throw new Error(
      `tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: [${types}]`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyBlock.pem);
  } catch {
    throw new Error("tls: failed to parse private key");
  }
  let matches = false;
  try {
    matches = leaf.checkPrivateKey(key);
  } catch {
    matches = false;
  }
  if (!matches) throw new Error("tls: private key does not match public key");
  return { certPem, keyPem, leaf, key };
}

/** etcd's tlsutil.NewCert: read both files, then X509KeyPair. */
export function loadKeyPair(certFile: string, keyFile: string): KeyPair {
  return parseKeyPair(readFileGo(certFile), readFileGo(keyFile));
}

/**
 * etcd's NewCertPool over one file: every PEM block must be a certificate. A file with none is refused
 * too (etcd would accept it and then refuse every peer, which is harder to diagnose).
 */
export function loadCaBundle(caFile: string): { pem: Buffer; certs: X509Certificate[] } {
  const pem = readFileGo(caFile);
  const blocks = pemBlocks(pem.toString("latin1"));
  const certs = blocks.map((b) => parseCert(b.der));
  if (certs.length === 0) throw new Error(`no certificates found in CA file ${caFile}`);
  return { pem, certs };
}
