// The multi-version key space (etcd's mvcc store). Every write transaction gets the next main
// revision; each change in it the next sub revision. A change is stored in the backend's key bucket
// under its revision (value: the KeyValue as etcd encodes it) and recorded in the in-memory key index.
// Reads find the key's revision at the asked revision in the index, then the value in the backend.
//
// Single-threaded: every operation here is synchronous, so a read always sees one revision, and a write
// transaction (write() ... end()) must be ended before the next is opened.
//
// Hooks for the watchable store: setCommitListener is called synchronously as each write transaction
// ends, with its events in order; rangeEvents replays history from the backend.

import type { Backend } from "../backend/backend.js";
import { keyString } from "../backend/batch_tx.js";
import { Bucket, decodeUint64BE, encodeUint64BE, MetaKey } from "../backend/buckets.js";
import { CompactedError, EmptyKeyError, FutureRevError, TxnInProgressError } from "./errors.js";
import { hashKV, hashKVAsync } from "./hash.js";
import { keySpan, newRevLookup, spanHas, TreeIndex } from "./key_index.js";
import { decodeKeyValue, encodeKeyValue } from "./kv_codec.js";
import { applyRange } from "./range.js";
import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  TxnRequest,
  TxnResponse,
} from "./requests.js";
import { bytesToMain, bytesToSub, isTombstoneKey, revToBytes, writeRevBytes } from "./revision.js";
import {
  type ApplyContext,
  applyDeleteRange,
  applyPut,
  applyTxn,
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
  DEFAULT_MAX_TXN_OPS,
} from "./txn.js";
import {
  type Event,
  EventType,
  type KeyValue,
  type LeaseHooks,
  type RangeOptions,
  type RangeResult,
  type ReadView,
  type WriteView,
} from "./types.js";

export interface KVStoreLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface KVStoreOptions {
  /** The lessor's hooks; without one, every lease is missing (puts naming a lease fail). */
  lessor?: LeaseHooks;
  /** Most compares or operations per txn branch (etcd's --max-txn-ops). Default 128. */
  maxTxnOps?: number;
  /** Revisions deleted per step of physical compaction. Default 1000 (etcd's). */
  compactionBatchLimit?: number;
  /** Pause between compaction steps in ms; 0 yields to the event loop only. Default 0. */
  compactionSleepMs?: number;
  logger?: KVStoreLogger;
}

/** Called as a write transaction ends: its changes as events, in order, and the revision they got. */
export type CommitListener = (events: Event[], rev: number) => void;

export interface CompactResult {
  header: ResponseHeader;
  /** Resolves once the compacted revisions are deleted from the backend (physical compaction). */
  done: Promise<void>;
}

const EMPTY = new Uint8Array(0);
const noopLogger: KVStoreLogger = { info() {}, warn() {} };

/** A write transaction on the store: see KVStore.write(). */
export class TxnWrite implements WriteView {
  /** Changes so far; deletes have createRevision 0 (etcd's convention), modRevision the txn's revision. */
  readonly changes: KeyValue[] = [];
  private ended = false;

  /** @internal Made by KVStore.write(). */
  constructor(
    private readonly store: StoreInternals,
    readonly beginRev: number,
  ) {}

  /** The revision reads see: beginRev, or the txn's own revision once it has written. */
  rev(): number {
    return this.changes.length > 0 ? this.beginRev + 1 : this.beginRev;
  }

  compactRev(): number {
    return this.store.compactRev();
  }

  range(key: Uint8Array, rangeEnd?: Uint8Array, opts?: RangeOptions): RangeResult {
    return this.store.rangeKeys(key, rangeEnd, this.rev(), opts);
  }

  put(key: Uint8Array, value: Uint8Array, lease = 0n): void {
    this.checkOpen();
    this.store.put(this, key, value, lease);
  }

  deleteRange(key: Uint8Array, rangeEnd?: Uint8Array): number {
    this.checkOpen();
    return this.store.deleteRange(this, key, rangeEnd);
  }

  /** Ends the transaction: the store's revision advances if anything changed. Returns the revision. */
  end(): number {
    if (this.ended) return this.store.rev();
    this.ended = true;
    return this.store.endTxn(this);
  }

  private checkOpen(): void {
    if (this.ended) throw new Error("mvcc: write transaction already ended");
  }
}

/** The store's internals its write transactions drive. */
interface StoreInternals {
  rev(): number;
  compactRev(): number;
  rangeKeys(key: Uint8Array, end: Uint8Array | undefined, curRev: number, opts?: RangeOptions): RangeResult;
  put(t: TxnWrite, key: Uint8Array, value: Uint8Array, lease: bigint): void;
  deleteRange(t: TxnWrite, key: Uint8Array, end: Uint8Array | undefined): number;
  endTxn(t: TxnWrite): number;
}

export class KVStore implements ReadView {
  private readonly index = new TreeIndex();
  private currentRev = 1;
  private compactMainRev = -1;
  private ci = 0;
  private ciTerm = 0;
  private lessor: LeaseHooks | undefined;
  private listener: CommitListener | undefined;
  private writing: TxnWrite | undefined;
  private compaction: Promise<void> = Promise.resolve();
  private closed = false;
  /** Ends the current pause of physical compaction early (on close). */
  private wake: (() => void) | undefined;
  private readonly scratch = Buffer.allocUnsafe(17);
  private readonly lookup = newRevLookup();
  private readonly maxTxnOps: number;
  private readonly logger: KVStoreLogger;
  private readonly internals: StoreInternals;
  private readonly ctx: ApplyContext;

  /** Opens the key space kept in `backend`, rebuilding the index and resuming an unfinished compaction. */
  constructor(
    readonly backend: Backend,
    private readonly opts: KVStoreOptions = {},
  ) {
    this.maxTxnOps = opts.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
    this.logger = opts.logger ?? noopLogger;
    this.internals = {
      rev: () => this.currentRev,
      compactRev: () => this.compactMainRev,
      rangeKeys: (k, e, r, o) => this.rangeKeys(k, e, r, o),
      put: (t, k, v, l) => this.putKey(t, k, v, l),
      deleteRange: (t, k, e) => this.deleteKeys(t, k, e),
      endTxn: (t) => this.endTxn(t),
    };
    this.ctx = { leaseExists: (id) => this.lessor?.exists(id) ?? false };
    this.restore();
    if (opts.lessor) this.setLessor(opts.lessor);
  }

  // ---- revisions and the consistent index ------------------------------------------------------------

  /** The current revision (1 for an empty store, as etcd). */
  rev(): number {
    return this.currentRev;
  }

  /** The latest compaction revision, -1 if never compacted. */
  compactRev(): number {
    return this.compactMainRev;
  }

  /** Raft index of the last entry applied, as stored in the backend (0 if none). */
  consistentIndex(): number {
    return this.ci;
  }

  /** Raft term of that entry. */
  consistentTerm(): number {
    return this.ciTerm;
  }

  /**
   * Records the raft index and term of the entry being applied, through the same batch as the entry's
   * writes: call it in the same synchronous run as applying the entry (before or after), and both
   * land in one backend commit.
   */
  setConsistentIndex(index: number, term: number): void {
    this.ci = index;
    this.ciTerm = term;
    const tx = this.backend.batchTx;
    tx.put(Bucket.meta, MetaKey.consistentIndex, encodeUint64BE(index));
    tx.put(Bucket.meta, MetaKey.term, encodeUint64BE(term));
  }

  // ---- hooks -----------------------------------------------------------------------------------------

  /** Sets the lessor and attaches every live key that carries a lease to it. */
  setLessor(lessor: LeaseHooks | undefined): void {
    this.lessor = lessor;
    if (lessor === undefined) return;
    for (const ki of this.index.all()) {
      if (ki.live && ki.lease !== undefined) lessor.attach(ki.lease, Buffer.from(ki.key, "latin1"));
    }
  }

  /** Sets (or clears) the listener called synchronously as each write transaction ends. */
  setCommitListener(fn: CommitListener | undefined): void {
    this.listener = fn;
  }

  /**
   * The changes to keys of [key, end) (etcd range semantics) with fromRev <= revision <= toRev, in
   * revision order, read from the backend. A delete's kv holds the key and modRevision only; prevKv is
   * not filled. Throws CompactedError if fromRev is below the compaction revision.
   */
  rangeEvents(key: Uint8Array, end: Uint8Array | undefined, fromRev: number, toRev: number): Event[] {
    if (fromRev < this.compactMainRev) throw new CompactedError();
    const events: Event[] = [];
    if (toRev < fromRev) return events;
    const span = keySpan(key, end);
    this.backend.readTx().forEach(
      Bucket.key,
      (k, v) => {
        const head = decodeKeyValue(v, false);
        if (!spanHas(span, keyString(head.key))) return;
        if (isTombstoneKey(k)) {
          events.push({ type: EventType.DELETE, kv: tombstoneKv(head.key, bytesToMain(k)) });
        } else {
          events.push({ type: EventType.PUT, kv: decodeKeyValue(v) });
        }
      },
      revToBytes(Math.max(fromRev, 0), 0),
      revToBytes(toRev + 1, 0),
    );
    return events;
  }

  // ---- reads -----------------------------------------------------------------------------------------

  /**
   * The store-level range at the current revision (etcd's mvcc Range): key/rangeEnd semantics of
   * RangeRequest, `opts.rev` to read in the past, `limit`, `countOnly`.
   */
  range(key: Uint8Array, rangeEnd?: Uint8Array, opts?: RangeOptions): RangeResult {
    return this.rangeKeys(key, rangeEnd, this.currentRev, opts);
  }

  /** A RangeRequest: sorting, filters, limit and `more`, keys_only, count_only. */
  rangeRequest(r: RangeRequest): RangeResponse {
    checkRangeRequest(r);
    return applyRange(this, r);
  }

  // ---- writes ----------------------------------------------------------------------------------------

  /**
   * Opens a write transaction. All its changes get revision rev() + 1; reads through it see them. It
   * must be ended (end()) before another is opened; nothing is validated: it is the low-level writer
   * (leases revoke through it, for instance).
   */
  write(): TxnWrite {
    if (this.writing !== undefined) throw new TxnInProgressError();
    this.writing = new TxnWrite(this.internals, this.currentRev);
    return this.writing;
  }

  /** A PutRequest, in a transaction of its own. */
  put(r: PutRequest): PutResponse {
    checkPutRequest(r);
    return this.inTxn((w) => applyPut(w, r, this.ctx));
  }

  /** A DeleteRangeRequest, in a transaction of its own (no revision is used if nothing is deleted). */
  deleteRange(r: DeleteRangeRequest): DeleteRangeResponse {
    checkDeleteRangeRequest(r);
    return this.inTxn((w) => applyDeleteRange(w, r));
  }

  /** A TxnRequest: validated, then applied whole at one revision, or rejected with nothing written. */
  txn(r: TxnRequest): TxnResponse {
    checkTxnRequest(r, this.maxTxnOps);
    return this.inTxn((w) => applyTxn(w, r, this.ctx));
  }

  /**
   * Compacts the key space at `rev`: reads below it fail with CompactedError from now on, and the
   * revisions no read at or after `rev` can reach are deleted from the backend in the background
   * (`done`). Throws CompactedError if `rev` is not above the last compaction, FutureRevError if it
   * is above the current revision.
   */
  compact(rev: number): CompactResult {
    if (rev <= this.compactMainRev) throw new CompactedError();
    if (rev > this.currentRev) throw new FutureRevError();
    this.compactMainRev = rev;
    this.backend.batchTx.put(Bucket.meta, MetaKey.scheduledCompactRev, revToBytes(rev, 0));
    const removed = this.index.compact(rev);
    return { header: { revision: this.currentRev }, done: this.schedulePhysical(rev, removed) };
  }

  /** Resolves once every physical compaction scheduled so far has finished (or stopped at close). */
  compactionDone(): Promise<void> {
    return this.compaction;
  }

  // ---- hashes ----------------------------------------------------------------------------------------

  /** CRC-32C of the whole backend except the consistent index and term (etcd's KV Hash). */
  hash(): number {
    return this.backend.hash(
      (bucket, key) =>
        bucket === Bucket.meta &&
        (Buffer.compare(key, MetaKey.consistentIndex) === 0 || Buffer.compare(key, MetaKey.term) === 0),
    );
  }

  /** HashKV at `rev` (0: current), comparable between members (see hash.ts). */
  hashKV(rev = 0): HashKVResponse {
    const at = this.hashPoint(rev);
    return this.hashResponse(at, hashKV(this.backend.readTx(), at.compactRev, at.rev, at.keep));
  }

  /**
   * hashKV over a consistent view of the backend taken now, scanned without blocking the event loop
   * for long; writes and compactions after the call do not change the result.
   */
  async hashKVAsync(rev = 0): Promise<HashKVResponse> {
    const at = this.hashPoint(rev);
    const view = this.backend.readView();
    try {
      return this.hashResponse(at, await hashKVAsync(view, at.compactRev, at.rev, at.keep));
    } finally {
      view.close();
    }
  }

  /** What a hash at `rev` covers, fixed now: the revision, the compaction point, the kept revisions. */
  private hashPoint(rev: number) {
    const compactRev = this.compactMainRev;
    const currentRev = this.currentRev;
    if (rev > 0 && rev < compactRev) throw new CompactedError();
    if (rev > currentRev) throw new FutureRevError();
    const at = rev <= 0 ? currentRev : rev;
    return { rev: at, compactRev, currentRev, keep: this.index.keep(at) };
  }

  private hashResponse(
    at: { rev: number; compactRev: number; currentRev: number },
    hash: number,
  ): HashKVResponse {
    return {
      header: { revision: at.currentRev },
      hash,
      compactRevision: at.compactRev,
      hashRevision: at.rev,
    };
  }

  /** Stops background compaction (it resumes on the next open). Does not close the backend. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  // ---- internals -------------------------------------------------------------------------------------

  private inTxn<T>(fn: (w: TxnWrite) => T): T {
    const w = this.write();
    try {
      return fn(w);
    } finally {
      w.end();
    }
  }

  private rangeKeys(
    key: Uint8Array,
    end: Uint8Array | undefined,
    curRev: number,
    opts?: RangeOptions,
  ): RangeResult {
    const asked = opts?.rev ?? 0;
    if (asked > curRev) throw new FutureRevError();
    const rev = asked <= 0 ? curRev : asked;
    if (rev < this.compactMainRev) throw new CompactedError();
    if (end === undefined || end.length === 0) {
      // One key: the common case, without the walk.
      const ki = this.index.get(keyString(key));
      const at = this.lookup;
      if (ki === undefined || !ki.get(rev, at)) return { kvs: [], count: 0, rev: curRev };
      return { kvs: opts?.countOnly ? [] : [this.readRev(at.main, at.sub)], count: 1, rev: curRev };
    }
    const span = keySpan(key, end);
    if (opts?.countOnly) return { kvs: [], count: this.index.count(span, rev), rev: curRev };
    const limit = opts?.limit ?? 0;
    const kvs: KeyValue[] = [];
    let count = 0;
    this.index.visit(span, rev, (_ki, at) => {
      count++;
      if (limit <= 0 || kvs.length < limit) kvs.push(this.readRev(at.main, at.sub));
    });
    return { kvs, count, rev: curRev };
  }

  private readRev(main: number, sub: number): KeyValue {
    const v = this.backend.batchTx.getUnsafe(Bucket.key, writeRevBytes(this.scratch, main, sub));
    if (v === undefined)
      throw new Error(`mvcc: revision ${main}.${sub} is in the index but not in the backend`);
    return decodeKeyValue(v);
  }

  private putKey(t: TxnWrite, key: Uint8Array, value: Uint8Array, lease: bigint): void {
    if (key.length === 0) throw new EmptyKeyError();
    const rev = t.beginRev + 1;
    const sub = t.changes.length;
    const ks = keyString(key);
    const ki = this.index.getOrCreate(ks);
    let created = rev;
    let version = 1;
    let oldLease: bigint | undefined;
    if (ki.live) {
      created = ki.created;
      version = ki.version + 1;
      oldLease = ki.lease;
    }
    const kv: KeyValue = { key, value, createRevision: created, modRevision: rev, version, lease };
    this.backend.batchTx.put(Bucket.key, writeRevBytes(this.scratch, rev, sub), encodeKeyValue(kv));
    ki.put(rev, sub);
    ki.lease = lease === 0n ? undefined : lease;
    t.changes.push(kv);
    const lessor = this.lessor;
    if (lessor !== undefined) {
      if (oldLease !== undefined) lessor.detach(oldLease, key);
      if (lease !== 0n) lessor.attach(lease, key);
    }
  }

  private deleteKeys(t: TxnWrite, key: Uint8Array, end: Uint8Array | undefined): number {
    const keys: string[] = [];
    this.index.visit(keySpan(key, end), t.rev(), (ki) => {
      keys.push(ki.key);
    });
    const rev = t.beginRev + 1;
    for (const ks of keys) {
      const ki = this.index.get(ks)!;
      const sub = t.changes.length;
      const kb = Buffer.from(ks, "latin1");
      const tomb = tombstoneKv(kb, rev);
      this.backend.batchTx.put(
        Bucket.key,
        revToBytes(rev, sub, true),
        encodeKeyValue({ ...tomb, modRevision: 0 }),
      );
      ki.tombstone(rev, sub);
      const oldLease = ki.lease;
      ki.lease = undefined;
      t.changes.push(tomb);
      if (oldLease !== undefined) this.lessor?.detach(oldLease, kb);
    }
    return keys.length;
  }

  private endTxn(t: TxnWrite): number {
    this.writing = undefined;
    if (t.changes.length === 0) return this.currentRev;
    this.currentRev = t.beginRev + 1;
    const listener = this.listener;
    if (listener !== undefined) {
      const events: Event[] = t.changes.map((kv) => ({
        type: kv.createRevision === 0 ? EventType.DELETE : EventType.PUT,
        kv,
      }));
      listener(events, this.currentRev);
    }
    return this.currentRev;
  }

  /** Rebuilds the index, revision, compaction state and consistent index from the backend. */
  private restore(): void {
    const tx = this.backend.readTx();
    const u64 = (k: Uint8Array): number | undefined => {
      const v = tx.get(Bucket.meta, k);
      return v === undefined ? undefined : decodeUint64BE(v);
    };
    this.ci = u64(MetaKey.consistentIndex) ?? 0;
    this.ciTerm = u64(MetaKey.term) ?? 0;
    const finishedBytes = tx.get(Bucket.meta, MetaKey.finishedCompactRev);
    const scheduledBytes = tx.get(Bucket.meta, MetaKey.scheduledCompactRev);
    const finished = finishedBytes === undefined ? -1 : bytesToMain(finishedBytes);
    const scheduled = scheduledBytes === undefined ? -1 : bytesToMain(scheduledBytes);
    this.compactMainRev = finished;

    // Tombstones whose key has no earlier revision left: remains of an interrupted compaction.
    const strays: number[] = [];
    let maxRev = 1;
    tx.forEach(Bucket.key, (k, v) => {
      const main = bytesToMain(k);
      const sub = bytesToSub(k);
      if (main > maxRev) maxRev = main;
      const kv = decodeKeyValue(v, false);
      const ks = keyString(kv.key);
      const ki = this.index.get(ks);
      if (isTombstoneKey(k)) {
        if (ki?.live) {
          ki.tombstone(main, sub);
          ki.lease = undefined;
        } else {
          strays.push(main, sub, 1);
        }
      } else if (ki !== undefined) {
        ki.put(main, sub);
        ki.lease = kv.lease === 0n ? undefined : kv.lease;
      } else {
        const fresh = this.index.getOrCreate(ks);
        fresh.restore(kv.createRevision, main, sub, kv.version);
        fresh.lease = kv.lease === 0n ? undefined : kv.lease;
      }
    });
    this.currentRev = Math.max(maxRev, this.compactMainRev, 1);
    if (scheduled > finished) {
      this.logger.info("mvcc: resuming compaction", { scheduled, finished });
      this.compactMainRev = scheduled;
      if (this.currentRev < scheduled) this.currentRev = scheduled;
      const removed = this.index.compact(scheduled);
      for (let i = 0; i < strays.length; i += 3) {
        if (strays[i] <= scheduled) removed.push(strays[i], strays[i + 1], 1);
      }
      void this.schedulePhysical(scheduled, removed);
    } else if (strays.length > 0) {
      this.logger.warn("mvcc: tombstones without a key in the backend", { count: strays.length / 3 });
    }
  }

  /** Deletes `removed` (triples) from the backend in steps, then records the compaction as finished. */
  private schedulePhysical(rev: number, removed: number[]): Promise<void> {
    const step = Math.max(1, this.opts.compactionBatchLimit ?? 1000);
    const sleepMs = this.opts.compactionSleepMs ?? 0;
    const run = async (): Promise<void> => {
      const tx = this.backend.batchTx;
      // Delete in revision order: each commit then touches a run of neighbouring pages, not pages all
      // over the file; and a key's revisions still go oldest first, so an interrupted compaction leaves
      // every key a suffix of its history (see restore).
      const n = removed.length / 3;
      const order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i * 3;
      order.sort((a, b) => removed[a] - removed[b] || removed[a + 1] - removed[b + 1]);
      for (let i = 0; i < n; i += step) {
        if (this.closed || this.backend.isClosed) return;
        const end = Math.min(n, i + step);
        for (let j = i; j < end; j++) {
          const o = order[j];
          tx.delete(Bucket.key, revToBytes(removed[o], removed[o + 1], removed[o + 2] === 1));
        }
        await new Promise<void>((resolve) => {
          if (sleepMs <= 0) return void setImmediate(resolve);
          const timer = setTimeout(resolve, sleepMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
      if (this.closed || this.backend.isClosed) return;
      tx.put(Bucket.meta, MetaKey.finishedCompactRev, revToBytes(rev, 0));
      this.logger.info("mvcc: finished compaction", { rev, deleted: removed.length / 3 });
    };
    this.compaction = this.compaction.then(run);
    return this.compaction;
  }
}

/** The KeyValue of a delete event (etcd's): the key and the revision of the delete. */
function tombstoneKv(key: Uint8Array, rev: number): KeyValue {
  return { key, createRevision: 0, modRevision: rev, version: 0, value: EMPTY, lease: 0n };
}
