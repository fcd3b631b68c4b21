// TEST-ONLY failpoint: make a kill -9 lose from the WAL what a power cut would lose.
//
// A killed process loses nothing it wrote: the page cache keeps its writes, fsynced or not. A power cut
// loses every write not yet fsynced. With ETCD_TS_FAILPOINT_DROP_UNSYNCED=1 in the member's environment
// (or WALOptions.dropUnsynced), the WAL records after every completed fdatasync how far its files are
// durable (segment name and offset, in the file `failpoint.synced` of the WAL directory, replaced by a
// rename so a kill never leaves it half-written), and the next open (and validSnapshotEntries, which
// bootstrap calls first) cuts everything after that point: later segments are deleted and the synced
// segment is truncated at the offset. The marker is written before the saves it covers are resolved,
// so whatever the member acknowledged (to Raft, hence to peers and clients) was before the mark: a
// correct server loses nothing it acknowledged, and the robustness tests check exactly that.
//
// Only the WAL is covered: raft snapshot files and the backend keep what the process wrote. Without the
// variable none of this runs (one environment lookup at open).

import fs from "node:fs";
import { join } from "node:path";
import type { RaftLogger } from "../raft/logger.js";
import { listSegments } from "./segment.js";

export const DROP_UNSYNCED_ENV = "ETCD_TS_FAILPOINT_DROP_UNSYNCED";
export const SYNCED_MARK_FILE = "failpoint.synced";

/** Whether the failpoint is on for this process (the environment variable is "1"). */
export function dropUnsyncedFromEnv(): boolean {
  return process.env[DROP_UNSYNCED_ENV] === "1";
}

/** Records that `segment` is durable up to `offset` (and every earlier segment entirely). */
export function markSynced(dir: string, segment: string, offset: number): void {
  const tmp = join(dir, `${SYNCED_MARK_FILE}.tmp`);
  fs.writeFileSync(tmp, `${segment} ${offset}\n`);
  fs.renameSync(tmp, join(dir, SYNCED_MARK_FILE));
}

/**
 * Discards everything after the last synced mark in `dir` (see the header). Returns the number of
 * non-zero bytes discarded (0 when there was no mark or nothing after it).
 */
export function dropUnsynced(dir: string, logger: RaftLogger): number {
  let mark: string;
  try {
    mark = fs.readFileSync(join(dir, SYNCED_MARK_FILE), "utf8");
  } catch {
    return 0;
  }
  const m = /^(\S+) (\d+)\n$/.exec(mark);
  if (!m) {
    logger.warn("wal failpoint: unreadable synced mark, nothing dropped", { mark });
    return 0;
  }
  const [, segment, off] = m;
  const offset = Number(off);
  const segs = listSegments(dir);
  const at = segs.findIndex((s) => s.name === segment);
  if (at < 0) {
    logger.warn("wal failpoint: the synced mark names a missing segment, nothing dropped", { segment });
    return 0;
  }
  let dropped = 0;
  for (const s of segs.slice(at + 1)) {
    const file = join(dir, s.name);
    dropped += nonZeroExtent(file, 0);
    fs.rmSync(file);
  }
  const file = join(dir, segment!);
  dropped += nonZeroExtent(file, offset);
  if (fs.statSync(file).size > offset) fs.truncateSync(file, offset);
  if (dropped > 0) {
    logger.warn("wal failpoint: dropped writes that were not fsynced (simulated power loss)", {
      segment,
      offset,
      droppedBytes: dropped,
      removedSegments: segs.length - at - 1,
    });
  }
  return dropped;
}

/** Bytes from `from` up to the last non-zero byte of `file` (segments are zero-filled past their records). */
function nonZeroExtent(file: string, from: number): number {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(1 << 20);
    let last = -1;
    for (let pos = from; pos < size; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n <= 0) break;
      let i = n - 1;
      while (i >= 0 && buf[i] === 0) i--;
      if (i >= 0) last = pos + i;
      else break; // a whole chunk of zeros: the records ended before it
      pos += n;
    }
    return last < 0 ? 0 : last + 1 - from;
  } finally {
    fs.closeSync(fd);
  }
}
