// --auto-tls / --peer-auto-tls: a self-signed certificate and key in <data-dir>/fixtures/{client,peer}, as
// etcd's transport.SelfCert makes them: reused when both files exist, else generated (ECDSA, subject
// O=etcd, CA:true, the listen URLs' hosts as IP or DNS subject alternative names, valid for
// --self-signed-cert-validity years). Built with node:crypto and the DER helpers of asn1.ts (node has no
// certificate builder). Peers and clients that use a self-signed certificate do not verify the other
// side (etcd sets InsecureSkipVerify for them), so the certificate only has to be well formed.

import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import {
  bitString,
  bool,
  explicit,
  octetString,
  oid,
  seq,
  set,
  smallInt,
  time,
  tlv,
  uintBytes,
  utf8,
} from "./asn1.js";

export interface SelfCertFiles {
  certFile: string;
  keyFile: string;
  /** False when existing files were reused. */
  created: boolean;
  notAfter?: Date;
}

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};

/** The 4 or 16 bytes of an IP literal. */
export function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split(".").map(Number));
  if (isIP(ip) !== 6) throw new Error(`not an IP address: ${ip}`);
  let s = ip.replace(/%.*$/, "");
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipBytes(v4[1]!);
    s = `${s.slice(0, -v4[1]!.length)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/** "host:port" (IPv6 in brackets) or a bare host, to the host. */
function hostOnly(hostPort: string): string {
  const m = /^\[([^\]]*)\](?::\d*)?$/.exec(hostPort);
  if (m) return m[1]!;
  const i = hostPort.lastIndexOf(":");
  return i >= 0 && hostPort.indexOf(":") === i ? hostPort.slice(0, i) : hostPort;
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octetString(value));
}

/** A self-signed certificate (PEM) and its key (SEC1 PEM) for `hosts` ("host:port" or hosts). */
export function makeSelfSignedCert(
  hosts: readonly string[],
  validityYears: number,
  now = new Date(),
): { certPem: string; keyPem: string; notAfter: Date } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const notAfter = new Date(now.getTime() + validityYears * 365 * 24 * 3600 * 1000);
  const names: Buffer[] = [];
  for (const hp of hosts) {
    const h = hostOnly(hp);
    if (isIP(h) !== 0) names.push(tlv(0x87, ipBytes(h)));
    else names.push(tlv(0x82, Buffer.from(h, "latin1")));
  }
  const name = seq(set(seq(oid(OID.organization), utf8("etcd"))));
  const sigAlg = seq(oid(OID.ecdsaWithSha256));
  // KeyUsage digitalSignature(0) | keyEncipherment(2) | cRLSign(6): 1010 0010, one unused bit.
  const extensions = [
    extension(OID.keyUsage, true, bitString(Buffer.from([0xa2]), 1)),
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth))),
    extension(OID.basicConstraints, true, seq(bool(true))),
    ...(names.length > 0 ? [extension(OID.subjectAltName, false, seq(...names))] : []),
  ];
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const tbs = seq(
    explicit(0, smallInt(2)),
    uintBytes(serial),
    sigAlg,
    name,
    seq(time(now), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = seq(tbs, sigAlg, bitString(signature));
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  const certPem = `-----BEGIN CERTIFICATE-----\n${b64.replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
  const keyPem = privateKey.export({ type: "sec1", format: "pem" }) as string;
  // A certificate node cannot read back would fail later and less clearly: check it now.
  const x = new X509Certificate(certPem);
  if (!x.checkPrivateKey(createPrivateKey(keyPem))) throw new Error("self-signed certificate: key mismatch");
  return { certPem, keyPem, notAfter };
}

/**
 * etcd's SelfCert: <dir>/cert.pem and <dir>/key.pem, reused if both exist, else generated. `hosts` are
 * the listen URLs' "host:port".
 */
export function selfCert(dir: string, hosts: readonly string[], validityYears: number): SelfCertFiles {
  if (!(validityYears > 0)) {
    throw new Error("selfSignedCertValidity is invalid,it should be greater than 0");
  }
  const certFile = resolve(dir, "cert.pem");
  const keyFile = resolve(dir, "key.pem");
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile, created: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { certPem, keyPem, notAfter } = makeSelfSignedCert(hosts, validityYears);
  writeFileSync(certFile, certPem, { mode: 0o644 });
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  return { certFile, keyFile, created: true, notAfter };
}
