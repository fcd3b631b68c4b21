// Exponential backoff between reconnection attempts, with jitter from an injected random source (so
// tests are deterministic) and a reset once a connection has proved healthy.

export interface BackoffOptions {
  /** First delay, in ms. Default 100. */
  initialMs?: number;
  /** Upper bound of the delay before jitter, in ms. Default 5000. */
  maxMs?: number;
  /** Growth factor per failure. Default 2. */
  multiplier?: number;
  /** Relative jitter: a delay d becomes uniform in [d(1-j), d(1+j)]. Default 0.2. */
  jitter?: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly jitter: number;
  /** Delay before jitter that the next call to next() starts from. */
  private current: number;
  /** Consecutive failures since the last reset. */
  attempts = 0;

  constructor(
    opts: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = opts.initialMs ?? 100;
    this.maxMs = opts.maxMs ?? 5000;
    this.multiplier = opts.multiplier ?? 2;
    this.jitter = opts.jitter ?? 0.2;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs) || !(this.multiplier >= 1)) {
      throw new RangeError("backoff: need 0 < initialMs <= maxMs and multiplier >= 1");
    }
    if (!(this.jitter >= 0 && this.jitter < 1)) throw new RangeError("backoff: jitter must be in [0, 1)");
    this.current = this.initialMs;
  }

  /** The delay to wait before the next attempt; each call grows the following one. */
  next(): number {
    const base = this.current;
    this.current = Math.min(this.maxMs, base * this.multiplier);
    this.attempts++;
    const spread = base * this.jitter;
    return Math.max(0, Math.round(base - spread + 2 * spread * this.random()));
  }

  /** Back to the initial delay (after a successful connection). */
  reset(): void {
    this.current = this.initialMs;
    this.attempts = 0;
  }
}
