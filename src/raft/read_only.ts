// Pending ReadIndex requests on the leader (read-only option Safe).
//
// A request is recorded with the commit index at the time it arrived; it may be answered once a quorum
// has acknowledged a heartbeat carrying its context, which proves this node was still the leader when
// the request arrived. Requests are answered in arrival order, and confirming one confirms every
// request queued before it.

import type { Message, NodeId } from "./types.js";

export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Map<NodeId, boolean>;
}

/** A string key for a request context (contexts are short: a request ID). */
export function ctxKey(ctx: Uint8Array): string {
  let s = "";
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Records a read request with the commit index at which it may be served. Duplicates are ignored. */
  addRequest(index: number, m: Message): void {
    const key = ctxKey(m.entries[0]!.data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { index, req: m, acks: new Map() });
    this.queue.push(key);
  }

  /** Records a heartbeat acknowledgement for ctx; returns the acks so far (undefined if unknown ctx). */
  recvAck(id: NodeId, ctx: Uint8Array): Map<NodeId, boolean> | undefined {
    const rs = this.pending.get(ctxKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Removes and returns every request up to and including the one for ctx. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = ctxKey(ctx);
    const i = this.queue.indexOf(key);
    if (i < 0) return [];
    const done = this.queue.splice(0, i + 1);
    return done.map((k) => {
      const rs = this.pending.get(k)!;
      this.pending.delete(k);
      return rs;
    });
  }

  /** Context of the newest pending request (heartbeats carry it). */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1]!)!.req.entries[0]!.data;
  }

  size(): number {
    return this.queue.length;
  }
}
