// The write-ahead log: raft entries, hard states and snapshot markers, appended to segment files
// with chained checksums and made durable by group commit.
//
// Layout: `<dir>/<seq>-<index>.wal` segments (segment.ts) of framed records (record.ts), plus the lock
// file `wal.lock` (lock.ts). Every segment starts with a Crc record (the running crc so far) and a
// Metadata record; the first one then has the snapshot marker {index 0, term 0}, later ones the
// latest HardState. A segment is cut when the next batch would not fit in `segmentBytes`: the old
// segment is truncated to its data and fdatasync'ed, the new one created complete and durable before
// it becomes visible.
//
// Group commit: one writer loop owns the file. save() frames its records at once (so they keep call
// order) and queues them; the loop takes everything queued, seals the crc chain, writes it with one
// write and makes it durable with one fdatasync. While that fdatasync is in flight new saves queue up
// and share the next one. A save's promise resolves only after the fdatasync covering its records
// returned (mustSync=false: after its write, still in order; a later sync covers it). After any I/O
// error the WAL is failed: pending and later saves reject, because what reached the disk is unknown.
//
// Open: segments are read from the last one whose name index is <= the snapshot index, verifying
// every record and the chain across segments. A torn tail of the last segment is cut; any other
// damage throws CorruptWALError naming file and offset (the rule is in repair.ts).

import fs from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  decodeEntry,
  decodeHardState,
  decodeSnapshotMetadata,
  encodeEntry,
  encodeHardState,
  encodeSnapshotMetadata,
} from "../raft/codec.js";
import type { RaftLogger } from "../raft/logger.js";
import {
  type ConfState,
  type Entry,
  emptyConfState,
  emptyHardState,
  type HardState,
  isEmptyHardState,
} from "../raft/types.js";
import { CorruptWALError, WALError, WALSnapshotMismatchError, WALSnapshotNotFoundError } from "./errors.js";
import { dropUnsynced, dropUnsyncedFromEnv, markSynced } from "./failpoint.js";
import { DirLock } from "./lock.js";
import { stderrLogger } from "./logger.js";
import { crcRecordData, decodeRecord, RecordType, sealRecords, writeRecords } from "./record.js";
import { classifyTail, truncateTail } from "./repair.js";
import {
  checkSequence,
  closeFd,
  createSegment,
  fdatasync,
  fsyncDir,
  ftruncate,
  listSegments,
  openFd,
  parseSegmentName,
  pwriteAll,
  removeTmpSegments,
  type SegmentName,
  searchIndex,
  segmentName,
} from "./segment.js";

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_WALS = 5;
export const DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024;

export interface WALOptions {
  /** Preallocated size of a segment; a segment is cut when the next batch would not fit. Default 64 MiB. */
  segmentBytes?: number;
  /** Segments kept at least (released ones beyond this are deleted); 0 keeps all. Default 5. */
  maxWals?: number;
  /** Most bytes one group-commit write takes (a single larger save is still written whole). Default 16 MiB. */
  maxBatchBytes?: number;
  /** Default: warnings and errors to stderr. */
  logger?: RaftLogger;
  /**
   * TEST-ONLY failpoint (failpoint.ts): mark what is fsynced, and at open drop everything after the
   * mark, as a power cut would. Default: ETCD_TS_FAILPOINT_DROP_UNSYNCED=1 in the environment.
   */
  dropUnsynced?: boolean;
}

/** A snapshot position: the snapshot marker open() starts from. */
export interface WALPosition {
  index: number;
  term: number;
}

export interface WALSnapshot extends WALPosition {
  confState?: ConfState;
}

export interface ReadAllResult {
  metadata: Uint8Array;
  hardState: HardState;
  /** Entries after the snapshot position, a later write of an index replacing earlier ones. */
  entries: Entry[];
}

export interface WALStats {
  /** Records appended (entries, states, snapshot markers). */
  records: number;
  /** save/saveSnapshot calls that wrote something. */
  saves: number;
  /** Group-commit writes. */
  writes: number;
  /** fdatasync calls (group commits plus segment cuts). */
  fsyncs: number;
  bytes: number;
  /** Segments cut. */
  cuts: number;
}

interface Pending {
  bytes: Uint8Array;
  records: number;
  mustSync: boolean;
  /** Index of the last entry saved, or -1. */
  lastIndex: number;
  /** Index of a snapshot marker saved, or -1. */
  snapIndex: number;
  state: HardState | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface ScanResult {
  /** Offset after the last valid record. */
  end: number;
  /** Running crc after the last valid record. */
  crc: number;
  /** Offset after the segment's Metadata record. */
  headerEnd: number;
  /** Set when the tail from `end` on is torn (only for the last segment). */
  torn?: string;
}

type Visit = (type: RecordType, data: Uint8Array, offset: number) => void;

/**
 * Verifies and visits the records of one segment. `expectCrc` is the running crc the previous segment
 * ended with (undefined for the first segment read). Throws CorruptWALError on damage; reports a torn
 * tail of the last segment in the result instead.
 */
function scanSegment(
  buf: Uint8Array,
  file: string,
  expectCrc: number | undefined,
  isLast: boolean,
  visit: Visit,
): ScanResult {
  const first = decodeRecord(buf, 0, 0);
  if (first.kind !== "record" || first.type !== RecordType.Crc) {
    throw new CorruptWALError(file, 0, "segment does not start with a valid crc record");
  }
  if (expectCrc !== undefined && first.crc !== expectCrc) {
    throw new CorruptWALError(
      file,
      0,
      `crc chain broken: segment continues from crc ${first.crc.toString(16)}, ` +
        `the previous segment ended with ${expectCrc.toString(16)}`,
    );
  }
  let crc = first.crc;
  let off = first.next;
  let headerEnd = -1;
  for (;;) {
    const d = decodeRecord(buf, off, crc);
    if (d.kind === "record") {
      if (headerEnd < 0) {
        if (d.type !== RecordType.Metadata)
          throw new CorruptWALError(file, off, "second record is not metadata");
        headerEnd = d.next;
      }
      if (d.type === RecordType.Crc) throw new CorruptWALError(file, off, "crc record inside a segment");
      visit(d.type, d.data, off);
      crc = d.crc;
      off = d.next;
      continue;
    }
    if (headerEnd < 0) throw new CorruptWALError(file, off, "segment header incomplete (no metadata record)");
    const verdict = classifyTail(buf, off, d);
    if (verdict.kind === "clean") return { end: off, crc, headerEnd };
    if (!isLast) {
      const reason = d.kind === "zero" ? "data after the end of records" : d.reason;
      throw new CorruptWALError(file, off, `${reason} (not the last segment)`);
    }
    if (verdict.kind === "corrupt") throw new CorruptWALError(file, off, verdict.reason);
    return { end: off, crc, headerEnd, torn: verdict.reason };
  }
}

/** A Uint8Array view of a Buffer, so that `.slice()` copies (Buffer#slice does not). */
function asPlainBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function codecFailure(file: string, off: number, what: string, err: unknown): CorruptWALError {
  return new CorruptWALError(
    file,
    off,
    `undecodable ${what} in a record with a valid crc: ${(err as Error).message}`,
  );
}

export class WAL {
  /** Counters since this WAL was opened. */
  readonly stats: WALStats = { records: 0, saves: 0, writes: 0, fsyncs: 0, bytes: 0, cuts: 0 };

  private readonly segmentBytes: number;
  private readonly maxWals: number;
  private readonly maxBatchBytes: number;
  private readonly logger: RaftLogger;
  /** Segments in the directory, oldest first; the last one is open for appending. */
  private segs: SegmentName[];
  /** How many of the oldest segments may be deleted (their entries are all below a snapshot). */
  private releasable: number;
  private queue: Pending[] = [];
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private closed = false;
  /** Records were written since the last fdatasync. */
  private unsynced = false;
  private readResult: ReadAllResult | undefined;
  private readonly dropUnsynced: boolean;

  private constructor(
    readonly dir: string,
    private readonly metadata: Uint8Array,
    private readonly lock: DirLock,
    opts: WALOptions,
    segs: SegmentName[],
    releasable: number,
    private fd: number,
    /** Append position in the current segment. */
    private offset: number,
    /** End of the current segment's header records. */
    private headerEnd: number,
    /** Running crc of everything written. */
    private crc: number,
    /** Index of the last entry (or snapshot marker, if higher) written. */
    private enti: number,
    /** Latest hard state written. */
    private state: HardState,
  ) {
    this.segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.maxWals = opts.maxWals ?? DEFAULT_MAX_WALS;
    this.maxBatchBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.logger = opts.logger ?? stderrLogger;
    this.dropUnsynced = opts.dropUnsynced ?? dropUnsyncedFromEnv();
    this.segs = segs;
    this.releasable = releasable;
  }

  /** Whether `dir` holds at least one WAL segment. */
  static exists(dir: string): boolean {
    return listSegments(dir).length > 0;
  }

  /**
   * Creates a WAL in `dir` (which must not exist or be empty): one segment holding `metadata` and the
   * snapshot marker {0, 0}. It is built in `<dir>.tmp` and renamed into place, so a crash leaves either
   * no WAL or a complete one. The returned WAL is locked and ready for save().
   */
  static async create(dir: string, metadata: Uint8Array, opts: WALOptions = {}): Promise<WAL> {
    const logger = opts.logger ?? stderrLogger;
    const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const abs = resolve(dir);
    if (WAL.exists(abs)) throw new WALError(`wal: ${abs} already holds a WAL`);
    const parent = dirname(abs);
    fs.mkdirSync(parent, { recursive: true });
    if (fs.existsSync(abs) && fs.readdirSync(abs).length > 0) {
      throw new WALError(`wal: cannot create a WAL in ${abs}: the directory is not empty`);
    }
    const tmp = `${abs}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp);
    const lock = DirLock.acquire(tmp, logger);
    let fd = -1;
    try {
      const snap = encodeSnapshotMetadata({ confState: emptyConfState(), index: 0, term: 0 });
      const header = writeRecords(
        [RecordType.Crc, RecordType.Metadata, RecordType.Snapshot],
        [crcRecordData(0), metadata, snap],
      );
      const crc = sealRecords(header, 0);
      const name = segmentName(0, 0);
      fd = await createSegment(tmp, name, header, segmentBytes);
      if (fs.existsSync(abs)) fs.rmdirSync(abs);
      fs.renameSync(tmp, abs);
      lock.moved(abs);
      fsyncDir(parent);
      const headerEnd = header.length;
      if (opts.dropUnsynced ?? dropUnsyncedFromEnv()) markSynced(abs, name, headerEnd);
      const segs = [parseSegmentName(name)!];
      return new WAL(
        abs,
        metadata.slice(),
        lock,
        opts,
        segs,
        0,
        fd,
        headerEnd,
        headerEnd,
        crc,
        0,
        emptyHardState,
      );
    } catch (err) {
      if (fd >= 0) await closeFd(fd).catch(() => {});
      lock.release();
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Opens the WAL in `dir` for appending after reading it from the snapshot position `at` (the
   * snapshot marker {index, term} must be in the log; {0, 0} is the one create wrote). Takes the
   * directory lock (DataDirLockedError if another process holds it), verifies every record read,
   * repairs a torn tail and refuses damage (CorruptWALError). The records read are returned by readAll().
   */
  static async open(dir: string, at: WALPosition, opts: WALOptions = {}): Promise<WAL> {
    const logger = opts.logger ?? stderrLogger;
    const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const abs = resolve(dir);
    if (!fs.existsSync(abs)) throw new WALError(`wal: no WAL directory ${abs}`);
    const lock = DirLock.acquire(abs, logger);
    let fd = -1;
    try {
      for (const n of removeTmpSegments(abs)) logger.warn("wal: removed an unfinished segment", { file: n });
      if (opts.dropUnsynced ?? dropUnsyncedFromEnv()) dropUnsynced(abs, logger);
      const segs = listSegments(abs);
      if (segs.length === 0) throw new WALError(`wal: no WAL segments in ${abs}`);
      checkSequence(abs, segs);
      const start = searchIndex(segs, at.index);
      if (start < 0) throw new WALSnapshotNotFoundError(abs, at.index, at.term);

      let entries: Entry[] = [];
      let hardState: HardState = emptyHardState;
      let metadata: Uint8Array | undefined;
      let matched = false;
      let enti = at.index;
      let file = "";
      const visit: Visit = (type, data, off) => {
        switch (type) {
          case RecordType.Entry: {
            let e: Entry;
            try {
              e = decodeEntry(data.slice());
            } catch (err) {
              throw codecFailure(file, off, "entry", err);
            }
            if (e.index > at.index) {
              const up = e.index - at.index - 1;
              if (up > entries.length) {
                throw new CorruptWALError(
                  file,
                  off,
                  `entry ${e.index} leaves a gap: the entries read end at ${at.index + entries.length}`,
                );
              }
              if (up < entries.length) entries = entries.slice(0, up);
              entries.push(e);
              enti = e.index;
            }
            break;
          }
          case RecordType.State:
            try {
              hardState = decodeHardState(data);
            } catch (err) {
              throw codecFailure(file, off, "hard state", err);
            }
            break;
          case RecordType.Metadata:
            if (metadata === undefined) metadata = data.slice();
            else if (!bytesEqual(metadata, data)) {
              throw new CorruptWALError(file, off, "metadata differs from the metadata of earlier segments");
            }
            break;
          case RecordType.Snapshot: {
            let index: number;
            let term: number;
            try {
              ({ index, term } = decodeSnapshotMetadata(data));
            } catch (err) {
              throw codecFailure(file, off, "snapshot marker", err);
            }
            if (index === at.index) {
              if (term !== at.term) throw new WALSnapshotMismatchError(file, index, at.term, term);
              matched = true;
            }
            if (index > enti) enti = index;
            break;
          }
          default:
            throw new CorruptWALError(file, off, `unexpected record type ${type}`);
        }
      };

      let crc: number | undefined;
      let last: ScanResult | undefined;
      let lastLen = 0;
      for (let i = start; i < segs.length; i++) {
        file = join(abs, segs[i].name);
        const buf = asPlainBytes(await readFile(file));
        last = scanSegment(buf, file, crc, i === segs.length - 1, visit);
        crc = last.crc;
        lastLen = buf.length;
      }
      if (!matched) throw new WALSnapshotNotFoundError(abs, at.index, at.term);
      const tail = last!;
      fd = await openFd(file, "r+");
      if (tail.torn !== undefined) {
        logger.warn("wal: repaired a torn tail (a write cut short by a crash)", {
          file,
          offset: tail.end,
          discardedBytes: lastLen - tail.end,
          reason: tail.torn,
        });
        await truncateTail(fd, tail.end, segmentBytes);
      } else if (lastLen < segmentBytes) {
        await ftruncate(fd, segmentBytes);
      }
      if (opts.dropUnsynced ?? dropUnsyncedFromEnv()) markSynced(abs, segs[segs.length - 1]!.name, tail.end);
      const wal = new WAL(
        abs,
        metadata!,
        lock,
        opts,
        segs,
        start,
        fd,
        tail.end,
        tail.headerEnd,
        tail.crc,
        enti,
        hardState,
      );
      wal.readResult = { metadata: metadata!, hardState, entries };
      return wal;
    } catch (err) {
      if (fd >= 0) await closeFd(fd).catch(() => {});
      lock.release();
      throw err;
    }
  }

  /**
   * Snapshot markers of the WAL in `dir` whose index is at most the commit index of the last hard
   * state (etcd's ValidSnapshotEntries), oldest first: the snapshots the WAL can be opened at. Reads
   * without locking or repairing; a torn tail is ignored, damage throws CorruptWALError.
   */
  static async validSnapshotEntries(
    dir: string,
    opts: Pick<WALOptions, "dropUnsynced" | "logger"> = {},
  ): Promise<WALPosition[]> {
    const abs = resolve(dir);
    if (opts.dropUnsynced ?? dropUnsyncedFromEnv()) dropUnsynced(abs, opts.logger ?? stderrLogger);
    const segs = listSegments(abs);
    checkSequence(abs, segs);
    const snaps: WALPosition[] = [];
    let hs: HardState = emptyHardState;
    let crc: number | undefined;
    for (let i = 0; i < segs.length; i++) {
      const file = join(abs, segs[i].name);
      const buf = asPlainBytes(await readFile(file));
      const r = scanSegment(buf, file, crc, i === segs.length - 1, (type, data, off) => {
        try {
          if (type === RecordType.Snapshot) {
            const { index, term } = decodeSnapshotMetadata(data);
            snaps.push({ index, term });
          } else if (type === RecordType.State) hs = decodeHardState(data);
        } catch (err) {
          throw codecFailure(file, off, RecordType[type], err);
        }
      });
      crc = r.crc;
    }
    return snaps.filter((s) => s.index <= hs.commit);
  }

  /**
   * What open() read: the metadata, the last hard state, and the entries after the snapshot position.
   * Available once; a WAL made by create() has nothing to read.
   */
  readAll(): ReadAllResult {
    const r = this.readResult;
    if (!r) throw new WALError("wal: readAll is available once, after open()");
    this.readResult = undefined;
    return r;
  }

  /**
   * Appends `ents` and then `hs` (if given and not empty). Resolves once they are durable: after the
   * fdatasync covering them returned (group commit). With mustSync=false it resolves after the
   * write; the records keep their order and a later sync covers them.
   */
  save(hs: HardState | undefined, ents: readonly Entry[], mustSync = true): Promise<void> {
    const withState = hs !== undefined && !isEmptyHardState(hs);
    if (!withState && ents.length === 0) return Promise.resolve();
    const types: RecordType[] = [];
    const datas: Uint8Array[] = [];
    for (const e of ents) {
      types.push(RecordType.Entry);
      datas.push(encodeEntry(e));
    }
    if (withState) {
      types.push(RecordType.State);
      datas.push(encodeHardState(hs));
    }
    const lastIndex = ents.length > 0 ? ents[ents.length - 1].index : -1;
    return this.enqueue(types, datas, mustSync, lastIndex, -1, withState ? { ...hs } : undefined);
  }

  /** Appends a snapshot marker (the position open() can later start from) and makes it durable. */
  saveSnapshot(s: WALSnapshot): Promise<void> {
    const data = encodeSnapshotMetadata({
      confState: s.confState ?? emptyConfState(),
      index: s.index,
      term: s.term,
    });
    return this.enqueue([RecordType.Snapshot], [data], true, -1, s.index, undefined);
  }

  /**
   * Marks the segments that only hold entries below `index` as no longer needed: every segment whose
   * name index is below `index`, except the newest of them (as etcd's ReleaseLockTo). Released
   * segments are deleted, oldest first, while more than `maxWals` segments exist.
   */
  releaseLockTo(index: number): void {
    let k = -1;
    for (let i = 0; i < this.segs.length; i++) if (this.segs[i].index < index) k = i;
    if (k > this.releasable) this.releasable = k;
    this.purge();
  }

  /** Waits for queued saves, syncs, closes the segment and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.running) await this.loopDone;
    try {
      if (this.unsynced && !this.failed) {
        await fdatasync(this.fd);
        this.stats.fsyncs++;
        this.unsynced = false;
        if (this.dropUnsynced) this.markSynced();
      }
    } finally {
      await closeFd(this.fd).catch(() => {});
      this.lock.release();
    }
  }

  /** Segment file names currently in the directory, oldest first. */
  segments(): string[] {
    return this.segs.map((s) => s.name);
  }

  private purge(): void {
    if (this.maxWals <= 0) return;
    while (this.releasable > 0 && this.segs.length > this.maxWals) {
      const s = this.segs.shift()!;
      this.releasable--;
      fs.rmSync(join(this.dir, s.name), { force: true });
      this.logger.info("wal: purged segment", { file: s.name });
    }
  }

  private enqueue(
    types: RecordType[],
    datas: Uint8Array[],
    mustSync: boolean,
    lastIndex: number,
    snapIndex: number,
    state: HardState | undefined,
  ): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new WALError("wal: save on a closed WAL"));
    const bytes = writeRecords(types, datas);
    return new Promise((resolve, reject) => {
      this.queue.push({
        bytes,
        records: types.length,
        mustSync,
        lastIndex,
        snapIndex,
        state,
        resolve,
        reject,
      });
      if (!this.running) {
        this.running = true;
        this.loopDone = this.run();
      }
    });
  }

  /** The writer loop: one group commit per iteration, until the queue is empty. */
  private async run(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        let n = 0;
        let total = 0;
        const q = this.queue;
        while (n < q.length && (n === 0 || total + q[n].bytes.length <= this.maxBatchBytes)) {
          total += q[n].bytes.length;
          n++;
        }
        const batch = q.splice(0, n);
        try {
          await this.commit(batch, total);
        } catch (err) {
          this.fail(err as Error, batch);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: Pending[], total: number): Promise<void> {
    if (this.offset + total > this.segmentBytes && this.offset > this.headerEnd) await this.cut();
    const buf =
      batch.length === 1
        ? batch[0].bytes
        : Buffer.concat(
            batch.map((p) => p.bytes),
            total,
          );
    this.crc = sealRecords(buf, this.crc);
    await pwriteAll(this.fd, buf, this.offset);
    this.offset += total;
    this.stats.writes++;
    this.stats.bytes += total;
    let sync = false;
    for (const p of batch) {
      if (p.lastIndex >= 0) this.enti = p.lastIndex;
      if (p.snapIndex > this.enti) this.enti = p.snapIndex;
      if (p.state) this.state = p.state;
      if (p.mustSync) sync = true;
      this.stats.records += p.records;
    }
    this.stats.saves += batch.length;
    if (sync) {
      await fdatasync(this.fd);
      this.stats.fsyncs++;
      this.unsynced = false;
      if (this.dropUnsynced) this.markSynced();
    } else {
      this.unsynced = true;
    }
    for (const p of batch) p.resolve();
  }

  /**
   * Starts a new segment: the current one is cut to its data and made durable, the next one is
   * created with its header (crc so far, metadata, latest hard state) durable before it is visible.
   */
  private async cut(): Promise<void> {
    const old = this.fd;
    await ftruncate(old, this.offset);
    await fdatasync(old);
    this.stats.fsyncs++;
    this.unsynced = false;
    const types = [RecordType.Crc, RecordType.Metadata];
    const datas = [crcRecordData(this.crc), this.metadata];
    if (!isEmptyHardState(this.state)) {
      types.push(RecordType.State);
      datas.push(encodeHardState(this.state));
    }
    const header = writeRecords(types, datas);
    const crc = sealRecords(header, this.crc);
    const seq = this.segs[this.segs.length - 1].seq + 1;
    const name = segmentName(seq, this.enti + 1);
    this.fd = await createSegment(this.dir, name, header, this.segmentBytes);
    this.stats.fsyncs++;
    await closeFd(old);
    this.offset = header.length;
    this.headerEnd = header.length;
    this.crc = crc;
    this.segs.push(parseSegmentName(name)!);
    if (this.dropUnsynced) this.markSynced();
    this.stats.cuts++;
    this.logger.info("wal: cut segment", { file: name });
    this.purge();
  }

  /** Failpoint only: the current segment is durable up to the current offset. */
  private markSynced(): void {
    markSynced(this.dir, this.segs[this.segs.length - 1]!.name, this.offset);
  }

  private fail(err: Error, batch: Pending[]): void {
    if (!this.failed) {
      this.failed = new WALError(`wal: write failed, the WAL can no longer be used: ${err.message}`);
      (this.failed as Error & { cause?: unknown }).cause = err;
      this.logger.error("wal: write failed", { dir: this.dir, error: err.message });
    }
    const rest = this.queue;
    this.queue = [];
    for (const p of batch) p.reject(this.failed);
    for (const p of rest) p.reject(this.failed);
  }
}
