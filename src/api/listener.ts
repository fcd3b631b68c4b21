// One listener per client URL, each serving gRPC (HTTP/2) and plain HTTP/1.1 on the same port, as etcd's
// client port does: a connection that opens with the HTTP/2 preface ("PRI * HTTP/2.0...") goes to the
// grpc-js server (through its connection injector, after a short preamble: H2Preamble), any other to
// the node:http server.
//
// https:// and unixs:// URLs are TLS (options.tls, built from --cert-file and friends by src/pkg/tls): the
// TLS handshake runs first (ALPN: chooseAlpn), then etcd's post-handshake checks (CRL, allowed
// hostnames), then the same sniffing on the decrypted stream. Each new connection picks up certificate
// files replaced on disk (ServerTls.refresh). http:// and https:// URLs may be listed side by side.
//
// Each URL's host is bound exactly (a name is resolved, its first IPv4 address preferred, as Go's
// net.Listen does); a port in use fails start with Go's text ("listen tcp 127.0.0.1:2379: bind: address
// already in use"). unix:// URLs listen on the socket file named by host and path.

import { lookup } from "node:dns/promises";
import { rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer, isIP, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { checkAccepted } from "../pkg/tls/checks.js";
import { remoteAddrOf, type ServerTls, tlsErrorText } from "../pkg/tls/context.js";
import {
  EMPTY_SETTINGS_FRAME,
  FLAG_ACK,
  FRAME_HEADER_BYTES,
  FRAME_HEADERS,
  FRAME_SETTINGS,
  fixAuthorityInHeadersFrame,
} from "./h2_authority.js";
import type { HttpHandler } from "./http.js";
import { type ApiLogger, noopLogger } from "./types.js";

/** The HTTP/2 client connection preface (RFC 9113 section 3.4). */
export const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Longest an HTTP/2 connection is held before handover (a client that never acknowledges our SETTINGS). */
const H2_PREAMBLE_MAX_MS = 2000;
/** How long an acknowledged HTTP/2 connection without a request is held before handover. */
const H2_IDLE_HANDOVER_MS = 100;

/**
 * The start of an HTTP/2 connection, held back from nghttp2 until it is known to be safe to hand over.
 * The listener answers the client preface with an empty SETTINGS frame of its own (grpc-go clients wait
 * for one before their first request), so it can see the first HEADERS and fix an :authority nghttp2
 * would refuse (h2_authority.ts). The client's ACK of that SETTINGS is removed (nghttp2 did not send it),
 * and the connection is handed over once that ACK and a request (or any frame nghttp2 must answer) were
 * seen.
 */
export class H2Preamble {
  private readonly out: Buffer[] = [HTTP2_PREFACE];
  private pending: Buffer = Buffer.alloc(0);
  /** The client acknowledged our SETTINGS (and the ACK was dropped). */
  acked = false;
  /** A frame that needs nghttp2 arrived (HEADERS, PING, DATA, RST_STREAM, GOAWAY...). */
  requestSeen = false;

  get ready(): boolean {
    return this.acked && this.requestSeen;
  }

  /** Takes bytes the client sent after its preface. */
  feed(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.pending.length < FRAME_HEADER_BYTES) return;
      const len = this.pending.readUIntBE(0, 3);
      if (this.pending.length < FRAME_HEADER_BYTES + len) return;
      const frame = this.pending.subarray(0, FRAME_HEADER_BYTES + len);
      this.pending = this.pending.subarray(FRAME_HEADER_BYTES + len);
      const type = frame[3]!;
      const flags = frame[4]!;
      if (type === FRAME_SETTINGS && (flags & FLAG_ACK) !== 0 && !this.acked) {
        this.acked = true;
        continue;
      }
      if (type === FRAME_HEADERS) {
        this.out.push(fixAuthorityInHeadersFrame(frame) ?? frame);
        this.requestSeen = true;
        continue;
      }
      // SETTINGS, WINDOW_UPDATE and PRIORITY can wait; anything else wants an answer from nghttp2.
      if (type !== FRAME_SETTINGS && type !== 0x8 && type !== 0x2) this.requestSeen = true;
      this.out.push(frame);
    }
  }

  /** Everything to give nghttp2: the preface, the frames (fixed), and any partial frame. */
  take(): Buffer {
    return Buffer.concat([...this.out, this.pending]);
  }
}

/**
 * ALPN on TLS client URLs. gRPC clients offer only "h2"; browsers, curl and Go's HTTP client offer "h2"
 * and "http/1.1" and get HTTP/1.1, which the HTTP endpoints (/health, /metrics, the /v3 gateway) speak
 * here (etcd serves them over either). A client offering no ALPN is sniffed as on plain ports.
 */
export function chooseAlpn(offered: string[]): string | undefined {
  if (offered.includes("http/1.1")) return "http/1.1";
  if (offered.includes("h2")) return "h2";
  return undefined;
}

export interface BoundAddress {
  /** The URL as configured. */
  url: string;
  /** The URL with the port actually bound (differs when the configured port was 0). */
  boundUrl: string;
  /** tcp: the IP bound; unix: the socket path. */
  address: string;
  /** 0 for unix sockets. */
  port: number;
  family: "IPv4" | "IPv6" | "unix";
}

export interface ClientListenerOptions {
  urls: readonly (URL | string)[];
  /** The gRPC server (createGrpcServer); need not be bound. */
  grpc: grpc.Server;
  /** The HTTP/1.1 request listener (createHttpHandler). */
  http: HttpHandler;
  /** TLS for https:// and unixs:// URLs (required if any is listed). */
  tls?: ServerTls;
  logger?: ApiLogger;
}

interface Target {
  url: URL;
  kind: "tcp" | "unix";
  host: string;
  port: number;
  /** https:// or unixs://: TLS first. */
  secure: boolean;
}

/** Resolves where a client URL listens. Throws for schemes that are not served. */
export function listenTarget(u: URL | string): Target {
  const url = typeof u === "string" ? new URL(u) : u;
  switch (url.protocol) {
    case "http:":
    case "https:": {
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
      const secure = url.protocol === "https:";
      const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
      return { url, kind: "tcp", host, port, secure };
    }
    case "unix:":
    case "unixs:":
      return {
        url,
        kind: "unix",
        host: `${url.host}${url.pathname}`,
        port: 0,
        secure: url.protocol === "unixs:",
      };
    default:
      throw new Error(`listen ${url.href}: unsupported URL scheme "${url.protocol.replace(/:$/, "")}"`);
  }
}

async function resolveHost(host: string): Promise<string> {
  if (host === "" || isIP(host) !== 0) return host;
  const addrs = await lookup(host, { all: true });
  if (addrs.length === 0) throw new Error(`listen tcp ${host}: no such host`);
  return (addrs.find((a) => a.family === 4) ?? addrs[0]!).address;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Go's text for a failed listen. */
function listenError(t: Target, addr: string, err: NodeJS.ErrnoException): Error {
  const where = t.kind === "unix" ? `listen unix ${t.host}` : `listen tcp ${hostPort(addr, t.port)}`;
  const why: Record<string, string> = {
    EADDRINUSE: "bind: address already in use",
    EADDRNOTAVAIL: "bind: cannot assign requested address",
    EACCES: "bind: permission denied",
  };
  const e = new Error(`${where}: ${why[err.code ?? ""] ?? err.message}`);
  (e as NodeJS.ErrnoException).code = err.code;
  return e;
}

export class ClientListener {
  private readonly netServers: NetServer[] = [];
  private readonly sockets = new Set<Socket>();
  /** The connections handed to gRPC, and the bytes of those already closed (client traffic metrics). */
  private readonly grpcSockets = new Set<Socket>();
  private readonly closedGrpc = { received: 0, sent: 0 };
  private readonly httpServer: HttpServer;
  private readonly injector: grpc.ConnectionInjector;
  private readonly logger: ApiLogger;
  private readonly tls: ServerTls | undefined;
  /** Handshakes accepted TLS connections (never listens itself). */
  private readonly tlsServer: TlsServer | undefined;
  private bound: BoundAddress[] = [];
  private stopped = false;

  private constructor(opts: ClientListenerOptions) {
    this.logger = opts.logger ?? noopLogger;
    this.httpServer = createHttpServer(opts.http);
    this.injector = opts.grpc.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.tls = opts.tls;
    if (opts.tls !== undefined) {
      const server = createTlsServer(opts.tls.serverOptions(chooseAlpn));
      server.on("secureConnection", (s: TLSSocket) => this.secured(s));
      server.on("tlsClientError", (err: Error, s: TLSSocket) => this.rejected(s, tlsErrorText(err)));
      this.tlsServer = server;
    }
  }

  /** Binds every URL (all or nothing: on a failure the ones bound are closed) and starts serving. */
  static async listen(opts: ClientListenerOptions): Promise<ClientListener> {
    const targets = opts.urls.map(listenTarget);
    const needsTls = targets.find((t) => t.secure);
    if (needsTls !== undefined && opts.tls === undefined) {
      throw new Error(
        `TLS key/cert (--cert-file, --key-file) must be provided for client url ${needsTls.url.href} with HTTPS scheme`,
      );
    }
    const l = new ClientListener(opts);
    try {
      for (const t of targets) await l.bind(t);
    } catch (err) {
      await l.stop(0);
      throw err;
    }
    return l;
  }

  /** What each URL is bound to, in the order of the URLs. */
  get addresses(): readonly BoundAddress[] {
    return this.bound;
  }

  private async bind(t: Target): Promise<void> {
    const addr = t.kind === "unix" ? t.host : await resolveHost(t.host);
    const server = createNetServer((socket) => this.accept(socket, t.secure));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(listenError(t, addr, err));
      server.once("error", onError);
      const done = () => {
        server.removeListener("error", onError);
        resolve();
      };
      if (t.kind === "unix") server.listen(addr, done);
      else server.listen({ host: addr, port: t.port, exclusive: true }, done);
    });
    server.on("error", (err) =>
      this.logger.warn({ url: t.url.href, err: String(err) }, "client listener error"),
    );
    this.netServers.push(server);
    const a = server.address();
    if (a === null || typeof a === "string") {
      this.bound.push({ url: t.url.href, boundUrl: t.url.href, address: addr, port: 0, family: "unix" });
    } else {
      const boundUrl = `${t.url.protocol}//${hostPort(a.family === "IPv6" ? a.address : a.address, a.port)}`;
      this.bound.push({
        url: t.url.href,
        boundUrl,
        address: a.address,
        port: a.port,
        family: a.family === "IPv6" ? "IPv6" : "IPv4",
      });
    }
    this.logger.info(
      { address: hostPort(addr, t.port), url: t.url.href },
      t.secure ? "serving client traffic securely" : "serving client traffic",
    );
  }

  /** Bytes received and sent on the gRPC connections so far (closed and open ones). */
  grpcTraffic(): { received: number; sent: number } {
    let { received, sent } = this.closedGrpc;
    for (const s of this.grpcSockets) {
      received += s.bytesRead;
      sent += s.bytesWritten;
    }
    return { received, sent };
  }

  /** A new TCP/unix connection: tracked until closed; TLS ones are handshaken first. */
  private accept(socket: Socket, secure: boolean): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    void socket.remoteAddress; // read (and cached) now, for a log line after a failed handshake
    if (!secure) {
      this.route(socket);
      return;
    }
    // A reset during the handshake must not become an unhandled 'error'.
    socket.on("error", () => socket.destroy());
    // Install certificate files changed on disk since the last connection, then handshake.
    this.tls!.refresh(this.tlsServer!);
    this.tlsServer!.emit("connection", socket);
  }

  /** A handshaken TLS connection: etcd's checks (CRL, allowed hostnames), then routing. */
  private secured(socket: TLSSocket): void {
    socket.pause();
    const onError = () => socket.destroy();
    socket.on("error", onError); // until route() installs its own
    checkAccepted(socket, this.tls!.info, { checkSan: false }).then(
      (why) => {
        socket.removeListener("error", onError);
        if (why !== undefined) {
          this.rejected(socket, why);
          socket.destroy();
        } else if (this.stopped || socket.destroyed) socket.destroy();
        else this.route(socket);
      },
      (e: unknown) => {
        this.rejected(socket, String(e));
        socket.destroy();
      },
    );
  }

  /** etcd's HandshakeFailure log line. */
  private rejected(socket: TLSSocket | undefined, error: string): void {
    const remote = remoteAddrOf(socket);
    const serverName = (socket as { servername?: string | false } | undefined)?.servername;
    this.logger.warn(
      { "remote-addr": remote, "server-name": serverName || "", error },
      "rejected connection",
    );
  }

  /**
   * Reads until the first bytes tell HTTP/2 from HTTP/1.x, then hands the connection over. HTTP/2
   * connections first go through a short preamble (see H2Preamble) so an :authority nghttp2 would refuse
   * can be fixed; HTTP/1.x connections are handed over untouched.
   */
  private route(socket: Socket): void {
    const onError = () => socket.destroy();
    socket.on("error", onError);
    let seen: Buffer = Buffer.alloc(0);
    let h2: H2Preamble | undefined;
    let timer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      clearTimeout(timer);
      socket.removeListener("data", onData);
      socket.removeListener("error", onError);
      socket.pause();
    };
    const toH2 = () => {
      cleanup();
      // node's HTTP/2 server takes a TLS socket only if ALPN chose h2; a client that sent the HTTP/2
      // preface without ALPN (prior knowledge) speaks HTTP/2 all the same.
      const alpn = socket as { alpnProtocol?: string | false };
      if (alpn.alpnProtocol !== undefined && alpn.alpnProtocol !== "h2") alpn.alpnProtocol = "h2";
      socket.unshift(h2!.take());
      this.grpcSockets.add(socket);
      socket.once("close", () => {
        this.grpcSockets.delete(socket);
        this.closedGrpc.received += socket.bytesRead;
        this.closedGrpc.sent += socket.bytesWritten;
      });
      // node's Http2Session takes over the socket's handle and first reads what is buffered.
      this.injector.injectConnection(socket);
    };
    const onData = (chunk: Buffer) => {
      if (h2 === undefined) {
        seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
        const n = Math.min(seen.length, HTTP2_PREFACE.length);
        const isH2 = seen.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
        if (!isH2) {
          cleanup();
          socket.unshift(seen);
          // Keep node:http on the JS stream (no native consume of the handle), so the bytes given back
          // above are parsed before anything read later.
          const handle = (socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
          if (handle) handle._consumed = true;
          this.httpServer.emit("connection", socket);
          socket.resume();
          return;
        }
        if (seen.length < HTTP2_PREFACE.length) return; // a prefix of the preface: read on
        h2 = new H2Preamble();
        socket.write(EMPTY_SETTINGS_FRAME);
        timer = setTimeout(toH2, H2_PREAMBLE_MAX_MS);
        chunk = seen.subarray(HTTP2_PREFACE.length);
      }
      const wasAcked = h2.acked;
      h2.feed(chunk);
      if (h2.ready) toH2();
      else if (h2.acked && !wasAcked) {
        // Acknowledged, no request yet (an idle connection): do not hold it long.
        clearTimeout(timer);
        timer = setTimeout(toH2, H2_IDLE_HANDOVER_MS);
      }
    };
    socket.on("data", onData);
    socket.once("close", () => clearTimeout(timer));
    socket.resume();
  }

  /**
   * Stops accepting, then closes connections: HTTP/2 sessions get GOAWAY and `graceMs` to finish,
   * HTTP/1.1 idle connections close at once and busy ones after `graceMs`. Idempotent.
   */
  async stop(graceMs = 1000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const closing = this.netServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.injector.drain(graceMs);
    this.httpServer.closeIdleConnections();
    if (graceMs > 0 && this.sockets.size > 0) {
      // Wait for connections to finish (polling), at most graceMs.
      const deadline = Date.now() + graceMs;
      while (this.sockets.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(10, graceMs)));
      }
    }
    this.httpServer.closeAllConnections();
    this.injector.destroy();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.httpServer.close();
    await Promise.all(closing);
    for (const b of this.bound) {
      if (b.family === "unix") rmSync(b.address, { force: true });
    }
  }
}
