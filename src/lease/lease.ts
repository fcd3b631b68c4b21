// A lease: an ID, a granted TTL, the keys attached to it and, on the primary lessor only, an expiry.
// Times are milliseconds of the lessor's injected clock; TTLs are whole seconds, as on the wire.

/** The ID naming no lease (a key without a lease carries it). */
export const NO_LEASE = 0n;

/** The longest TTL a lease may be granted, in seconds (etcd's MaxLeaseTTL, about 285 years). */
export const MAX_LEASE_TTL = 9_000_000_000;

/** The expiry of a lease on a non-primary lessor: it never expires there. */
export const FOREVER = Number.POSITIVE_INFINITY;

/** Milliseconds of some monotonic clock. The lessor reads time only through one of these. */
export interface Clock {
  now(): number;
}

/** A monotonic real clock for callers that want one (tests inject a fake). */
export const monotonicClock: Clock = { now: () => performance.now() };

const INT64_MIN = -(1n << 63n);
const UINT64_LIMIT = 1n << 64n;

/**
 * The canonical form of a lease ID: a signed int64, as the wire (and mvcc's key encoding) carries it.
 * IDs held as uint64 (2^63 and above) map to the same lease as their int64 reading.
 */
export function leaseId(id: bigint): bigint {
  if (typeof id !== "bigint" || id < INT64_MIN || id >= UINT64_LIMIT) {
    throw new RangeError(`lease: ID ${String(id)} is not a 64-bit integer`);
  }
  return BigInt.asIntN(64, id);
}

/** An ID as etcd prints it: 16 hex digits of its uint64 reading. */
export function formatLeaseId(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, "0");
}

/**
 * The shortest TTL a lease gets, in seconds, as etcd's server derives it: a lease must outlive a leader
 * election, so ceil(floor(3 * electionTicks / 2) * heartbeatMs / 1000). etcd's defaults (10 ticks of
 * 100 ms) give 2.
 */
export function minLeaseTTL(electionTicks: number, heartbeatMs: number): number {
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatMs) / 1000);
}

/** A one-shot signal: `promise` resolves (never rejects) once fire() is called. */
export class Signal {
  private fired = false;
  private resolveFn!: () => void;
  readonly promise: Promise<void> = new Promise<void>((resolve) => {
    this.resolveFn = resolve;
  });

  get done(): boolean {
    return this.fired;
  }

  fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.resolveFn();
  }
}

/** A lease as the lessor keeps it. Every field is owned by the lessor; others get LeaseStatus copies. */
export class Lease {
  /**
   * Remaining TTL in seconds as of the last checkpoint applied, 0 if unset (then the full TTL applies).
   * A newly promoted lessor starts the lease's clock from it, so a leader change does not reset TTLs.
   */
  remainingTtl = 0;
  /** When the lease expires (clock ms). FOREVER unless this lessor is the primary. */
  expiry = FOREVER;
  /** Attached keys, as latin1 strings of their bytes (so string order is byte order). */
  readonly keys = new Set<string>();
  /** Fired when the lease is revoked (renewals of an expired lease wait for it). */
  readonly revoked = new Signal();

  constructor(
    readonly id: bigint,
    /** Granted TTL in seconds (raised to the lessor's minimum). */
    public ttl: number,
  ) {}

  /** The TTL the next refresh starts from: the checkpointed remaining TTL if set, else the full TTL. */
  startTtl(): number {
    return this.remainingTtl > 0 ? this.remainingTtl : this.ttl;
  }

  /** Sets the expiry to `now` + `extendMs` + startTtl() seconds. */
  refresh(now: number, extendMs = 0): void {
    this.expiry = now + extendMs + this.startTtl() * 1000;
  }

  /** Milliseconds until expiry as of `now` (Infinity if it never expires here). */
  remainingMs(now: number): number {
    return this.expiry - now;
  }

  expired(now: number): boolean {
    return this.expiry - now <= 0;
  }

  /** The attached keys, sorted by bytes. */
  sortedKeys(): string[] {
    return [...this.keys].sort();
  }
}

/** A read-only view of a lease. */
export interface LeaseStatus {
  id: bigint;
  /** Granted TTL, seconds. */
  ttl: number;
  /** Remaining TTL of the last checkpoint, seconds; 0 if none. */
  remainingTtl: number;
  /** Expiry on the primary (clock ms), Infinity elsewhere. */
  expiry: number;
  /** Number of attached keys. */
  keyCount: number;
}

export function statusOf(l: Lease): LeaseStatus {
  return { id: l.id, ttl: l.ttl, remainingTtl: l.remainingTtl, expiry: l.expiry, keyCount: l.keys.size };
}
