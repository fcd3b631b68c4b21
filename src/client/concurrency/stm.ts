// Software transactional memory over etcd transactions (etcd's concurrency.STM). The caller's function
// reads and writes through an STM object; reads go to etcd (once per key), writes are buffered; at the
// end everything is committed as one Txn whose comparisons check that what was read has not changed.
// If it has, the function runs again (with the fresh values prefetched by the failed Txn's else branch).
//
// Isolation levels (etcd's):
//   "serializable-snapshot" (default)  all reads at the revision of the first read; commit fails if any
//                                      key read or written was modified after that revision (no write
//                                      skew: serializable snapshot isolation)
//   "serializable"                     all reads at the revision of the first read; commit fails if a
//                                      key read changed
//   "repeatable-reads"                 each key read once (at the latest revision); commit fails if a
//                                      key read changed
//   "read-committed"                   reads at the latest revision, no conflict check at all
//
// The function must not have side effects outside the STM: it may run several times.

import { type Bytes, toBuffer, toBytes } from "../bytes.js";
import type { Client } from "../client.js";
import type { CallOptions } from "../connection.js";
import { EtcdSTMConflictError } from "../errors.js";
import { Compare, Op } from "../txn.js";
import type { GetResponse, TxnResponse } from "../types.js";

export type Isolation = "serializable-snapshot" | "serializable" | "repeatable-reads" | "read-committed";

export interface STMOptions extends CallOptions {
  isolation?: Isolation;
  /** Keys to read in the first round trip of the first attempt. */
  prefetch?: Bytes[];
  /** Give up with EtcdSTMConflictError after this many conflicting attempts (default 100). */
  maxAttempts?: number;
}

/** The view of etcd inside an STM function. */
export interface STM {
  /** The key's value as this transaction sees it (its own writes included), or undefined. */
  get(key: Bytes): Promise<Buffer | undefined>;
  /** The key's value as a UTF-8 string, or undefined. */
  getString(key: Bytes): Promise<string | undefined>;
  /** The key's modification revision as read (0n when absent). */
  rev(key: Bytes): Promise<bigint>;
  /** Buffers a put. */
  put(key: Bytes, value: Bytes): void;
  /** Buffers a delete. */
  del(key: Bytes): void;
}

export interface STMResult<T> {
  /** What the function returned on the attempt that committed. */
  result: T;
  response: TxnResponse;
  /** Attempts made (1 when there was no conflict). */
  attempts: number;
}

/** A key as read: its response, kept to build the commit's comparisons. */
type ReadSet = Map<string, GetResponse>;
type WriteSet = Map<string, Buffer | null>;

const keyOf = (k: Bytes): string => Buffer.from(toBytes(k)).toString("latin1");
const keyBytes = (k: string): Buffer => Buffer.from(k, "latin1");

class Attempt implements STM {
  readonly reads: ReadSet;
  readonly writes: WriteSet = new Map();
  /** Revision all reads are pinned to (serializable levels), set by the first read. */
  private pinned: bigint | undefined;

  constructor(
    private readonly client: Client,
    private readonly isolation: Isolation,
    prefetched: ReadSet,
    private readonly opts: CallOptions,
  ) {
    this.reads = new Map(prefetched);
    if (this.pinsReads()) {
      // Prefetched keys were read in one Txn: its revision pins the other reads.
      for (const r of prefetched.values()) {
        if (this.pinned === undefined || r.header.revision < this.pinned) this.pinned = r.header.revision;
      }
    }
  }

  async get(key: Bytes): Promise<Buffer | undefined> {
    const k = keyOf(key);
    if (this.writes.has(k)) return this.writes.get(k) ?? undefined;
    const r = await this.read(k);
    return r.kvs[0]?.value;
  }

  async getString(key: Bytes): Promise<string | undefined> {
    return (await this.get(key))?.toString("utf8");
  }

  async rev(key: Bytes): Promise<bigint> {
    const r = await this.read(keyOf(key));
    return r.kvs[0]?.modRevision ?? 0n;
  }

  put(key: Bytes, value: Bytes): void {
    this.writes.set(keyOf(key), toBuffer(Uint8Array.from(toBytes(value))));
  }

  del(key: Bytes): void {
    this.writes.set(keyOf(key), null);
  }

  /** The commit: writes if nothing read (or written, under SSI) changed; else re-read what was read. */
  async commit(): Promise<TxnResponse> {
    const cmps: Compare[] = [];
    if (this.isolation !== "read-committed") {
      for (const [k, r] of this.reads) {
        const kv = r.kvs[0];
        cmps.push(
          kv === undefined
            ? Compare.modRevision(keyBytes(k), "=", 0)
            : Compare.modRevision(keyBytes(k), "=", kv.modRevision),
        );
      }
      if (this.isolation === "serializable-snapshot" && this.pinned !== undefined) {
        for (const k of this.writes.keys()) {
          if (!this.reads.has(k)) cmps.push(Compare.modRevision(keyBytes(k), "<", this.pinned + 1n));
        }
      }
    }
    const ops = [...this.writes].map(([k, v]) =>
      v === null ? Op.delete(keyBytes(k)) : Op.put(keyBytes(k), v),
    );
    const reread = [...this.reads.keys()].map((k) => Op.get(keyBytes(k)));
    return this.client
      .txn()
      .if(...cmps)
      .then(...ops)
      .else(...reread)
      .commit(this.opts);
  }

  private pinsReads(): boolean {
    return this.isolation === "serializable" || this.isolation === "serializable-snapshot";
  }

  private async read(k: string): Promise<GetResponse> {
    const cached = this.reads.get(k);
    if (cached !== undefined && this.isolation !== "read-committed") return cached;
    const r = await this.client.get(keyBytes(k), {
      ...this.opts,
      revision: this.pinsReads() ? this.pinned : undefined,
    });
    if (this.pinsReads() && this.pinned === undefined) this.pinned = r.header.revision;
    this.reads.set(k, r);
    return r;
  }
}

/**
 * Runs `apply` as a serializable transaction (by default), repeating it on conflict, and returns what
 * its committed attempt returned.
 *
 * ```ts
 * await runSTM(client, async (stm) => {
 *   const from = Number(await stm.getString("acct/a"));
 *   const to = Number(await stm.getString("acct/b"));
 *   stm.put("acct/a", String(from - 10));
 *   stm.put("acct/b", String(to + 10));
 * });
 * ```
 */
export async function runSTM<T>(
  client: Client,
  apply: (stm: STM) => Promise<T>,
  opts: STMOptions = {},
): Promise<STMResult<T>> {
  const isolation = opts.isolation ?? "serializable-snapshot";
  const maxAttempts = opts.maxAttempts ?? 100;
  const call: CallOptions = { timeoutMs: opts.timeoutMs, signal: opts.signal };
  let prefetched: ReadSet = new Map();
  if (opts.prefetch !== undefined && opts.prefetch.length > 0) {
    const r = await client
      .txn()
      .then(...opts.prefetch.map((k) => Op.get(k)))
      .commit(call);
    opts.prefetch.forEach((k, i) => {
      const resp = r.responses[i];
      if (resp?.type === "get") prefetched.set(keyOf(k), { ...resp, header: r.header });
    });
  }
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const stm = new Attempt(client, isolation, prefetched, call);
    const result = await apply(stm);
    const response = await stm.commit();
    if (response.succeeded) return { result, response, attempts: attempt };
    // Conflict: the else branch re-read every key read; start again from those values.
    prefetched = new Map();
    [...stm.reads.keys()].forEach((k, i) => {
      const resp = response.responses[i];
      if (resp?.type === "get") prefetched.set(k, { ...resp, header: response.header });
    });
  }
  throw new EtcdSTMConflictError(maxAttempts);
}
