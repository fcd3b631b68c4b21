// A token bucket on the lessor's clock: `ratePerSec` tokens a second, at most `burst` saved up. It
// bounds how many expired leases the primary reports (and so how many revokes it proposes) however
// often the server polls it.

import type { Clock } from "./lease.js";

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Clock,
    readonly ratePerSec: number,
    readonly burst: number,
  ) {
    if (!(ratePerSec > 0) || !(burst >= 1)) throw new RangeError("lease: rate and burst must be positive");
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Whole tokens available now. */
  available(): number {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSec) / 1000);
    }
    this.last = Math.max(this.last, now);
    return Math.floor(this.tokens);
  }

  /** Spends `n` tokens (call after available(); never goes below zero). */
  take(n: number): void {
    this.tokens = Math.max(0, this.tokens - n);
  }
}
