// The receiving end of one peer's message stream (POST /raft/stream/<from>, already accepted with 200).
//
// Frames are parsed as chunks arrive and each message handed to Raft at once, in order. The response
// body carries only heartbeat frames, written every heartbeatMs, which tell the sender that this side is
// alive and reading; a stream that brings nothing for connReadTimeoutMs (the sender heartbeats too) is
// closed. Every chunk re-checks that the sender has not been removed meanwhile: if it has, the stream is
// closed, and the sender's reconnection is answered 410.

import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { decodeMessage } from "../raft/codec.js";
import type { RaftLogger } from "../raft/logger.js";
import type { Message } from "../raft/types.js";
import { FrameDecoder, HEARTBEAT_FRAME } from "./frame.js";
import { idToHex } from "./types.js";

export interface IncomingDeps {
  readonly memberId: bigint;
  readonly logger: RaftLogger;
  readonly heartbeatMs: number;
  readonly connReadTimeoutMs: number;
  readonly maxFrameBytes: number;
  isRemoved(id: bigint): boolean;
  onMessage(m: Message): void;
  /** Counters of what arrived from this sender (kept by the transport across streams). */
  readonly counters: { messages: number; bytes: number };
  onClose(s: IncomingStream): void;
}

export class IncomingStream {
  private readonly decoder: FrameDecoder;
  private lastRead = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private badMessageWarned = false;
  closed = false;

  constructor(
    readonly from: bigint,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly deps: IncomingDeps,
  ) {
    this.decoder = new FrameDecoder((p) => this.onFrame(p), deps.maxFrameBytes);
  }

  /** Sends the 200 and starts reading. */
  start(headers: Record<string, string>): void {
    this.req.socket.setNoDelay(true);
    this.res.writeHead(200, { ...headers, "content-type": "application/octet-stream" });
    this.res.write(HEARTBEAT_FRAME);
    this.req.on("data", (chunk: Buffer) => this.onData(chunk));
    this.req.on("end", () => this.close("stream ended by the sender", false));
    this.req.on("error", (err) => this.close(err.message, true));
    this.res.on("close", () => this.close("connection closed", true));
    this.timer = setInterval(() => this.tick(), this.deps.heartbeatMs);
    this.timer.unref();
  }

  private fields(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      "local-member-id": idToHex(this.deps.memberId),
      "remote-peer-id": idToHex(this.from),
      ...extra,
    };
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastRead = performance.now();
    this.deps.counters.bytes += chunk.length;
    if (this.deps.isRemoved(this.from)) {
      this.deps.logger.warn("closed stream from removed member", this.fields());
      this.close("sender was removed from the cluster", true);
      return;
    }
    try {
      this.decoder.push(chunk);
    } catch (err) {
      this.deps.logger.warn("failed to read Raft message", this.fields({ error: (err as Error).message }));
      this.close((err as Error).message, true);
    }
  }

  private onFrame(payload: Uint8Array): void {
    if (this.closed) return;
    const m = decodeMessage(payload);
    if (m.from !== this.from || m.to !== this.deps.memberId) {
      if (!this.badMessageWarned) {
        this.badMessageWarned = true;
        this.deps.logger.warn(
          "ignored Raft message with unexpected from/to",
          this.fields({ "message-from": idToHex(m.from), "message-to": idToHex(m.to) }),
        );
      }
      return;
    }
    this.deps.counters.messages++;
    try {
      this.deps.onMessage(m);
    } catch (err) {
      this.deps.logger.error("failed to process Raft message", this.fields({ error: String(err) }));
    }
  }

  private tick(): void {
    const idle = performance.now() - this.lastRead;
    if (idle > this.deps.connReadTimeoutMs) {
      this.deps.logger.warn("closed silent stream", this.fields({ "idle-ms": Math.round(idle) }));
      this.close("no data from the sender", true);
      return;
    }
    // Heartbeats only when the socket keeps up; a stalled sender needs none.
    if (this.res.writableLength === 0) this.res.write(HEARTBEAT_FRAME);
  }

  /** Ends the stream; `abort` destroys the connection (the sender reconnects). */
  close(reason: string, abort: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.deps.logger.debug("incoming stream closed", this.fields({ reason }));
    if (abort) this.req.socket.destroy();
    else this.res.end();
    this.deps.onClose(this);
  }
}
