// Failed authentications are rate-limited per user name (etcd does not limit them): each name has a
// bucket of `burst` attempts that fail; a failure spends one, and one comes back every `refillMs`. While
// the bucket is empty, Authenticate for that name is refused before any password is compared, which
// bounds both guessing and the bcrypt CPU an attacker can make a member spend. Successful logins spend
// nothing. Names are tracked only while their bucket is not full, at most `maxNames` of them (the
// oldest are dropped first), so unknown names cannot grow the table without bound.

export interface FailureLimiterOptions {
  /** Failures allowed in a row before refusing (default 5). */
  burst?: number;
  /** One more attempt is allowed per this many ms (default 1000). */
  refillMs?: number;
  /** At most this many names tracked (default 10000). */
  maxNames?: number;
  now?: () => number;
}

interface Bucket {
  credit: number;
  at: number;
}

export class FailureLimiter {
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly maxNames: number;
  private readonly now: () => number;
  /** Insertion order = age: Map iteration drops the oldest first. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(o: FailureLimiterOptions = {}) {
    this.burst = o.burst ?? 5;
    this.refillMs = o.refillMs ?? 1000;
    this.maxNames = o.maxNames ?? 10_000;
    this.now = o.now ?? (() => performance.now());
  }

  private credit(name: string): number {
    const b = this.buckets.get(name);
    if (b === undefined) return this.burst;
    const c = Math.min(this.burst, b.credit + (this.now() - b.at) / this.refillMs);
    if (c >= this.burst) this.buckets.delete(name);
    return c;
  }

  /** Whether an attempt for `name` may be checked now. */
  allows(name: string): boolean {
    return this.credit(name) >= 1;
  }

  /** Records a failed attempt for `name`. */
  failed(name: string): void {
    const c = this.credit(name);
    this.buckets.delete(name);
    this.buckets.set(name, { credit: Math.max(0, c - 1), at: this.now() });
    while (this.buckets.size > this.maxNames) {
      const oldest = this.buckets.keys().next().value as string;
      this.buckets.delete(oldest);
    }
  }

  /** Names currently tracked (tests). */
  get size(): number {
    return this.buckets.size;
  }
}
