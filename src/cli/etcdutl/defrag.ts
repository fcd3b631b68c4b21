// `defrag --data-dir`: rewrites a stopped member's backend file compactly (into a new file swapped in,
// which a running member would never see). While a member runs on the data dir -- its WAL is locked, or
// a process has the backend file open -- defrag waits for it to stop, as etcd waits for bbolt's lock.

import { existsSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { Backend } from "../../backend/index.js";
import { memberDirs } from "../../server/raft_storage.js";
import { DataDirLockedError } from "../../wal/index.js";
import { DirLock } from "../../wal/lock.js";
import { EtcdutlError, goFsError } from "./errors.js";

export interface DefragOptions {
  /** --data-dir (required): a data dir not in use by etcd. */
  dataDir: string;
  /** Where the "waiting for etcd to close" notice goes (etcd prints it on stderr). */
  notice?: (line: string) => void;
  /** How often to look whether the member stopped (ms, default 100). */
  pollMs?: number;
}

/**
 * PIDs of other processes holding `path` open (Linux /proc; empty where /proc is not readable). This
 * catches a member whose WAL lives elsewhere (--wal-dir), which the WAL lock below cannot see.
 */
function processesUsing(path: string): number[] {
  const target = resolvePath(path);
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const e of entries) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) {
          pids.push(pid);
          break;
        }
      } catch {
        // closed meanwhile
      }
    }
  }
  return pids;
}

/**
 * Takes the member's WAL lock (if it has a WAL) once no other process has the backend file open,
 * waiting while a running member holds either (as etcd waits for bbolt's file lock).
 */
async function lockMember(walDir: string, dbPath: string, opts: DefragOptions): Promise<DirLock | undefined> {
  let noticed = false;
  for (;;) {
    let lock: DirLock | undefined;
    let busy = false;
    if (existsSync(walDir)) {
      try {
        lock = DirLock.acquire(walDir);
      } catch (e) {
        if (!(e instanceof DataDirLockedError)) throw e;
        busy = true;
      }
    }
    if (!busy && processesUsing(dbPath).length === 0) return lock;
    lock?.release();
    if (!noticed) {
      noticed = true;
      opts.notice?.(
        `waiting for etcd to close and release its lock on ${JSON.stringify(dbPath)}. ` +
          "To defrag a running etcd instance, omit --data-dir.\n",
      );
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
}

/** Defragments the backend of a data dir; resolves with what etcd prints on stdout (nothing). */
export async function defrag(opts: DefragOptions): Promise<string> {
  if (!opts.dataDir) throw new EtcdutlError('required flag(s) "data-dir" not set');
  const dirs = memberDirs(opts.dataDir, "");
  try {
    statSync(dirs.dbPath);
  } catch (e) {
    throw goFsError("stat", dirs.dbPath, e);
  }
  const lock = await lockMember(dirs.walDir, dirs.dbPath, opts);
  try {
    const be = Backend.open(dirs.dbPath);
    try {
      be.defrag();
    } finally {
      be.close();
    }
  } catch (e) {
    throw new EtcdutlError(`Failed to defragment etcd data[${opts.dataDir}] (${(e as Error).message})`);
  } finally {
    lock?.release();
  }
  return "";
}
