// Exclusive lock of a WAL directory, so that a second process on the same data dir fails clearly.
//
// Node has no flock(2), so the lock is a file, `wal.lock`, holding the owner's PID:
//  - Acquire: write our PID to a private temp file, then link(2) it to `wal.lock`. link fails with
//    EEXIST if the lock exists, and a lock file never exists without its PID in it.
//  - A lock whose PID is not a live process (kill(pid, 0) says ESRCH) is stale: its owner died
//    (kill -9, power loss) without unlinking it. It is taken over: renamed away (only one contender
//    wins the rename), checked to still hold the dead PID, deleted, and the acquire retried.
//  - Release (close) unlinks the lock if it still holds our PID.
// Limits, documented rather than hidden: PIDs are per host, so a data dir shared over a network file
// system is not protected across hosts; if the dead owner's PID was reused by an unrelated live process
// the lock looks held and the error names that PID (delete `wal.lock` by hand after checking). A
// zombie (exited, not yet reaped: common in containers whose init does not reap) counts as dead where
// /proc shows process states.

import fs from "node:fs";
import { join } from "node:path";
import type { RaftLogger } from "../raft/logger.js";
import { DataDirLockedError, WALError } from "./errors.js";

export const LOCK_NAME = "wal.lock";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

/** A process that exited but was not reaped holds no files; /proc/<pid>/stat's state field says "Z". */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may contain spaces: the state follows the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

function readPid(path: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : -1;
}

let tmpCounter = 0;

export class DirLock {
  private constructor(private path: string) {}

  /** Locks `dir` for this process or throws DataDirLockedError naming the holder. */
  static acquire(dir: string, logger?: RaftLogger): DirLock {
    const path = join(dir, LOCK_NAME);
    const tmp = join(dir, `${LOCK_NAME}.${process.pid}.${tmpCounter++}.tmp`);
    fs.writeFileSync(tmp, `${process.pid}\n`);
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          fs.linkSync(tmp, path);
          return new DirLock(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        }
        const pid = readPid(path);
        if (pid === undefined) continue; // released meanwhile
        if (pid > 0 && isAlive(pid)) throw new DataDirLockedError(dir, path, pid);
        // Stale: take it over. Renaming is atomic, so of several contenders exactly one moves it.
        const stale = `${path}.stale.${process.pid}`;
        try {
          fs.renameSync(path, stale);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
          throw err;
        }
        const moved = readPid(stale);
        if (moved !== pid) {
          // We moved a lock someone else took in the meantime: put it back and report it.
          try {
            fs.linkSync(stale, path);
          } catch {
            // a third process holds it now; its lock stands
          }
          fs.rmSync(stale, { force: true });
          if (moved !== undefined && moved > 0) throw new DataDirLockedError(dir, path, moved);
          continue;
        }
        fs.rmSync(stale, { force: true });
        logger?.warn("wal: removed stale lock of a process that is not running", { lockFile: path, pid });
      }
      throw new WALError(`wal: could not lock ${dir}: lock file ${path} keeps changing`);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** The lock file moved with its directory (create renames the temp dir into place). */
  moved(newDir: string): void {
    this.path = join(newDir, LOCK_NAME);
  }

  release(): void {
    if (readPid(this.path) === process.pid) fs.rmSync(this.path, { force: true });
  }
}
