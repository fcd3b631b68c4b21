// The pluggable network layer under the transport: how a peer URL is listened on and dialed. The
// default speaks plain HTTP/1.1 over TCP; TlsPeerNet adds https:// peer URLs (--peer-cert-file and
// friends, src/pkg/tls) with the same shape, and serves http:// URLs listed beside them as the default.

import http from "node:http";
import https from "node:https";
import type { TLSSocket } from "node:tls";
import { checkAccepted } from "../pkg/tls/checks.js";
import {
  type ClientTls,
  remoteAddrOf,
  type ServerTls,
  type TlsLogger,
  tlsErrorText,
} from "../pkg/tls/context.js";

export interface PeerNet {
  /** An HTTP server for one listen URL, not yet listening. It must not time out long-lived requests. */
  createServer(url: URL, onRequest: http.RequestListener): http.Server;
  /**
   * Starts a request to `url` (its host and port; the path comes from `options.path`). `keepAlive`
   * requests share pooled connections (probes); the others get a connection of their own (streams and
   * snapshots, which hold it for a long time).
   */
  request(url: URL, options: http.RequestOptions, keepAlive: boolean): http.ClientRequest;
  /** Releases pooled connections. */
  close(): void;
}

/** URL hostname without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

/** Port of an http(s) URL, with the scheme's default when it names none. */
export function portOf(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** "host:port" as Go prints a TCP address ("[::1]:2380" for IPv6). */
export function hostPort(url: URL): string {
  const h = hostOf(url);
  return `${h.includes(":") ? `[${h}]` : h}:${portOf(url)}`;
}

/** Plain HTTP (http:// URLs only). */
export class PlainHttpNet implements PeerNet {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  createServer(url: URL, onRequest: http.RequestListener): http.Server {
    if (url.protocol !== "http:") {
      throw new Error(
        `peer URL ${url.href}: only http:// peer URLs are supported by PlainHttpNet (https:// needs TlsPeerNet)`,
      );
    }
    const server = http.createServer(
      {
        // Streams and snapshots are long-lived requests: no whole-request deadline.
        requestTimeout: 0,
        headersTimeout: 10_000,
        keepAliveTimeout: 30_000,
        noDelay: true,
      },
      onRequest,
    );
    server.timeout = 0;
    return server;
  }

  request(url: URL, options: http.RequestOptions, keepAlive: boolean): http.ClientRequest {
    if (url.protocol !== "http:") {
      throw new Error(
        `peer URL ${url.href}: only http:// peer URLs are supported by PlainHttpNet (https:// needs TlsPeerNet)`,
      );
    }
    const req = http.request({
      ...options,
      host: hostOf(url),
      port: portOf(url),
      agent: keepAlive ? this.agent : false,
    });
    req.setNoDelay(true);
    return req;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface TlsPeerNetOptions {
  /** Serves https:// listen URLs (--peer-cert-file, --peer-key-file, ...); undefined: none may be https. */
  server: ServerTls | undefined;
  /** Dials https:// peer URLs: the certificate to present and how to verify the other member. */
  client: ClientTls;
  logger?: TlsLogger;
}

/** The socket options of peer listeners (shared by both schemes). */
const PEER_SERVER_OPTIONS = {
  requestTimeout: 0,
  headersTimeout: 10_000,
  keepAliveTimeout: 30_000,
  noDelay: true,
};

/**
 * http:// and https:// peer URLs. An accepted TLS connection is handshaken with the certificate files as
 * they are on disk now (ServerTls.refresh), must present a client certificate the peer CA verifies when
 * --peer-client-cert-auth or --peer-trusted-ca-file is set, and then passes etcd's checks
 * (--peer-cert-allowed-cn/-hostname, the certificate's SANs against the remote address, --peer-crl-file)
 * before HTTP sees a byte of it.
 */
export class TlsPeerNet implements PeerNet {
  private readonly plain = new PlainHttpNet();
  private readonly agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly logger: TlsLogger;

  constructor(private readonly opts: TlsPeerNetOptions) {
    this.logger = opts.logger ?? { warn: () => {} };
  }

  createServer(url: URL, onRequest: http.RequestListener): http.Server {
    if (url.protocol === "http:") return this.plain.createServer(url, onRequest);
    if (url.protocol !== "https:") {
      throw new Error(`peer URL ${url.href}: unsupported scheme (http:// and https:// are)`);
    }
    const tls = this.opts.server;
    if (tls === undefined) {
      throw new Error(`cannot listen on TLS for ${hostPort(url)}: KeyFile and CertFile are not presented`);
    }
    const server = https.createServer(
      { ...tls.serverOptions(["http/1.1"]), ...PEER_SERVER_OPTIONS },
      onRequest,
    );
    server.timeout = 0;
    // Before each handshake: pick up certificate files replaced on disk.
    server.prependListener("connection", (raw: { remoteAddress?: string }) => {
      void raw.remoteAddress; // read (and cached) now, for a log line after a failed handshake
      tls.refresh(server);
    });
    // HTTP's own listener runs only once the checks have passed.
    const httpListeners = server.listeners("secureConnection") as ((s: TLSSocket) => void)[];
    server.removeAllListeners("secureConnection");
    server.on("secureConnection", (socket: TLSSocket) => {
      socket.pause();
      const onError = () => socket.destroy();
      socket.on("error", onError); // until node:http installs its own
      checkAccepted(socket, tls.info, { checkSan: true }).then(
        (why) => {
          socket.removeListener("error", onError);
          if (socket.destroyed) return;
          if (why !== undefined) {
            this.rejected(socket, why);
            socket.destroy();
            return;
          }
          // Keep node:http on the JS stream, which holds whatever arrived during the checks.
          const handle = (socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
          if (handle) handle._consumed = true;
          for (const l of httpListeners) l.call(server, socket);
          socket.resume();
        },
        (e: unknown) => {
          this.rejected(socket, String(e));
          socket.destroy();
        },
      );
    });
    server.on("tlsClientError", (err: Error, socket: TLSSocket) => this.rejected(socket, tlsErrorText(err)));
    return server;
  }

  /** etcd's HandshakeFailure log line. */
  private rejected(socket: TLSSocket, error: string): void {
    const remote = remoteAddrOf(socket);
    const serverName = (socket as { servername?: string | false }).servername;
    this.logger.warn(
      { "remote-addr": remote, "server-name": serverName || "", error },
      "rejected connection",
    );
  }

  request(url: URL, options: http.RequestOptions, keepAlive: boolean): http.ClientRequest {
    if (url.protocol === "http:") return this.plain.request(url, options, keepAlive);
    if (url.protocol !== "https:") {
      throw new Error(`peer URL ${url.href}: unsupported scheme (http:// and https:// are)`);
    }
    const host = hostOf(url);
    const req = https.request({
      ...options,
      ...this.opts.client.connectOptions(host),
      host,
      port: portOf(url),
      agent: keepAlive ? this.agent : false,
    });
    req.setNoDelay(true);
    return req;
  }

  close(): void {
    this.plain.close();
    this.agent.destroy();
  }
}
