// Linearizable reads by ReadIndex, batched: one round serves every read that arrived before it started;
// reads arriving meanwhile wait for the next round, which starts as soon as this one is answered.
//
// A round's request can be lost (a message dropped on a link that was cut, or sent to a leader that
// died): it is sent again every `retryMs` (etcd's readIndexRetryTime, 500 ms) with the same context, so
// the first answer to any copy ends the round; it is asked afresh of a new leader at once (restart());
// a round unanswered after `timeoutMs` fails its reads with the host's timeout error.

import type { ReadState } from "../raft/rawnode.js";
import type { Timers } from "./timers.js";

export const READ_INDEX_RETRY_MS = 500;

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface ReadRoundHost {
  /** A context no other round uses (a request ID). */
  nextCtx(): bigint;
  /** Asks Raft for a read index under this 8-byte context (and lets the loop send it). */
  sendReadIndex(ctx: Buffer): void;
  /** Runs `f` once the state machine has applied `index`. */
  whenApplied(index: number, f: () => void): void;
  /** The error for reads of a round that timed out (no leader, or a plain timeout). */
  timeoutError(): unknown;
  timers: Timers;
  warn(fields: object, msg: string): void;
}

export class ReadRounds {
  private waiting: Waiter[] = [];
  private inFlight: { ctx: bigint; buf: Buffer; waiters: Waiter[]; cancel: () => void } | undefined;

  constructor(
    private readonly host: ReadRoundHost,
    private readonly timeoutMs: number,
    private readonly retryMs = READ_INDEX_RETRY_MS,
  ) {}

  /** Resolves once everything committed before the call has been applied. */
  notify(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.start();
    });
  }

  /** The leader changed: a request in flight to the old one may be lost, so ask the new one now. */
  restart(): void {
    const r = this.end();
    if (r === undefined) return;
    this.waiting = [...r.waiters, ...this.waiting];
    this.start();
  }

  onReadStates(states: readonly ReadState[]): void {
    for (const rs of states) {
      if (rs.requestCtx.length !== 8 || this.inFlight === undefined) continue;
      if (Buffer.from(rs.requestCtx).readBigUInt64BE(0) !== this.inFlight.ctx) continue;
      const r = this.end()!;
      this.host.whenApplied(rs.index, () => {
        for (const w of r.waiters) w.resolve();
      });
      this.start();
    }
  }

  /** Fails every read, in flight or waiting (the member stops). */
  failAll(err: unknown): void {
    const r = this.end();
    for (const w of [...(r?.waiters ?? []), ...this.waiting]) w.reject(err);
    this.waiting = [];
  }

  private start(): void {
    if (this.inFlight !== undefined || this.waiting.length === 0) return;
    const ctx = this.host.nextCtx();
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64BE(ctx);
    const waiters = this.waiting;
    this.waiting = [];
    const t = this.host.timers;
    const started = t.now();
    let cancelRetry = () => {};
    const retry = () => {
      cancelRetry = t.after(this.retryMs, () => {
        if (this.inFlight?.ctx !== ctx) return;
        this.host.warn(
          {
            "sent-request-id": ctx.toString(16),
            "retry-timeout": `${this.retryMs}ms`,
            took: `${Math.round(t.now() - started)}ms`,
          },
          "waiting for ReadIndex response took too long, retrying",
        );
        this.host.sendReadIndex(buf);
        retry();
      });
    };
    const cancelTimeout = t.after(this.timeoutMs, () => {
      if (this.inFlight?.ctx !== ctx) return;
      this.end();
      const err = this.host.timeoutError();
      for (const w of waiters) w.reject(err);
      this.start();
    });
    this.inFlight = {
      ctx,
      buf,
      waiters,
      cancel: () => {
        cancelRetry();
        cancelTimeout();
      },
    };
    this.host.sendReadIndex(buf);
    retry();
  }

  private end() {
    const r = this.inFlight;
    this.inFlight = undefined;
    r?.cancel();
    return r;
  }
}
