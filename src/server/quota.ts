// The backend quota (etcd's backendQuota and quotaAlarmer): requests that grow the database are
// refused once the backend file would pass --quota-backend-bytes, and the member raises the NOSPACE
// alarm through Raft so every member stops accepting such writes until an operator frees space
// (compact, defrag) and disarms the alarm.
//
// What is measured is the backend file's size, not the bytes in use: freed pages stay in the file until
// a defrag rewrites it (LMDB reuses them for new writes, as bbolt does), so compaction alone lowers
// nothing here; compaction followed by defrag shrinks the file. This is etcd's behaviour.
//
// The cost of a request is etcd's estimate of what it adds to the file: a put costs its key and value
// bytes plus 256 bytes of metadata; a txn costs the larger of its success and failure branches' puts
// (nested txns included); a lease grant costs 64 bytes; anything else costs nothing and always passes.

import { Gauge, type Registry } from "prom-client";
import type { InternalRaftRequest } from "../api/gen/etcdserverpb/raft_internal.js";
import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import { DEFAULT_QUOTA_BACKEND_BYTES, MAX_QUOTA_BACKEND_BYTES } from "./config.js";
import { ErrGRPCNoSpace } from "./errors.js";

/** etcd's estimate of a key's metadata in the backend (revision key, KeyValue fields). */
export const KV_OVERHEAD = 256;
/** etcd's estimate of a stored lease. */
export const LEASE_OVERHEAD = 64;

/** The requests a quota looks at (the fields of InternalRaftRequest that carry them). */
export type QuotaRequest = Pick<Partial<InternalRaftRequest>, "put" | "txn" | "leaseGrant">;

export function costPut(r: pb.PutRequest): number {
  return KV_OVERHEAD + r.key.length + r.value.length;
}

function costOps(ops: readonly pb.RequestOp[]): number {
  let n = 0;
  for (const op of ops) {
    const r = op.request;
    if (r?.$case === "requestPut") n += costPut(r.value);
    else if (r?.$case === "requestTxn") n += costTxn(r.value);
  }
  return n;
}

/** The larger of the two branches: only one of them runs. Zero for a txn without puts. */
export function costTxn(r: pb.TxnRequest): number {
  return Math.max(costOps(r.success), costOps(r.failure));
}

/** What `req` may add to the backend, in bytes (0: it adds nothing the quota cares about). */
export function quotaCost(req: QuotaRequest): number {
  if (req.put !== undefined) return costPut(req.put);
  if (req.txn !== undefined) return costTxn(req.txn);
  if (req.leaseGrant !== undefined) return LEASE_OVERHEAD;
  return 0;
}

/** go-humanize's Bytes: SI units, one decimal below 10 ("2.1 GB", "4.2 MB", "512 B"). */
export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
  const e = Math.min(Math.floor(Math.log(n) / Math.log(1000)), units.length - 1);
  const v = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[e]}`;
}

export interface QuotaLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export interface BackendQuotaOptions {
  /** --quota-backend-bytes: 0 means the 2 GiB default, negative disables the quota. */
  quotaBackendBytes: number;
  /** The backend file's current size in bytes (a stat: cheap, read on every checked request). */
  size: () => number;
  /** Proposes ACTIVATE NOSPACE for this member through Raft and waits until it is applied. */
  raiseAlarm: () => Promise<unknown>;
  /** Registers etcd_server_quota_backend_bytes here. */
  registry?: Registry;
  logger?: QuotaLogger;
}

export class BackendQuota {
  /** The effective quota in bytes; Infinity when disabled. */
  readonly limit: number;

  constructor(private readonly opts: BackendQuotaOptions) {
    const q = opts.quotaBackendBytes;
    this.limit = q < 0 ? Number.POSITIVE_INFINITY : q === 0 ? DEFAULT_QUOTA_BACKEND_BYTES : q;
    if (opts.registry !== undefined) {
      new Gauge({
        name: "etcd_server_quota_backend_bytes",
        help: "Current backend storage quota size in bytes.",
        registers: [opts.registry],
      }).set(q === 0 ? DEFAULT_QUOTA_BACKEND_BYTES : q);
    }
    const log = opts.logger;
    if (log === undefined) return;
    if (q < 0) {
      log.info({ "quota-name": "v3-applier", "quota-size-bytes": q }, "disabled backend quota");
      return;
    }
    if (q > MAX_QUOTA_BACKEND_BYTES) {
      log.warn(
        {
          "quota-name": "v3-applier",
          "quota-size-bytes": q,
          "quota-size": humanizeBytes(q),
          "quota-maximum-size-bytes": MAX_QUOTA_BACKEND_BYTES,
          "quota-maximum-size": humanizeBytes(MAX_QUOTA_BACKEND_BYTES),
        },
        "quota exceeds the maximum value",
      );
    }
    log.info(
      { "quota-name": "v3-applier", "quota-size-bytes": this.limit, "quota-size": humanizeBytes(this.limit) },
      q === 0 ? "enabled backend quota with default value" : "enabled backend quota",
    );
  }

  get enabled(): boolean {
    return this.limit !== Number.POSITIVE_INFINITY;
  }

  /** True if `req` fits: it costs nothing, or the file plus its cost stays below the quota. */
  available(req: QuotaRequest): boolean {
    if (!this.enabled) return true;
    const cost = quotaCost(req);
    return cost === 0 || this.opts.size() + cost < this.limit;
  }

  /** Bytes left before the quota (negative when past it). */
  remaining(): number {
    return this.limit - this.opts.size();
  }

  /**
   * Before proposing `req` (etcd's quotaAlarmer.check): if it does not fit, raises the NOSPACE alarm
   * (waiting for it; its failure does not matter, the next refused request raises it again) and
   * throws etcd's "database space exceeded".
   */
  async check(req: QuotaRequest): Promise<void> {
    if (this.available(req)) return;
    await this.opts.raiseAlarm().catch(() => {});
    throw ErrGRPCNoSpace();
  }

  /**
   * A request exceeded the quota when it was applied (etcd's quotaApplierV3): raises the NOSPACE alarm
   * for this member; never rejects.
   */
  async raiseAlarmFromApply(): Promise<void> {
    this.opts.logger?.warn(
      {
        "quota-size-bytes": this.opts.quotaBackendBytes,
        "quota-size": humanizeBytes(this.limit),
        error: "etcdserver: no space",
      },
      "message exceeded backend quota; raising alarm",
    );
    try {
      await this.opts.raiseAlarm();
    } catch {
      // No leader, timeout, stopping: the alarm is raised by the next refused request.
    }
  }
}
