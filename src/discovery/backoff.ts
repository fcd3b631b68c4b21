// etcd's discovery retry schedule: after the n-th consecutive failure to reach the registry, wait 2^n
// seconds (n capped at 8, so at most 256 s between attempts). etcd retries forever; etcd-ts gives up with
// etcd's "discovery: too many retries" after --discovery-max-retries failures (-1: forever, as etcd).

import { ErrTooManyRetries } from "./errors.js";

/** etcd's maxExpoentialRetries. */
export const MAX_EXPONENTIAL_RETRIES = 8;

export interface RetryOptions {
  /** Failures allowed before giving up; negative: no limit. */
  maxRetries: number;
  /** Waits `ms` (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  /** Called before each wait with the reason and the wait. */
  onRetry?: (reason: string, backoffMs: number) => void;
}

/** The wait after the `retries`-th failure, in ms. */
export function backoffMs(retries: number): number {
  return 2 ** Math.min(retries, MAX_EXPONENTIAL_RETRIES) * 1000;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Counts failures across a whole discovery run (etcd keeps one counter per discovery). */
export class Retrier {
  retries = 0;

  constructor(private readonly opts: RetryOptions) {}

  /** Waits before the next attempt, or throws ErrTooManyRetries once the allowance is used up. */
  async backoff(reason: string): Promise<void> {
    if (this.opts.maxRetries >= 0 && this.retries >= this.opts.maxRetries) throw ErrTooManyRetries;
    this.retries++;
    const ms = backoffMs(this.retries);
    this.opts.onRetry?.(reason, ms);
    await (this.opts.sleep ?? realSleep)(ms);
  }

  reset(): void {
    this.retries = 0;
  }
}
