// --client-crl-file / --peer-crl-file: certificate revocation lists as etcd uses them. etcd reads the file
// on every new connection and refuses a peer certificate whose serial number is listed; it checks
// neither the list's signature nor its dates (x509.ParseCRL + a serial lookup), and so does this. The
// file may be PEM ("X509 CRL") or DER. Parsed lists are cached by the file's size, mtime and inode, so
// a replaced file is read again at the next connection.

import { readFileSync, statSync } from "node:fs";
import { children, readElement, TAG } from "./asn1.js";

/** A serial number as lower-case hex without leading zeros (Go's big.Int Bytes(), hex-encoded). */
export function normalizeSerial(hex: string): string {
  const s = hex
    .toLowerCase()
    .replace(/[^0-9a-f]/g, "")
    .replace(/^0+/, "");
  return s;
}

/** DER bytes of a CRL given as PEM or DER. */
function crlDer(data: Buffer): Buffer {
  const text = data.toString("latin1");
  const m = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
  if (m) return Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
  if (text.includes("-----BEGIN")) throw new Error("x509: no X509 CRL PEM block found");
  return data;
}

/** The revoked serial numbers (normalizeSerial form) listed in a CRL (PEM or DER). */
export function parseCrlSerials(data: Buffer): Set<string> {
  const der = crlDer(data);
  // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }
  const top = readElement(der);
  if (top.tag !== TAG.SEQUENCE) throw new Error("x509: malformed crl");
  const tbs = children(top.body)[0];
  if (tbs === undefined || tbs.tag !== TAG.SEQUENCE) throw new Error("x509: malformed tbs crl");
  // TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, issuer, thisUpdate, nextUpdate
  //   OPTIONAL, revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER, ... } OPTIONAL, [0] }
  const items = children(tbs.body);
  let i = 0;
  if (items[i]?.tag === TAG.INTEGER) i++;
  i += 3; // signature, issuer, thisUpdate
  if (items[i]?.tag === TAG.UTC_TIME || items[i]?.tag === TAG.GENERALIZED_TIME) i++;
  const out = new Set<string>();
  const revoked = items[i];
  if (revoked === undefined || revoked.tag !== TAG.SEQUENCE) return out;
  for (const entry of children(revoked.body)) {
    const serial = children(entry.body)[0];
    if (serial?.tag !== TAG.INTEGER) throw new Error("x509: malformed crl entry");
    out.add(normalizeSerial(serial.body.toString("hex")));
  }
  return out;
}

interface Cached {
  stamp: string;
  serials: Set<string>;
}

const cache = new Map<string, Cached>();

function stampOf(path: string): string {
  const st = statSync(path);
  return `${st.size}:${st.mtimeMs}:${st.ino}`;
}

/** The revoked serials of the CRL file at `path`, read again when the file changed. Throws if unreadable. */
export function revokedSerials(path: string): Set<string> {
  const stamp = stampOf(path);
  const hit = cache.get(path);
  if (hit !== undefined && hit.stamp === stamp) return hit.serials;
  const serials = parseCrlSerials(readFileSync(path));
  cache.set(path, { stamp, serials });
  return serials;
}

/**
 * etcd's checkCRL: an error message if any of `serials` (hex, as node's X509Certificate.serialNumber or
 * getPeerCertificate().serialNumber give them) is revoked in the CRL file, or the file cannot be read.
 */
export function checkCrl(path: string, serials: readonly string[]): string | undefined {
  let revoked: Set<string>;
  try {
    revoked = revokedSerials(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return err.code === "ENOENT" ? `open ${path}: no such file or directory` : err.message;
  }
  for (const s of serials) {
    const n = normalizeSerial(s);
    if (revoked.has(n)) return `transport: certificate serial ${n} revoked`;
  }
  return undefined;
}
