// A fetch()-shaped helper for the member's own calls to other members' peer URLs (GET /members when
// joining, lease and membership calls forwarded to the leader). fetch() cannot present a client
// certificate, so this uses node:http / node:https with the same --peer-* TLS settings the peer transport
// dials with: https:// URLs present the peer certificate and verify the other member against
// --peer-trusted-ca-file (not at all with --peer-auto-tls, as etcd).

import http from "node:http";
import https from "node:https";
import { ClientTls } from "./context.js";
import { emptyTlsInfo, type TlsInfo } from "./info.js";

export interface PeerFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** The part of fetch()'s Response the callers use; the body is read in full before it resolves. */
export interface PeerResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

const clients = new WeakMap<TlsInfo, ClientTls>();

/**
 * Connections are kept for reuse (followers forward every lease keep-alive to the leader; a TLS
 * handshake per call would cost more than the call). Idle ones close after IDLE_MS, well before the
 * peer server's keep-alive timeout (30 s), so a reused connection is not one the server is closing.
 * Idle sockets do not keep the process alive (the agent unrefs them).
 */
const IDLE_MS = 4000;
const httpAgent = new http.Agent({ keepAlive: true, timeout: IDLE_MS });
const httpsAgents = new WeakMap<ClientTls, https.Agent>();

function httpsAgentFor(ct: ClientTls): https.Agent {
  let a = httpsAgents.get(ct);
  if (a === undefined) {
    a = new https.Agent({ keepAlive: true, timeout: IDLE_MS });
    httpsAgents.set(ct, a);
  }
  return a;
}
/** For https:// peer URLs when no --peer-* TLS is configured: system roots, no certificate. */
const noTls = emptyTlsInfo();

/** The dialing TLS settings for `info` (one per TlsInfo object, reloading its files as they change). */
export function clientTlsFor(info: TlsInfo | undefined): ClientTls | undefined {
  if (info === undefined) return undefined;
  let c = clients.get(info);
  if (c === undefined) {
    c = new ClientTls(info);
    clients.set(info, c);
  }
  return c;
}

/** fetch(url, init) over node:http(s), with `tls` (the --peer-* settings) for https:// URLs. */
export function peerFetch(url: string, init: PeerFetchInit = {}, tls?: TlsInfo): Promise<PeerResponse> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch (e) {
      reject(e);
      return;
    }
    const secure = u.protocol === "https:";
    if (!secure && u.protocol !== "http:") {
      reject(new Error(`unsupported peer URL scheme ${u.protocol}`));
      return;
    }
    const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
    const options: https.RequestOptions = {
      method: init.method ?? "GET",
      host,
      port: u.port === "" ? (secure ? 443 : 80) : Number(u.port),
      path: `${u.pathname}${u.search}`,
      headers: init.headers,
      signal: init.signal,
    };
    let req: http.ClientRequest;
    try {
      if (secure) {
        const ct = clientTlsFor(tls ?? noTls)!;
        req = https.request({ ...options, ...ct.connectOptions(host), agent: httpsAgentFor(ct) });
      } else {
        req = http.request({ ...options, agent: httpAgent });
      }
    } catch (e) {
      reject(e);
      return;
    }
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({
          status: res.statusCode ?? 0,
          headers: {
            get: (name) => {
              const v = res.headers[name.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
            },
          },
          text: () => Promise.resolve(text),
          json: () => Promise.resolve().then(() => JSON.parse(text) as unknown),
        });
      });
    });
    req.end(init.body);
  });
}

/**
 * `path` fetched from the first of a member's peer URLs that answers (a member may advertise several);
 * rejects with the last URL's error when none does.
 */
export async function peerFetchFirst(
  urls: readonly string[],
  path: string,
  init: PeerFetchInit,
  tls?: TlsInfo,
): Promise<PeerResponse> {
  let last: unknown = new Error("no peer URL");
  for (const u of urls) {
    try {
      return await peerFetch(`${u}${path}`, init, tls);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}
