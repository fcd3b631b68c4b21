// The peer transport: Raft messages and snapshots between members over their peer URLs.
//
// Wire (HTTP/1.1 on every --listen-peer-urls URL; every request carries X-Etcd-Cluster-ID and
// X-Server-From, and every answer X-Etcd-Cluster-ID, IDs in unpadded lowercase hex as etcd prints them):
//
//   POST /raft/stream/<fromHex>   one long-lived request per ordered pair of members, sender to receiver.
//                                 Body (chunked): frames of u32 length + encodeMessage() bytes, a zero
//                                 length being a heartbeat. X-Raft-To names the receiver. Answer: 200 at
//                                 once, then heartbeat frames for as long as the stream lives.
//   POST /raft/snapshot           one MsgSnap frame, then the backend snapshot bytes; 204 once saved.
//   GET  /raft/probing            {"OK":true,"Now":...}: the RTT probe.
//   anything else                 handlers.httpHandler (GET /members, /version), else 404.
//
// Refusals, with etcd's texts: 412 "cluster ID mismatch" (logged with the remote and both IDs), 412 "to
// field mismatch", 410 "the member has been permanently removed from the cluster" for a removed sender
// (whose transport then calls onRemoved), 404 "invalid from", 405 for a wrong method.
//
// Callbacks (onUnreachable, onSnapshotStatus, onRemoved) never run inside send() or sendSnapshot():
// they are queued as microtasks, so the caller's Ready loop is not re-entered.

import type http from "node:http";
import type { AddressInfo } from "node:net";
import type { LogFields, RaftLogger } from "../raft/logger.js";
import type { Message } from "../raft/types.js";
import type { BackoffOptions } from "./backoff.js";
import { IncomingStream } from "./incoming.js";
import { hostOf, hostPort, type PeerNet, PlainHttpNet, portOf } from "./net.js";
import { isSnapshotMessage, Peer, type PeerContext } from "./peer.js";
import { receiveSnapshot, sendSnapshot } from "./snapshot.js";
import {
  HEADER_CLUSTER_ID,
  HEADER_FROM,
  HEADER_PEER_URLS,
  HEADER_SERVER_VERSION,
  HEADER_TO,
  HEADER_TO_ALT,
  idFromHex,
  idToHex,
  PATH_PROBING,
  PATH_SNAPSHOT,
  PATH_STREAM,
  type PeerStats,
  type PeerTransportOptions,
  TEXT_CLUSTER_ID_MISMATCH,
  TEXT_MEMBER_REMOVED,
  TEXT_TO_MISMATCH,
  type TransportHandlers,
} from "./types.js";

/** Listening on a peer URL failed; `message` reads as Go's (`listen tcp 127.0.0.1:2380: bind: ...`). */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly url: string,
  ) {
    super(message);
    this.name = "ListenError";
  }
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: "bind: address already in use",
  EADDRNOTAVAIL: "bind: cannot assign requested address",
  EACCES: "bind: permission denied",
};

function line(level: string, msg: string, fields?: LogFields): void {
  const extra = fields
    ? ` ${JSON.stringify(fields, (_k, v) => (typeof v === "bigint" ? v.toString(16) : v))}`
    : "";
  process.stderr.write(`${level} ${msg}${extra}\n`);
}
const noop = (): void => {};
/** Default logger: warnings and errors to stderr. */
export const stderrTransportLogger: RaftLogger = {
  debug: noop,
  info: noop,
  warn: (msg, fields) => line("warn", msg, fields),
  error: (msg, fields) => line("error", msg, fields),
};

function parseUrls(id: bigint, urls: readonly string[]): URL[] {
  if (urls.length === 0) throw new Error(`peer ${idToHex(id)}: no peer URLs`);
  return urls.map((u) => {
    const url = new URL(u);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error(`peer ${idToHex(id)}: URL scheme must be http or https: ${u}`);
    }
    return url;
  });
}

export class PeerTransport {
  readonly memberId: bigint;
  /** A dropped send or a broken stream: Raft should treat the peer as unreachable (MsgUnreachable). */
  onUnreachable: (id: bigint) => void = () => {};
  /**
   * Every peer URL of `id` refused connections after its stream had been up: its process is gone (not
   * merely slow or partitioned). Raft may elect a new leader early (RawNode.reportLeaderDown).
   */
  onPeerDown: (id: bigint) => void = () => {};
  /** Peer `id` refused our stream: it belongs to cluster `theirs` (hex; "" if it did not say). */
  onClusterMismatch: (id: bigint, theirs: string) => void = () => {};
  /** Outcome of a sendSnapshot (raft's ReportSnapshot). */
  onSnapshotStatus: (id: bigint, ok: boolean) => void = () => {};
  /** A peer answered 410: this member was removed from the cluster. Called once. */
  onRemoved: () => void = () => {};
  /** Each RTT probe answered, in seconds (feeds etcd_network_peer_round_trip_time_seconds). */
  onProbe: (id: bigint, rttSeconds: number) => void = () => {};

  private clusterIdValue: bigint;
  private readonly handlers: TransportHandlers;
  private readonly logger: RaftLogger;
  private readonly net: PeerNet;
  private readonly listen: URL[];
  private readonly cfg: {
    queueLimit: number;
    queueBytesLimit: number;
    dialTimeoutMs: number;
    connReadTimeoutMs: number;
    heartbeatMs: number;
    probeIntervalMs: number;
    backoff: BackoffOptions;
    random: () => number;
    snapshotIdleTimeoutMs: number;
    maxFrameBytes: number;
    advertiseUrls: string[];
    serverVersion: string | undefined;
  };
  private readonly ctx: PeerContext;
  private readonly peers = new Map<bigint, Peer>();
  private readonly incoming = new Map<bigint, IncomingStream>();
  private readonly received = new Map<bigint, { messages: number; bytes: number }>();
  private readonly servers: http.Server[] = [];
  private bound: URL[] = [];
  private state: "new" | "starting" | "started" | "closed" = "new";
  private removedReported = false;
  private pendingUnreachable = new Set<bigint>();

  constructor(opts: PeerTransportOptions) {
    this.memberId = opts.memberId;
    this.clusterIdValue = opts.clusterId;
    this.handlers = opts.handlers;
    this.logger = opts.logger ?? stderrTransportLogger;
    this.net = opts.net ?? new PlainHttpNet();
    this.listen = opts.listenUrls.map((u) => new URL(u.href));
    const connReadTimeoutMs = opts.connReadTimeoutMs ?? 5000;
    this.cfg = {
      queueLimit: opts.queueLimit ?? 4096,
      queueBytesLimit: opts.queueBytesLimit ?? 64 * 1024 * 1024,
      dialTimeoutMs: opts.dialTimeoutMs ?? 1000,
      connReadTimeoutMs,
      heartbeatMs: opts.heartbeatMs ?? Math.max(1, Math.floor(connReadTimeoutMs / 3)),
      probeIntervalMs: opts.probeIntervalMs ?? 1000,
      backoff: opts.backoff ?? {},
      random: opts.random ?? Math.random,
      snapshotIdleTimeoutMs: opts.snapshotIdleTimeoutMs ?? 30_000,
      maxFrameBytes: opts.maxFrameBytes ?? 512 * 1024 * 1024,
      advertiseUrls: opts.advertiseUrls ?? [],
      serverVersion: opts.serverVersion,
    };
    if (!(this.cfg.queueLimit >= 1)) throw new RangeError("queueLimit must be at least 1");
    this.ctx = {
      memberId: this.memberId,
      net: this.net,
      logger: this.logger,
      ...this.cfg,
      clusterId: () => this.clusterIdValue,
      headers: (to) => this.requestHeaders(to),
      reportUnreachable: (id) => this.reportUnreachable(id),
      reportClusterMismatch: (id, theirs) =>
        queueMicrotask(() => {
          if (this.state !== "closed") this.onClusterMismatch(id, theirs);
        }),
      reportDown: (id) =>
        queueMicrotask(() => {
          if (this.state !== "closed") this.onPeerDown(id);
        }),
      reportRemoved: (by) => this.reportRemoved(by),
      reportProbe: (id, rtt) => this.onProbe(id, rtt),
    };
  }

  get clusterId(): bigint {
    return this.clusterIdValue;
  }

  /** For a member that learns the cluster ID after creating its transport. */
  setClusterId(id: bigint): void {
    this.clusterIdValue = id;
  }

  /**
   * Listens on every listen URL, at exactly its host and port. Throws ListenError (e.g. "listen tcp
   * 127.0.0.1:2380: bind: address already in use") and listens on none if any of them fails.
   */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error(`transport: start() when ${this.state}`);
    this.state = "starting";
    const onRequest: http.RequestListener = (req, res) => this.onRequest(req, res);
    try {
      for (const url of this.listen) {
        const server = this.net.createServer(url, onRequest);
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen({ host: hostOf(url), port: portOf(url), exclusive: true }, () => {
            server.off("error", reject);
            resolve();
          });
        }).catch((err: NodeJS.ErrnoException) => {
          const what = (err.code && BIND_ERRORS[err.code]) ?? err.message;
          throw new ListenError(`listen tcp ${hostPort(url)}: ${what}`, err.code, url.href);
        });
        server.on("error", (err) =>
          this.logger.error("peer listener failed", { url: url.href, error: err.message }),
        );
        this.servers.push(server);
        const b = new URL(url.href);
        b.port = String((server.address() as AddressInfo).port);
        this.bound.push(b);
        this.logger.info("listening for peers", {
          address: b.href,
          "local-member-id": idToHex(this.memberId),
        });
      }
    } catch (err) {
      await this.closeServers();
      this.bound = [];
      this.state = "closed";
      throw err;
    }
    if (this.state === "starting") this.state = "started";
  }

  /** The URLs listened on, with the ports actually bound (port 0 resolved). Empty before start(). */
  listenUrls(): URL[] {
    return this.bound.map((u) => new URL(u.href));
  }

  /** Starts streaming to `id` at `urls` (tried in turn). Adding a known peer updates its URLs. */
  addPeer(id: bigint, urls: readonly string[]): void {
    if (this.state === "closed") return;
    if (id === this.memberId) throw new Error(`transport: cannot add self (${idToHex(id)}) as a peer`);
    const parsed = parseUrls(id, urls);
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      existing.update(parsed);
      return;
    }
    const peer = new Peer(id, parsed, this.ctx);
    this.peers.set(id, peer);
    this.logger.info("added remote peer", {
      "local-member-id": idToHex(this.memberId),
      "remote-peer-id": idToHex(id),
      "remote-peer-urls": urls,
    });
    peer.start();
  }

  /** New URLs for `id` (a member's peer URLs were updated); a stream on a dropped URL moves over. */
  updatePeer(id: bigint, urls: readonly string[]): void {
    const peer = this.peers.get(id);
    if (peer === undefined) {
      this.logger.debug("ignored update of unknown peer", { "remote-peer-id": idToHex(id) });
      return;
    }
    peer.update(parseUrls(id, urls));
    this.logger.info("updated remote peer", { "remote-peer-id": idToHex(id), "remote-peer-urls": urls });
  }

  /** Stops talking to `id`: its outgoing stream, prober and snapshots, and its incoming stream. */
  removePeer(id: bigint): void {
    const peer = this.peers.get(id);
    if (peer !== undefined) {
      peer.stop();
      this.peers.delete(id);
      this.logger.info("removed remote peer", { "remote-peer-id": idToHex(id) });
    }
    this.incoming.get(id)?.close("peer removed", true);
    this.received.delete(id);
  }

  hasPeer(id: bigint): boolean {
    return this.peers.has(id);
  }

  /**
   * Queues messages on their peers' streams. Never blocks and never buffers without bound: a message
   * to an unreachable peer, or beyond a full queue, is dropped and the peer reported through
   * onUnreachable (once per send call). Messages to unknown peers are ignored. MsgSnap belongs in
   * sendSnapshot; one found here fails (onSnapshotStatus false).
   */
  send(msgs: readonly Message[]): void {
    if (this.state === "closed") return;
    for (const m of msgs) {
      if (m.to === this.memberId) continue;
      if (isSnapshotMessage(m)) {
        this.logger.warn("MsgSnap passed to send(); use sendSnapshot", { "remote-peer-id": idToHex(m.to) });
        queueMicrotask(() => this.onSnapshotStatus(m.to, false));
        continue;
      }
      const peer = this.peers.get(m.to);
      if (peer === undefined) {
        this.logger.debug("ignored message send request; unknown remote peer target", {
          "remote-peer-id": idToHex(m.to),
        });
        continue;
      }
      if (!peer.send(m)) this.reportUnreachable(m.to);
    }
  }

  /**
   * Streams a snapshot to m.to: the MsgSnap, then `data()` (called once, when the transfer starts).
   * Reports onSnapshotStatus(m.to, ok) when the receiver has answered (and onUnreachable on failure).
   */
  sendSnapshot(m: Message, data: () => AsyncIterable<Uint8Array>): void {
    const peer = this.state === "closed" ? undefined : this.peers.get(m.to);
    if (peer === undefined) {
      queueMicrotask(() => this.onSnapshotStatus(m.to, false));
      return;
    }
    void sendSnapshot(this.ctx, peer, m, data, this.cfg.snapshotIdleTimeoutMs).then((r) => {
      if (r.ok) peer.counters.snapshotsSent++;
      else {
        peer.counters.snapshotsFailed++;
        if (this.state !== "closed") this.onUnreachable(m.to);
      }
      if (this.state !== "closed") this.onSnapshotStatus(m.to, r.ok);
    });
  }

  /** When the outgoing stream to `id` became healthy (ms since the epoch); undefined while it is not. */
  activeSince(id: bigint): number | undefined {
    return this.peers.get(id)?.activeSince;
  }

  /** Counters per known peer, by ID. */
  stats(): PeerStats[] {
    return [...this.peers.values()]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((p) => p.stats(this.received.get(p.id)));
  }

  peerStats(id: bigint): PeerStats | undefined {
    return this.peers.get(id)?.stats(this.received.get(id));
  }

  /** Stops every peer and stream and closes the listeners. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const p of this.peers.values()) p.stop();
    this.peers.clear();
    for (const s of [...this.incoming.values()]) s.close("transport closed", true);
    await this.closeServers();
    this.net.close();
  }

  // --- internals ---

  private async closeServers(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  private requestHeaders(to: bigint): Record<string, string> {
    const h: Record<string, string> = {
      [HEADER_CLUSTER_ID]: idToHex(this.clusterIdValue),
      [HEADER_FROM]: idToHex(this.memberId),
      [HEADER_TO]: idToHex(to),
    };
    if (this.cfg.advertiseUrls.length > 0) h[HEADER_PEER_URLS] = this.cfg.advertiseUrls.join(",");
    if (this.cfg.serverVersion !== undefined) h[HEADER_SERVER_VERSION] = this.cfg.serverVersion;
    return h;
  }

  private reportUnreachable(id: bigint): void {
    if (this.pendingUnreachable.size === 0) {
      queueMicrotask(() => {
        const ids = this.pendingUnreachable;
        this.pendingUnreachable = new Set();
        if (this.state === "closed") return;
        for (const i of ids) this.onUnreachable(i);
      });
    }
    this.pendingUnreachable.add(id);
  }

  private reportRemoved(by: bigint): void {
    if (this.removedReported || this.state === "closed") return;
    this.removedReported = true;
    this.logger.error("this member was removed from the cluster", {
      "local-member-id": idToHex(this.memberId),
      "reported-by": idToHex(by),
    });
    queueMicrotask(() => this.onRemoved());
  }

  private httpError(res: http.ServerResponse, status: number, text: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      connection: "close",
    });
    res.end(`${text}\n`);
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader("X-Etcd-Cluster-ID", idToHex(this.clusterIdValue));
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/raft" || path.startsWith("/raft/")) {
      this.onRaftRequest(req, res, path);
      return;
    }
    try {
      if (this.handlers.httpHandler?.(req, res)) return;
    } catch (err) {
      this.logger.error("peer HTTP handler failed", { path, error: String(err) });
      this.httpError(res, 500, "internal server error");
      return;
    }
    this.httpError(res, 404, "404 page not found");
  }

  private methodIs(req: http.IncomingMessage, res: http.ServerResponse, method: string): boolean {
    if (req.method === method) return true;
    res.setHeader("Allow", method);
    this.httpError(res, 405, "Method Not Allowed");
    return false;
  }

  private checkCluster(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const got = req.headers[HEADER_CLUSTER_ID];
    const gotStr = Array.isArray(got) ? got[0] : got;
    if (idFromHex(gotStr) === this.clusterIdValue) return true;
    this.logger.warn("request cluster ID mismatch", {
      "local-member-id": idToHex(this.memberId),
      "local-member-cluster-id": idToHex(this.clusterIdValue),
      "remote-peer-id": req.headers[HEADER_FROM],
      "remote-peer-cluster-id": gotStr,
      "remote-addr": `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      path: req.url,
    });
    this.httpError(res, 412, TEXT_CLUSTER_ID_MISMATCH);
    return false;
  }

  private onRaftRequest(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    if (this.state === "closed") {
      this.httpError(res, 503, "transport closed");
      return;
    }
    if (path === PATH_PROBING) {
      if (!this.methodIs(req, res, "GET") || !this.checkCluster(req, res)) return;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ OK: true, Now: new Date().toISOString() }));
      return;
    }
    if (path === PATH_SNAPSHOT) {
      if (!this.methodIs(req, res, "POST") || !this.checkCluster(req, res)) return;
      void receiveSnapshot(req, res, {
        memberId: this.memberId,
        logger: this.logger,
        maxFrameBytes: this.cfg.maxFrameBytes,
        isRemoved: (id) => this.handlers.isRemoved(id),
        onSnapshot: (m, data) => this.handlers.onSnapshot(m, data),
        received: (from, bytes) => {
          this.counters(from).bytes += bytes;
        },
        httpError: (r, status, text) => this.httpError(r, status, text),
      }).catch((err) => {
        this.logger.error("snapshot receive failed", { error: String(err) });
        this.httpError(res, 500, "internal server error");
      });
      return;
    }
    if (path.startsWith(PATH_STREAM)) {
      this.onStreamRequest(req, res, path.slice(PATH_STREAM.length));
      return;
    }
    this.httpError(res, 404, "404 page not found");
  }

  /**
   * A stream from a member this one does not know (yet): typically a member added by a conf change this
   * one has not applied, possibly the new leader. Without a way back, this member could not answer it
   * and would never catch up to learn of it, so it is dialed at the URLs it advertised (X-PeerURLs), as
   * etcd's "remotes" are. addPeer later adopts it; removePeer drops it.
   */
  private addRemote(id: bigint, req: http.IncomingMessage): void {
    const header = req.headers[HEADER_PEER_URLS];
    const urls = (Array.isArray(header) ? header.join(",") : (header ?? ""))
      .split(",")
      .filter((u) => u !== "");
    if (urls.length === 0 || this.state === "closed") return;
    let parsed: URL[];
    try {
      parsed = parseUrls(id, urls);
    } catch {
      return;
    }
    const peer = new Peer(id, parsed, this.ctx);
    this.peers.set(id, peer);
    this.logger.info("added new remote peer", {
      "local-member-id": idToHex(this.memberId),
      "remote-peer-id": idToHex(id),
      "remote-peer-urls": urls,
    });
    peer.start();
  }

  private counters(id: bigint): { messages: number; bytes: number } {
    let c = this.received.get(id);
    if (c === undefined) {
      c = { messages: 0, bytes: 0 };
      this.received.set(id, c);
    }
    return c;
  }

  private onStreamRequest(req: http.IncomingMessage, res: http.ServerResponse, fromHex: string): void {
    if (!this.methodIs(req, res, "POST") || !this.checkCluster(req, res)) return;
    const from = idFromHex(fromHex);
    if (from === undefined) {
      this.httpError(res, 404, "invalid from");
      return;
    }
    const fields = {
      "local-member-id": idToHex(this.memberId),
      "remote-peer-id": idToHex(from),
      "remote-addr": `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    };
    if (this.handlers.isRemoved(from)) {
      this.logger.warn("rejected stream from remote peer because it was removed", fields);
      this.httpError(res, 410, TEXT_MEMBER_REMOVED);
      return;
    }
    const to = req.headers[HEADER_TO] ?? req.headers[HEADER_TO_ALT];
    if (idFromHex(Array.isArray(to) ? to[0] : to) !== this.memberId) {
      this.logger.warn("ignored streaming request; ID mismatch", { ...fields, "remote-peer-id-header": to });
      this.httpError(res, 412, TEXT_TO_MISMATCH);
      return;
    }
    if (!this.peers.has(from)) this.addRemote(from, req);
    this.incoming.get(from)?.close("superseded by a new stream", true);
    const stream = new IncomingStream(from, req, res, {
      memberId: this.memberId,
      logger: this.logger,
      heartbeatMs: this.cfg.heartbeatMs,
      connReadTimeoutMs: this.cfg.connReadTimeoutMs,
      maxFrameBytes: this.cfg.maxFrameBytes,
      isRemoved: (id) => this.handlers.isRemoved(id),
      onMessage: (m) => this.handlers.onMessage(m),
      counters: this.counters(from),
      onClose: (s) => {
        if (this.incoming.get(s.from) === s) this.incoming.delete(s.from);
      },
    });
    this.incoming.set(from, stream);
    stream.start({ [HEADER_CLUSTER_ID]: idToHex(this.clusterIdValue) });
    this.logger.debug("accepted message stream", fields);
  }
}
