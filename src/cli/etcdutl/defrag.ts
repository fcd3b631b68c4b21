// `defrag --data-dir`: rewrites a stopped member's backend file compactly. The member's WAL lock tells
// whether it is running: while it is, defrag waits for it to stop (as etcd waits for bbolt's file lock).

import { existsSync, statSync } from "node:fs";
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

/** Takes the member's WAL lock (if it has a WAL), waiting while a running member holds it. */
async function lockMember(walDir: string, dbPath: string, opts: DefragOptions): Promise<DirLock | undefined> {
  if (!existsSync(walDir)) return undefined;
  let noticed = false;
  for (;;) {
    try {
      return DirLock.acquire(walDir);
    } catch (e) {
      if (!(e instanceof DataDirLockedError)) throw e;
    }
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
