// A watch on the member's own key space, for the Lock and Election services: a WatchSession (so the
// caller's read permission is checked as for any watch) whose responses are queued here instead of sent.

import type * as pb from "../gen/etcdserverpb/rpc.js";
import type { V3Rpc } from "../v3rpc.js";
import { WatchSession } from "../watch.js";

export class WatchClosedError extends Error {}

export class LocalWatch {
  private readonly session: WatchSession;
  private readonly queue: pb.WatchResponse[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  /** Construct in the call's async context: the session takes the caller's credentials from it. */
  constructor(
    rpc: V3Rpc,
    key: Uint8Array,
    rangeEnd: Uint8Array,
    startRevision: bigint,
    private readonly signal?: AbortSignal,
  ) {
    this.session = new WatchSession(rpc, {
      write: (r) => {
        this.queue.push(r);
        this.wake?.();
        return true;
      },
      drained: () => Promise.resolve(),
    });
    void this.session.run();
    this.session.handle({
      requestUnion: {
        $case: "createRequest",
        value: {
          key,
          rangeEnd,
          startRevision,
          progressNotify: false,
          filters: [],
          prevKv: false,
          watchId: 0n,
          fragment: false,
        },
      },
    });
    signal?.addEventListener("abort", () => this.close(), { once: true });
  }

  /** The next batch of events; throws when the watch was canceled (compaction, permission) or closed. */
  async next(): Promise<pb.WatchResponse> {
    for (;;) {
      const r = this.queue.shift();
      if (r !== undefined) {
        if (r.canceled) {
          this.close();
          throw new WatchClosedError(r.cancelReason || "watch canceled");
        }
        if (r.created || r.events.length === 0) continue;
        return r;
      }
      if (this.closed) throw this.signal?.reason ?? new WatchClosedError("watch closed");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
    this.wake?.();
  }
}
