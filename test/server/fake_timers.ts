// Timers for tests of background jobs: time moves only when advance() says.

import type { Timers } from "../../src/server/timers.js";

/** Timers driven by advance(): callbacks run in due order, each followed by its promise chain. */
export class FakeTimers implements Timers {
  private t = 0;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const e = { at: this.t + ms, seq: this.seq++, fn };
    this.queue.push(e);
    return () => {
      this.queue = this.queue.filter((x) => x !== e);
    };
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (next === undefined || next.at > end) break;
      this.queue.shift();
      this.t = next.at;
      next.fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.t = end;
  }
}
