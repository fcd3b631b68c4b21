// One remote member as seen by the sender: the outgoing message stream with its bounded queue, the
// reconnection loop over the member's peer URLs, the RTT prober, and the counters of stats().
//
// Stream life cycle (`state`):
//
//   connecting --200--> active --error / end / silence--> backoff --timer--> connecting
//        \--refused / timeout / error--------------------^
//
//   connecting  a POST /raft/stream/<from> is under way; sends queue (bounded) and go out once the peer
//               answers 200.
//   active      the stream is up: queued messages are written in batches, one socket write per batch,
//               at most once per event-loop turn (setImmediate) unless a megabyte is already waiting.
//               While the socket does not drain, sends queue; a full queue drops.
//   backoff     the peer is unreachable: sends are dropped at once (and reported), nothing is buffered.
//               After the delay the next URL is dialed; untried URLs of the member are dialed at once,
//               the backoff grows only when all of them failed.
//   stopped     removed or closed.
//
// Invariant: the queue holds at most `queueLimit` messages and `queueBytesLimit` bytes (a single message
// larger than that bound is queued alone: it is never split), and the socket holds at most one batch
// (about 1 MiB) beyond its high-water mark, so a peer that stops reading costs bounded memory.
// Whenever the stream breaks, whatever was queued is dropped and the peer reported unreachable: Raft
// re-sends what matters, and a stale backlog would only delay fresh messages.

import type { ClientRequest, IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { encodeMessage } from "../raft/codec.js";
import type { RaftLogger } from "../raft/logger.js";
import { type Message, MessageType } from "../raft/types.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { encodeFrames, HEARTBEAT_FRAME } from "./frame.js";
import type { PeerNet } from "./net.js";
import {
  HEADER_CLUSTER_ID,
  idToHex,
  PATH_PROBING,
  PATH_STREAM,
  type PeerStats,
  TEXT_CLUSTER_ID_MISMATCH,
  TEXT_MEMBER_REMOVED,
} from "./types.js";

/** A batch written in one go is cut at about this many bytes. */
const MAX_BATCH_BYTES = 1024 * 1024;
/** Bytes of a refusal's body kept for the log. */
const MAX_ERROR_BODY = 4096;

/** What a Peer needs from its transport. */
export interface PeerContext {
  readonly memberId: bigint;
  readonly net: PeerNet;
  readonly logger: RaftLogger;
  readonly queueLimit: number;
  readonly queueBytesLimit: number;
  readonly dialTimeoutMs: number;
  readonly connReadTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly probeIntervalMs: number;
  readonly backoff: BackoffOptions;
  readonly random: () => number;
  clusterId(): bigint;
  /** Request headers for a request to `to`. */
  headers(to: bigint): Record<string, string>;
  reportUnreachable(id: bigint): void;
  /** `id` answered that it belongs to another cluster (`theirs`, hex, if it said). */
  reportClusterMismatch(id: bigint, theirs: string): void;
  /** Every peer URL of `id` refused a connection since its stream was last up: its process is gone. */
  reportDown(id: bigint): void;
  /** `by` answered 410: this member was removed. */
  reportRemoved(by: bigint): void;
  reportProbe(id: bigint, rttSeconds: number): void;
}

export type PeerState = "connecting" | "active" | "backoff" | "stopped";

/** One attempt at an outgoing stream. */
interface Conn {
  readonly url: URL;
  readonly req: ClientRequest;
  res?: IncomingMessage;
  dialTimer?: NodeJS.Timeout;
  tick?: NodeJS.Timeout;
  /** performance.now() of the last bytes read from / written to the stream. */
  lastRead: number;
  lastWrite: number;
  /** The socket is above its high-water mark: wait for 'drain'. */
  blocked: boolean;
  /** The peer answered other than 200; its body is being read, and only refused() ends the attempt. */
  refusing: boolean;
}

export class Peer {
  state: PeerState = "backoff";
  urls: URL[];
  private urlIndex = 0;
  /** URLs that failed since the last success or backoff wait. */
  private failedInRound = 0;
  private conn: Conn | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;

  private queue: Uint8Array[] = [];
  private queueBytes = 0;
  private flushScheduled = false;
  private readonly flushNow = (): void => this.flush();
  /** A warning about drops was logged since the stream last came up. */
  private dropWarned = false;
  /** A dial failure was logged at warn level since the last success (later ones go to debug). */
  private dialWarned = false;
  /** Consecutive dials refused (ECONNREFUSED) since the stream was last up; reportDown once per outage. */
  private refusedStreak = 0;
  private downReported = false;

  private probeTimer: NodeJS.Timeout | undefined;
  private probing: ClientRequest | undefined;
  /** Snapshot requests in flight, destroyed on stop. */
  readonly snapshots = new Set<ClientRequest>();

  activeSince: number | undefined;
  readonly counters = {
    sentMessages: 0,
    sentBytes: 0,
    droppedMessages: 0,
    errors: 0,
    rttSeconds: undefined as number | undefined,
    lastRttSeconds: undefined as number | undefined,
    probeFailures: 0,
    snapshotsSent: 0,
    snapshotsFailed: 0,
  };

  constructor(
    readonly id: bigint,
    urls: URL[],
    private readonly ctx: PeerContext,
  ) {
    if (urls.length === 0) throw new Error(`peer ${idToHex(id)}: no peer URLs`);
    this.urls = urls;
    this.backoff = new Backoff(ctx.backoff, ctx.random);
  }

  start(): void {
    this.dial();
    if (this.ctx.probeIntervalMs > 0) {
      this.probeTimer = setInterval(() => this.probe(), this.ctx.probeIntervalMs);
      this.probeTimer.unref();
      this.probe();
    }
  }

  /** The URL in use, or dialed next. */
  get url(): URL {
    return this.urls[this.urlIndex % this.urls.length];
  }

  /**
   * Queues `m` for the stream. Returns false if it was dropped: the peer is unreachable, or its queue
   * is full. Never blocks.
   */
  send(m: Message): boolean {
    if (this.state === "backoff" || this.state === "stopped") return this.drop("peer unreachable");
    if (this.queue.length >= this.ctx.queueLimit) return this.drop("sending buffer is full");
    const bytes = encodeMessage(m);
    if (this.queueBytes + bytes.length > this.ctx.queueBytesLimit && this.queue.length > 0) {
      return this.drop("sending buffer is full");
    }
    this.queue.push(bytes);
    this.queueBytes += bytes.length;
    if (this.state === "active") {
      if (this.queueBytes >= MAX_BATCH_BYTES && this.conn !== undefined && !this.conn.blocked) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushNow);
      }
    }
    return true;
  }

  private drop(why: string): false {
    this.counters.droppedMessages++;
    if (!this.dropWarned && this.state !== "stopped") {
      this.dropWarned = true;
      this.ctx.logger.warn("dropped internal Raft message", {
        "local-member-id": idToHex(this.ctx.memberId),
        "remote-peer-id": idToHex(this.id),
        reason: why,
        "queued-messages": this.queue.length,
        "queued-bytes": this.queueBytes,
      });
    }
    return false;
  }

  /** Replaces the peer's URLs; a stream on a URL no longer listed is closed and the new ones dialed. */
  update(urls: URL[]): void {
    if (urls.length === 0) throw new Error(`peer ${idToHex(this.id)}: no peer URLs`);
    const current = this.conn?.url.href;
    this.urls = urls;
    this.urlIndex = Math.max(
      0,
      urls.findIndex((u) => u.href === current),
    );
    this.failedInRound = 0;
    if (this.state === "stopped") return;
    if (this.conn !== undefined && urls.some((u) => u.href === current)) return;
    if (this.conn !== undefined) {
      this.ctx.logger.info("peer URLs changed; reconnecting", {
        "remote-peer-id": idToHex(this.id),
        "old-url": current,
        urls: urls.map((u) => u.href),
      });
      this.teardown(this.conn);
    }
    clearTimeout(this.retryTimer);
    this.backoff.reset();
    this.dial();
  }

  stop(): void {
    if (this.state === "stopped") return;
    this.state = "stopped";
    clearTimeout(this.retryTimer);
    clearInterval(this.probeTimer);
    this.probing?.destroy();
    if (this.conn !== undefined) this.teardown(this.conn);
    for (const req of this.snapshots) req.destroy();
    this.snapshots.clear();
    this.queue = [];
    this.queueBytes = 0;
  }

  stats(received: { messages: number; bytes: number } | undefined): PeerStats {
    return {
      id: this.id,
      urls: this.urls.map((u) => u.href),
      url: this.url.href,
      active: this.state === "active",
      activeSince: this.activeSince,
      queuedMessages: this.queue.length,
      queuedBytes: this.queueBytes,
      bufferedBytes: this.conn?.req.socket?.writableLength ?? 0,
      receivedMessages: received?.messages ?? 0,
      receivedBytes: received?.bytes ?? 0,
      ...this.counters,
    };
  }

  // --- the outgoing stream ---

  private dial(): void {
    if (this.state === "stopped") return;
    this.state = "connecting";
    const url = this.url;
    let req: ClientRequest;
    try {
      req = this.ctx.net.request(
        url,
        {
          method: "POST",
          path: PATH_STREAM + idToHex(this.ctx.memberId),
          headers: { ...this.ctx.headers(this.id), "content-type": "application/octet-stream" },
        },
        false,
      );
    } catch (err) {
      this.failDial(url, err as Error);
      return;
    }
    const conn: Conn = { url, req, lastRead: 0, lastWrite: 0, blocked: false, refusing: false };
    this.conn = conn;
    conn.dialTimer = setTimeout(
      () => this.fail(conn, new Error(`dial timeout: no answer in ${this.ctx.dialTimeoutMs} ms`)),
      this.ctx.dialTimeoutMs,
    );
    req.on("response", (res) => this.onResponse(conn, res));
    req.on("error", (err) => this.fail(conn, err));
    req.on("close", () => this.fail(conn, new Error("stream connection closed")));
    req.on("drain", () => {
      conn.blocked = false;
      if (this.conn === conn) this.flush();
    });
    req.flushHeaders();
  }

  private onResponse(conn: Conn, res: IncomingMessage): void {
    if (this.conn !== conn) {
      res.destroy();
      return;
    }
    clearTimeout(conn.dialTimer);
    conn.res = res;
    if (res.statusCode === 200) {
      this.activate(conn, res);
      return;
    }
    conn.refusing = true;
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (c: Buffer) => {
      if (size < MAX_ERROR_BODY) chunks.push(c);
      size += c.length;
    });
    const done = (): void => this.refused(conn, res, Buffer.concat(chunks).toString("utf8").trim());
    conn.dialTimer = setTimeout(done, this.ctx.connReadTimeoutMs);
    res.on("end", done);
    res.on("close", done);
    res.on("error", () => {});
  }

  /** The peer answered something other than 200 to our stream request. */
  private refused(conn: Conn, res: IncomingMessage, body: string): void {
    if (this.conn !== conn) return;
    const status = res.statusCode ?? 0;
    const fields = {
      "local-member-id": idToHex(this.ctx.memberId),
      "remote-peer-id": idToHex(this.id),
      url: conn.url.href,
      status,
      body,
    };
    if (status === 410) {
      if (!this.dialWarned) this.ctx.logger.error(TEXT_MEMBER_REMOVED, fields);
      else this.ctx.logger.debug(TEXT_MEMBER_REMOVED, fields);
      this.fail(conn, new Error(TEXT_MEMBER_REMOVED), true);
      this.ctx.reportRemoved(this.id);
      return;
    }
    if (status === 412 && body.includes(TEXT_CLUSTER_ID_MISMATCH)) {
      const theirs = res.headers[HEADER_CLUSTER_ID];
      this.ctx.logger.error("request sent was ignored due to cluster ID mismatch", {
        ...fields,
        "local-member-cluster-id": idToHex(this.ctx.clusterId()),
        "remote-peer-cluster-id": theirs,
      });
      this.ctx.reportClusterMismatch(this.id, typeof theirs === "string" ? theirs : "");
    } else {
      this.ctx.logger.warn("peer refused the message stream", fields);
    }
    this.fail(conn, new Error(`peer answered ${status}: ${body}`), true);
  }

  private activate(conn: Conn, res: IncomingMessage): void {
    this.state = "active";
    this.activeSince = Date.now();
    this.backoff.reset();
    this.failedInRound = 0;
    this.refusedStreak = 0;
    this.downReported = false;
    this.dropWarned = false;
    this.dialWarned = false;
    const now = performance.now();
    conn.lastRead = now;
    conn.lastWrite = now;
    res.on("data", () => {
      conn.lastRead = performance.now();
    });
    res.on("end", () => this.fail(conn, new Error("stream ended by the peer")));
    res.on("error", (err) => this.fail(conn, err));
    conn.tick = setInterval(() => this.tick(conn), this.ctx.heartbeatMs);
    conn.tick.unref();
    this.ctx.logger.info("established TCP streaming connection with remote peer", {
      "local-member-id": idToHex(this.ctx.memberId),
      "remote-peer-id": idToHex(this.id),
      url: conn.url.href,
    });
    this.flush();
  }

  /** Link heartbeat and liveness: the peer's side writes a keepalive byte at the same period. */
  private tick(conn: Conn): void {
    if (this.conn !== conn) return;
    const now = performance.now();
    if (now - conn.lastRead > this.ctx.connReadTimeoutMs) {
      this.fail(conn, new Error(`no data from the peer for ${Math.round(now - conn.lastRead)} ms`));
      return;
    }
    if (!conn.blocked && this.queue.length === 0 && now - conn.lastWrite >= this.ctx.heartbeatMs / 2) {
      conn.lastWrite = now;
      if (!conn.req.write(HEARTBEAT_FRAME)) conn.blocked = true;
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const conn = this.conn;
    if (conn === undefined || this.state !== "active") return;
    while (!conn.blocked && this.queue.length > 0) {
      const q = this.queue;
      let k = 0;
      let bytes = 0;
      while (k < q.length && (k === 0 || bytes + q[k].length <= MAX_BATCH_BYTES)) {
        bytes += q[k].length;
        k++;
      }
      const batch = k === q.length ? q : q.slice(0, k);
      this.queue = k === q.length ? [] : q.slice(k);
      this.queueBytes -= bytes;
      const buf = encodeFrames(batch, bytes);
      this.counters.sentMessages += k;
      this.counters.sentBytes += buf.length;
      conn.lastWrite = performance.now();
      if (!conn.req.write(buf)) conn.blocked = true;
    }
  }

  /** Closes `conn` without counting an error (URL change, stop). */
  private teardown(conn: Conn): void {
    clearTimeout(conn.dialTimer);
    clearInterval(conn.tick);
    if (this.conn === conn) this.conn = undefined;
    conn.req.destroy();
    conn.res?.destroy();
    this.activeSince = undefined;
  }

  /** The attempt or stream `conn` failed: drop the queue, report, and schedule the next attempt. */
  private fail(conn: Conn, err: Error, logged = false): void {
    if (this.conn !== conn || this.state === "stopped") return;
    if (conn.refusing && !logged) return;
    const wasActive = this.state === "active";
    this.teardown(conn);
    this.noteRefusal(err);
    if (!logged) {
      const fields = {
        "local-member-id": idToHex(this.ctx.memberId),
        "remote-peer-id": idToHex(this.id),
        url: conn.url.href,
        error: err.message,
      };
      if (wasActive) this.ctx.logger.warn("lost TCP streaming connection with remote peer", fields);
      else if (!this.dialWarned) this.ctx.logger.warn("failed to dial remote peer", fields);
      else this.ctx.logger.debug("failed to dial remote peer", fields);
    }
    this.dialWarned = true;
    this.counters.errors++;
    this.retry(wasActive);
  }

  /** A refused connection means nothing listens at that URL: once all of them refuse, the peer is down. */
  private noteRefusal(err: Error): void {
    if ((err as NodeJS.ErrnoException).code !== "ECONNREFUSED") {
      this.refusedStreak = 0;
      return;
    }
    this.refusedStreak++;
    if (this.refusedStreak >= this.urls.length && !this.downReported) {
      this.downReported = true;
      this.ctx.reportDown(this.id);
    }
  }

  private failDial(url: URL, err: Error): void {
    this.ctx.logger.warn("failed to dial remote peer", {
      "remote-peer-id": idToHex(this.id),
      url: url.href,
      error: err.message,
    });
    this.dialWarned = true;
    this.counters.errors++;
    this.retry(false);
  }

  private retry(wasActive: boolean): void {
    this.state = "backoff";
    const dropped = this.queue.length;
    this.queue = [];
    this.queueBytes = 0;
    this.counters.droppedMessages += dropped;
    if (dropped > 0 || wasActive) this.ctx.reportUnreachable(this.id);
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    this.failedInRound++;
    let delay = 0;
    if (wasActive) {
      // A stream that was up broke: redial at once (a restarted peer is back sooner, and a refused
      // dial tells Raft at once that the peer's process is gone); backoff applies from then on.
      this.failedInRound = 0;
      this.backoff.reset();
    } else if (this.failedInRound >= this.urls.length) {
      this.failedInRound = 0;
      delay = this.backoff.next();
    }
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }

  // --- RTT prober (etcd_network_peer_round_trip_time_seconds) ---

  private probe(): void {
    if (this.probing !== undefined || this.state === "stopped") return;
    const start = performance.now();
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      this.probing = undefined;
      if (!ok) {
        this.counters.probeFailures++;
        return;
      }
      const rtt = (performance.now() - start) / 1000;
      const c = this.counters;
      c.lastRttSeconds = rtt;
      c.rttSeconds = c.rttSeconds === undefined ? rtt : c.rttSeconds * 0.875 + rtt * 0.125;
      this.ctx.reportProbe(this.id, rtt);
    };
    let req: ClientRequest;
    try {
      req = this.ctx.net.request(
        this.url,
        { method: "GET", path: PATH_PROBING, headers: this.ctx.headers(this.id) },
        true,
      );
    } catch {
      finish(false);
      return;
    }
    this.probing = req;
    req.setTimeout(this.ctx.connReadTimeoutMs, () => req.destroy(new Error("probe timeout")));
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => finish(res.statusCode === 200));
      res.on("close", () => finish(res.complete && res.statusCode === 200));
      res.on("error", () => finish(false));
    });
    req.on("error", () => finish(false));
    req.end();
  }
}

/** A MsgSnap goes through sendSnapshot, never the message stream. */
export function isSnapshotMessage(m: Message): boolean {
  return m.type === MessageType.MsgSnap;
}
