// Errors of the WAL and snapshot files. Every one names the file (and offset) it is about, so an
// operator can find the damage.

export class WALError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WALError";
  }
}

/**
 * A record before the tail of the log fails its checks, or the log's structure is broken (a missing
 * segment, a broken crc chain between segments, conflicting metadata). The WAL refuses to open: the
 * records after the damage may have been acknowledged, so dropping them silently would lose
 * committed data. A torn tail (a write cut by a crash) is not this error: it is repaired (see repair.ts).
 */
export class CorruptWALError extends WALError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`wal: corrupt data in ${file} at offset ${offset}: ${reason}; refusing to open`);
    this.name = "CorruptWALError";
  }
}

/** Another live process holds the lock of the WAL directory. */
export class DataDirLockedError extends WALError {
  constructor(
    readonly dir: string,
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(
      `wal: data dir is in use by another process: ${dir} is locked by pid ${pid}` +
        `${pid === process.pid ? " (this process)" : ""} (lock file ${lockFile})`,
    );
    this.name = "DataDirLockedError";
  }
}

/** open(at) found no snapshot marker for `at` in the segments it read. */
export class WALSnapshotNotFoundError extends WALError {
  constructor(dir: string, index: number, term: number) {
    super(`wal: no snapshot marker for index ${index} (term ${term}) in ${dir}`);
    this.name = "WALSnapshotNotFoundError";
  }
}

/** open(at) found the snapshot marker for `at.index` with a different term. */
export class WALSnapshotMismatchError extends WALError {
  constructor(file: string, index: number, expectedTerm: number, foundTerm: number) {
    super(
      `wal: snapshot marker for index ${index} in ${file} has term ${foundTerm}, expected ${expectedTerm}`,
    );
    this.name = "WALSnapshotMismatchError";
  }
}

/** A snapshot file that cannot be used: unreadable, wrong format, checksum mismatch, undecodable. */
export class SnapshotFileError extends WALError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`snap: broken snapshot file ${file}: ${reason}`);
    this.name = "SnapshotFileError";
  }
}
