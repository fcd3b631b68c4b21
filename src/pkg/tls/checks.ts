// Checks etcd makes on an accepted TLS connection after its handshake (client/pkg/transport listener.go
// and listener_tls.go), on the certificate the other side presented:
// - --peer-cert-allowed-cn / --peer-cert-allowed-hostname / --client-cert-allowed-hostname: the verified
//   certificate must carry one of the CNs, or be valid for one of the host names;
// - on the peer port (unless --experimental-peer-skip-client-san-verification): a client certificate with
//   subject alternative names must name the address the connection comes from (an IP SAN, or a DNS SAN
//   that resolves to it or that the address's reverse lookup gives);
// - --*-crl-file: no certificate of the presented chain may be revoked (crl.ts).
// A failed check closes the connection (etcd logs "rejected connection").

import { lookup, reverse } from "node:dns/promises";
import { isIP } from "node:net";
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from "node:tls";
import { checkCrl } from "./crl.js";
import type { TlsInfo } from "./info.js";
import { ipBytes } from "./selfcert.js";

/** The subject alternative names of a certificate as node reports them ("DNS:a, IP Address:1.2.3.4"). */
export function sans(cert: PeerCertificate): { dns: string[]; ips: string[] } {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const part of (cert.subjectaltname ?? "").split(/,\s*/)) {
    if (part.startsWith("DNS:")) dns.push(part.slice(4));
    else if (part.startsWith("IP Address:")) ips.push(part.slice(11));
  }
  return { dns, ips };
}

/** The common name (the last CN attribute, as Go's pkix.Name keeps it), or "". */
export function commonNameOf(cert: PeerCertificate | undefined): string {
  const cn = cert?.subject?.CN as string | string[] | undefined;
  if (cn === undefined) return "";
  return Array.isArray(cn) ? (cn[cn.length - 1] ?? "") : cn;
}

function sameIp(a: string, b: string): boolean {
  try {
    return ipBytes(unmapIp(a)).equals(ipBytes(unmapIp(b)));
  } catch {
    return false;
  }
}

/** "::ffff:1.2.3.4" (an IPv4 peer on a dual-stack socket) as "1.2.3.4". */
export function unmapIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

function matchDns(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, "");
  const h = host.toLowerCase().replace(/\.$/, "");
  if (p.startsWith("*.")) {
    const dot = h.indexOf(".");
    return dot > 0 && h.slice(dot) === p.slice(1);
  }
  return p === h;
}

/** Go's x509.Certificate.VerifyHostname: an IP against IP SANs, a name against DNS SANs (wildcards). */
export function certValidForHost(cert: PeerCertificate, host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1");
  const { dns, ips } = sans(cert);
  if (isIP(h) !== 0) return ips.some((ip) => sameIp(ip, h));
  return dns.some((d) => matchDns(d, h));
}

/** etcd's checkCertSAN: undefined when `cert` may be used from `remoteIp`, else why not. */
export async function checkCertSan(cert: PeerCertificate, remoteIp: string): Promise<string | undefined> {
  const { dns, ips } = sans(cert);
  if (dns.length === 0 && ips.length === 0) return undefined;
  const host = unmapIp(remoteIp);
  if (ips.length > 0) {
    if (ips.some((ip) => sameIp(ip, host))) return undefined;
    if (dns.length === 0) return `x509: certificate is valid for ${ips.join(", ")}, not ${host}`;
  }
  let lastErr: string | undefined;
  try {
    const names = await reverse(host);
    if (names.some((n) => dns.some((d) => matchDns(d, n)))) return undefined;
  } catch (e) {
    lastErr = e instanceof Error ? e.message : String(e);
  }
  for (const d of dns.filter((x) => !x.startsWith("*."))) {
    try {
      const addrs = await lookup(d, { all: true });
      if (addrs.some((a) => sameIp(a.address, host))) return undefined;
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
    }
  }
  return `tls: ${JSON.stringify(host)} does not match any of DNSNames ${JSON.stringify(dns)}${lastErr ? ` (${lastErr})` : ""}`;
}

/** The serial numbers of the chain the other side presented (leaf first). */
function chainSerials(leaf: DetailedPeerCertificate): string[] {
  const out: string[] = [];
  const seen = new Set<DetailedPeerCertificate>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c);
    if (c.serialNumber) out.push(c.serialNumber);
  }
  return out;
}

export interface AcceptChecks {
  /** Check the client certificate's SANs against the remote address (the peer listener). */
  checkSan: boolean;
}

/**
 * The checks above on an accepted, handshaken socket: undefined to keep it, or the reason to close it.
 */
export async function checkAccepted(
  socket: TLSSocket,
  info: TlsInfo,
  opts: AcceptChecks,
): Promise<string | undefined> {
  const cert = socket.getPeerCertificate(true);
  if (cert === null || cert === undefined || Object.keys(cert).length === 0) return undefined;
  if (info.allowedCns.length > 0 || info.allowedHostnames.length > 0) {
    const ok =
      socket.authorized &&
      (info.allowedCns.length > 0
        ? info.allowedCns.includes(commonNameOf(cert))
        : info.allowedHostnames.some((h) => certValidForHost(cert, h)));
    if (!ok) return "client certificate authentication failed";
  }
  if (opts.checkSan && !info.skipClientSanVerify && socket.remoteAddress !== undefined) {
    const why = await checkCertSan(cert, socket.remoteAddress);
    if (why !== undefined) return why;
  }
  if (info.crlFile !== "") {
    const why = checkCrl(info.crlFile, chainSerials(cert));
    if (why !== undefined) return why;
  }
  return undefined;
}
