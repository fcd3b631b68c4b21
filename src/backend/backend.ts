// The durable transactional store under MVCC, leases, auth and membership: LMDB (the B+tree design
// etcd's bbolt descends from) in one file, `<data-dir>/member/snap/db`, with etcd's named buckets.
//
// Write model. LMDB runs with noSync: a commit is visible and survives a process crash, but only
// forceCommit() (or close) makes it survive a machine crash. The WAL is the durable record: on restart
// the server re-applies the entries after the consistent index stored here, as etcd does with bbolt.
// Writes are buffered (see batch_tx.ts) and committed as one LMDB transaction
//   - every `batchIntervalMs` (default 100) while writes are pending,
//   - once `batchLimit` (default 10000) writes are pending, when the current synchronous run of code ends
//     (a microtask), and
//   - on forceCommit(), snapshot(), defrag() and close().
// A commit therefore never splits synchronous code: an entry applied in one go (its data and the
// consistent index) lands in one LMDB transaction, so a restart neither loses nor re-applies it.

import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import type { RootDatabase, Transaction } from "lmdb";
import { update as crc32cUpdate } from "../pkg/crc32c.js";
import { type BatchTx, type BucketState, BufferedBatchTx, type ReadTx } from "./batch_tx.js";
import { ALL_BUCKETS, type BucketName, lockFilePath, type OpenEnv, openEnv, syncEnv } from "./buckets.js";
import { ReadView } from "./read_view.js";
import { BackendSnapshot, restoreSnapshotFile } from "./snapshot.js";

export interface BackendLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface BackendOptions {
  /** Longest time a write stays buffered before it is committed (ms). Default 100 (etcd's 100 ms). */
  batchIntervalMs?: number;
  /** Pending writes that trigger a commit at the end of the current synchronous run. Default 10000. */
  batchLimit?: number;
  /** Initial LMDB map size in bytes (the map grows with the file). */
  mapSize?: number;
  logger?: BackendLogger;
}

/** Which pairs Backend.hash skips: whole buckets by name, or a predicate on (bucket, key). */
export type HashIgnore = readonly string[] | ((bucket: BucketName, key: Uint8Array) => boolean);

export interface BackendStats {
  /** LMDB transactions committed since open. */
  commits: number;
  /** Writes buffered now. */
  pending: number;
  /** Snapshots still holding a read transaction. */
  openSnapshots: number;
}

const noopLogger: BackendLogger = { info() {}, warn() {} };

/** Pairs copied per LMDB write transaction when defragmenting. */
const DEFRAG_BATCH = 10_000;

export class Backend {
  /** The single writer. Its reads see its own buffered writes. */
  readonly batchTx: BatchTx;
  private readonly tx: BufferedBatchTx;
  private root: RootDatabase<Buffer, Buffer>;
  private readonly buckets = new Map<BucketName, BucketState>();
  private readonly bucketList: BucketState[] = [];
  private readonly batchIntervalMs: number;
  private readonly batchLimit: number;
  private readonly logger: BackendLogger;
  private timer: NodeJS.Timeout | undefined;
  private limitQueued = false;
  private commits = 0;
  /** The file's size as of the last commit; undefined until stat'ed again. */
  private cachedSize: number | undefined;
  private closed = false;
  /** While an online defrag copies the file: every write committed since its copy began, in order. */
  private defragLog: { bucket: BucketName; key: Buffer; value: Buffer | null }[] | undefined;
  /** Ends the read transaction of an online defrag's copy (set while it copies). */
  private endDefragRead: (() => void) | undefined;
  /** Snapshots and read views still holding a read transaction. */
  private readonly snapshots = new Set<{ close(): void }>();

  private constructor(
    readonly path: string,
    private readonly opts: BackendOptions,
  ) {
    this.batchIntervalMs = opts.batchIntervalMs ?? 100;
    this.batchLimit = opts.batchLimit ?? 10_000;
    this.logger = opts.logger ?? noopLogger;
    const env = openEnv(path, { mapSize: opts.mapSize });
    this.root = env.root;
    for (const name of ALL_BUCKETS) {
      const b: BucketState = { name, db: env.dbs.get(name)!, buf: new Map() };
      this.buckets.set(name, b);
      this.bucketList.push(b);
    }
    this.tx = new BufferedBatchTx({
      bucket: (name) => this.bucket(name),
      written: () => this.written(),
    });
    this.batchTx = this.tx;
  }

  /** Opens (creating if needed) the backend file at `path`, e.g. `<data-dir>/member/snap/db`. */
  static open(path: string, opts: BackendOptions = {}): Backend {
    return new Backend(path, opts);
  }

  /**
   * Builds a backend file at `path` from a snapshot stream (BackendSnapshot's format), verifying its
   * checksum before the file appears, then opens it. Refuses an existing file unless `overwrite`.
   */
  static async restoreFrom(
    source: AsyncIterable<Uint8Array | string>,
    path: string,
    opts: BackendOptions & { overwrite?: boolean } = {},
  ): Promise<Backend> {
    await restoreSnapshotFile(source, path, { overwrite: opts.overwrite, mapSize: opts.mapSize });
    return Backend.open(path, opts);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A reader. Point reads and range scans both see buffered writes; nothing is committed by reading. */
  readTx(): ReadTx {
    return this.tx;
  }

  /** Commits buffered writes in one LMDB transaction (not fsynced). */
  commit(): void {
    this.checkOpen();
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.tx.pending === 0) return;
    const list = this.bucketList;
    const log = this.defragLog;
    this.root.transactionSync(() => {
      for (const b of list) {
        if (b.buf.size === 0) continue;
        for (const [k, v] of b.buf) {
          const key = Buffer.from(k, "latin1");
          if (v === null) b.db.removeSync(key);
          else b.db.putSync(key, v as Buffer);
          // Values are the callers' until committed: the log keeps its own copy.
          log?.push({ bucket: b.name, key, value: v === null ? null : Buffer.from(v as Buffer) });
        }
      }
    });
    for (const b of list) b.buf.clear();
    this.tx.pending = 0;
    this.commits++;
    this.cachedSize = undefined;
  }

  /** Commits buffered writes now, then fsyncs the file: everything written so far is durable. */
  forceCommit(): void {
    this.commit();
    syncEnv(this.root);
  }

  /**
   * A consistent copy of every bucket as of now (buffered writes included), streamed while writes go on.
   * Read it to the end or close() it.
   */
  snapshot(): BackendSnapshot {
    this.commit();
    const txn = this.root.useReadTransaction();
    const snap = new BackendSnapshot(
      this.bucketList.map((b) => ({ name: b.name, db: b.db })),
      txn,
      (s) => this.snapshots.delete(s),
    );
    this.snapshots.add(snap);
    return snap;
  }

  /** A consistent read-only view as of now (buffered writes included) for long scans; close it after. */
  readView(): ReadView {
    this.commit();
    const view = new ReadView(
      (name) => this.bucket(name).db,
      this.root.useReadTransaction(),
      (v) => this.snapshots.delete(v),
    );
    this.snapshots.add(view);
    return view;
  }

  /** Size of the database file in bytes (it changes only when a commit or defrag writes the file). */
  size(): number {
    this.checkOpen();
    this.cachedSize ??= statSync(this.path).size;
    return this.cachedSize;
  }

  /** Bytes of the file holding live pages (B+tree pages of every bucket, metadata, free-list tree). */
  sizeInUse(): number {
    this.checkOpen();
    type TreeStats = {
      pageSize: number;
      treeBranchPageCount: number;
      treeLeafPageCount: number;
      overflowPages: number;
    };
    const pages = (s: TreeStats): number => s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
    let total = 2; // LMDB's two meta pages
    let pageSize = 4096;
    for (const b of this.bucketList) {
      const s = b.db.getStats() as TreeStats & { root: TreeStats; free: TreeStats };
      total += pages(s);
      pageSize = s.pageSize;
    }
    const s = this.root.getStats() as TreeStats & { root: TreeStats; free: TreeStats };
    total += pages(s.root) + pages(s.free);
    return total * pageSize;
  }

  /**
   * Rewrites the file compactly (free pages dropped), as etcd's defrag does: copies every bucket into a
   * new file, then swaps it in. Blocks while it runs; refuses while a snapshot is being read.
   */
  defrag(): void {
    const { tmp, dst, before } = this.beginDefrag(false);
    try {
      for (const b of this.bucketList) {
        const target = dst.dbs.get(b.name)!;
        let batch: { key: Buffer; value: Buffer }[] = [];
        const flush = (): void => {
          const items = batch;
          dst.root.transactionSync(() => {
            for (const { key, value } of items) target.putSync(key, value);
          });
          batch = [];
        };
        for (const e of b.db.getRange({})) {
          batch.push(e);
          if (batch.length >= DEFRAG_BATCH) flush();
        }
        if (batch.length > 0) flush();
      }
    } catch (e) {
      void dst.root.close();
      rmSync(tmp, { force: true });
      rmSync(lockFilePath(tmp), { force: true });
      throw e;
    }
    this.swapIn(tmp, dst, before, {});
  }

  /**
   * Defragments without stopping the member: the copy is made from a read transaction in batches that
   * yield to the event loop while writes go on (each write committed meanwhile is also logged), then,
   * synchronously, the logged writes are replayed into the copy and the copy is swapped in. The member
   * blocks only for that replay and swap, not for the copy. Snapshots and read views open at the swap
   * (a backup, a hash) are waited for (up to `waitMs`); if they stay open the defrag is abandoned.
   */
  async defragOnline(waitMs = 30_000): Promise<void> {
    const { tmp, dst, before } = this.beginDefrag(true);
    let txn: Transaction | undefined = this.root.useReadTransaction();
    let cursor: Iterator<{ key: Buffer; value: Buffer }> | undefined;
    // The cursor is released before its transaction (as for snapshots).
    const endRead = () => {
      cursor?.return?.();
      cursor = undefined;
      const t = txn;
      txn = undefined;
      t?.done();
    };
    this.endDefragRead = endRead;
    this.defragLog = [];
    // swapped: the copy took the file's place (from then on a failure is not undone here).
    let swapped = false;
    try {
      try {
        for (const b of this.bucketList) {
          const target = dst.dbs.get(b.name)!;
          const it = b.db.getRange({ transaction: txn! })[Symbol.iterator]();
          cursor = it;
          for (let done = false; !done; ) {
            const batch: { key: Buffer; value: Buffer }[] = [];
            while (batch.length < DEFRAG_BATCH) {
              const r = it.next();
              if (r.done) {
                done = true;
                break;
              }
              batch.push(r.value);
            }
            dst.root.transactionSync(() => {
              for (const { key, value } of batch) target.putSync(key, value);
            });
            await new Promise<void>((resolve) => setImmediate(resolve));
            this.checkOpen();
            if (txn === undefined) throw new Error("backend: closed during defragmentation");
          }
        }
      } finally {
        endRead();
        this.endDefragRead = undefined;
      }
      const deadline = performance.now() + waitMs;
      while (this.snapshots.size > 0) {
        if (performance.now() > deadline)
          throw new Error("backend: snapshots stayed open; defragmentation abandoned");
        await new Promise<void>((resolve) => setTimeout(resolve, 10));
        this.checkOpen();
      }
      // From here on nothing yields: no write can slip between the replay and the swap.
      this.commit();
      const log = this.defragLog;
      dst.root.transactionSync(() => {
        for (const op of log) {
          const db = dst.dbs.get(op.bucket)!;
          if (op.value === null) db.removeSync(op.key);
          else db.putSync(op.key, op.value);
        }
      });
      this.defragLog = undefined;
      swapped = true;
      this.swapIn(tmp, dst, before, { replayed: log.length });
    } finally {
      this.defragLog = undefined;
      if (!swapped) {
        void dst.root.close();
        rmSync(tmp, { force: true });
        rmSync(lockFilePath(tmp), { force: true });
      }
    }
  }

  /** Checks a defrag may start, commits, and opens the copy's environment next to the file. */
  private beginDefrag(online: boolean) {
    this.checkOpen();
    if (this.defragLog !== undefined) throw new Error("backend: a defragmentation is already running");
    // The online copy reads its own transaction; only its swap waits for open snapshots.
    if (!online && this.snapshots.size > 0) {
      throw new Error("backend: cannot defragment while a snapshot is open");
    }
    this.commit();
    const before = this.size();
    const tmp = `${this.path}.defrag`;
    rmSync(tmp, { force: true });
    rmSync(lockFilePath(tmp), { force: true });
    return { tmp, dst: openEnv(tmp, { mapSize: this.opts.mapSize }), before };
  }

  /** Makes the completed copy durable and swaps it in for the file (nothing may yield meanwhile). */
  private swapIn(tmp: string, dst: OpenEnv, before: number, fields: object): void {
    syncEnv(dst.root);
    void dst.root.close();
    rmSync(lockFilePath(tmp), { force: true });
    syncEnv(this.root);
    void this.root.close();
    renameSync(tmp, this.path);
    const env = openEnv(this.path, { mapSize: this.opts.mapSize });
    this.root = env.root;
    this.cachedSize = undefined;
    for (const b of this.bucketList) b.db = env.dbs.get(b.name)!;
    this.logger.info("backend defragmented", { path: this.path, before, after: this.size(), ...fields });
  }

  /**
   * CRC-32C over every bucket (in name order) of its name and then each key and value, as etcd's
   * backend hash; `ignore` leaves out whole buckets or single pairs.
   */
  hash(ignore?: HashIgnore): number {
    this.checkOpen();
    const skipBucket = Array.isArray(ignore) ? new Set<string>(ignore) : undefined;
    const skipPair = typeof ignore === "function" ? ignore : undefined;
    let h = 0;
    for (const name of ALL_BUCKETS) {
      if (skipBucket?.has(name)) continue;
      h = crc32cUpdate(h, Buffer.from(name, "latin1"));
      this.tx.forEach(name, (k, v) => {
        if (skipPair?.(name, k)) return;
        h = crc32cUpdate(h, k);
        h = crc32cUpdate(h, v);
      });
    }
    return h;
  }

  stats(): BackendStats {
    return { commits: this.commits, pending: this.tx.pending, openSnapshots: this.snapshots.size };
  }

  /** Commits and fsyncs buffered writes, releases open snapshots and closes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const s of [...this.snapshots]) s.close();
    // An online defrag's read transaction must end before the environment closes (LMDB's rule).
    this.endDefragRead?.();
    this.forceCommit();
    this.closed = true;
    void this.root.close();
  }

  private bucket(name: BucketName): BucketState {
    const b = this.buckets.get(name);
    if (b === undefined) throw new RangeError(`backend: unknown bucket ${JSON.stringify(name)}`);
    if (this.closed) throw new Error("backend: closed");
    return b;
  }

  private written(): void {
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.closed) this.commit();
      }, this.batchIntervalMs);
      this.timer.unref();
    }
    if (this.tx.pending >= this.batchLimit && !this.limitQueued) {
      this.limitQueued = true;
      queueMicrotask(() => {
        this.limitQueued = false;
        if (!this.closed && this.tx.pending >= this.batchLimit) this.commit();
      });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("backend: closed");
  }
}

/** True if a backend file exists at `path`. */
export function backendExists(path: string): boolean {
  return existsSync(path);
}
