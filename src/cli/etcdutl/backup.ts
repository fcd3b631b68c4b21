// `backup` (etcdctl's v2-era backup, etcdutl's "[legacy] offline backup"): copies a member's backend,
// raft snapshot and WAL into a backup dir with the member's identity removed, as etcd does:
//   - new random member and cluster IDs (etcd's ID generator with member 0), written as the WAL
//     metadata; the backend's membership replaced by one placeholder member under the new ID
//     ("etcdctl-v2-backup", peer URL http://use-flag--force-new-cluster:2080), as the raft snapshot's
//     membership;
//   - WAL entries kept at their indexes (so the backend's consistent index stays valid) but conf
//     changes and member attribute updates turned into empty entries, since they name the old members.
// The backup starts with `etcd --data-dir <backup-dir> --force-new-cluster`, which makes the member the
// only voter of a one-member cluster.
//
// The source member may be running (the WAL lock is not taken; LMDB lets another process read a
// consistent copy). Its backend is copied first and its WAL after, and read from a position at or
// below the backend's consistent index, so the two join up: the WAL starts no later than the backend
// and holds every entry the backend applied. Should they not (the member purged the WAL segments
// needed between the two copies), the copy is taken again.

import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InternalRaftRequest } from "../../api/gen/etcdserverpb/raft_internal.js";
import { Backend } from "../../backend/index.js";
import { discardLogger } from "../../raft/logger.js";
import {
  type ConfState,
  type Entry,
  EntryType,
  emptyConfState,
  type HardState,
  type Snapshot,
} from "../../raft/types.js";
import { RequestIdGenerator } from "../../server/ids.js";
import type { Member } from "../../server/membership.js";
import { decodeMetadata, encodeMetadata, memberDirs } from "../../server/raft_storage.js";
import { Snapshotter, snapName, WAL, type WALPosition } from "../../wal/index.js";
import { consistentIndexOf, replaceMembership, setConsistentIndex } from "./backend_edit.js";
import { copyDirFiles } from "./copy_files.js";
import { EtcdutlError, goFsError } from "./errors.js";
import { type LogFn, noLog } from "./log.js";

export interface BackupOptions {
  /** --data-dir: the member's data dir (required). */
  dataDir: string;
  /** --backup-dir: where the backup goes (required; must not hold a member yet). */
  backupDir: string;
  /** --wal-dir: the member's WAL dir, if not `<data-dir>/member/wal`. */
  walDir?: string;
  /** --backup-wal-dir: the backup's WAL dir, if not `<backup-dir>/member/wal`. */
  backupWalDir?: string;
  /** --with-v3 (default true): back up the v3 key space; false keeps only what v2 had (nothing here). */
  withV3?: boolean;
  /** Progress lines (etcd logs them); default silent. */
  log?: LogFn;
}

const ATTEMPTS = 5;
export const BACKUP_MEMBER_NAME = "etcdctl-v2-backup";
export const BACKUP_PEER_URL = "http://use-flag--force-new-cluster:2080";

/** What was read from the source member, consistent with each other. */
interface SourceState {
  /** The WAL position read from: entries follow it. */
  at: WALPosition;
  snapshot: Snapshot | undefined;
  hardState: HardState;
  entries: Entry[];
  metadata: Uint8Array;
}

function isNonEmptyDir(path: string): boolean {
  try {
    return readdirSync(path).length > 0;
  } catch {
    return false;
  }
}

/**
 * Copies the member's WAL and snapshot files into `tmp` and reads the WAL from its newest snapshot
 * position at or below `upTo` (the copied backend's consistent index), so the entries read reach back
 * to what that backend holds even when the member took a newer raft snapshot meanwhile (older markers
 * stay in the WAL until its segments are purged). Without `upTo`, from the newest position.
 */
async function readWalCopy(
  srcWal: string,
  srcSnap: string,
  tmp: string,
  upTo: number | undefined,
): Promise<SourceState> {
  const walCopy = join(tmp, "wal");
  const snapCopy = join(tmp, "snap");
  rmSync(walCopy, { recursive: true, force: true });
  rmSync(snapCopy, { recursive: true, force: true });
  // Snapshots first: a snapshot file is written before the WAL marker that makes it usable.
  copyDirFiles(srcSnap, snapCopy, (n) => n.endsWith(".snap"));
  const segs = copyDirFiles(srcWal, walCopy, (n) => n.endsWith(".wal"));
  if (segs.length === 0) throw new EtcdutlError(`no WAL segments in ${srcWal}`);
  const positions = await WAL.validSnapshotEntries(walCopy);
  const usable = positions.filter((p) => upTo === undefined || p.index <= upTo);
  const at = usable.at(-1) ?? positions.at(-1) ?? { index: 0, term: 0 };
  const wal = await WAL.open(walCopy, at, { logger: quietRaftLogger });
  try {
    const { metadata, hardState, entries } = wal.readAll();
    return { at, snapshot: snapshotAt(snapCopy, at), hardState, entries, metadata };
  } finally {
    await wal.close();
  }
}

/**
 * The raft snapshot at `at` (undefined at index 0). Its membership is replaced anyway, so a snapshot
 * file purged meanwhile is rebuilt from the WAL marker: a member's snapshot files hold no other data
 * (the state is the backend).
 */
function snapshotAt(snapDir: string, at: WALPosition): Snapshot | undefined {
  if (at.index === 0) return undefined;
  try {
    return new Snapshotter(snapDir, { logger: quietRaftLogger }).read(snapName(at.term, at.index));
  } catch {
    return {
      data: new Uint8Array(0),
      metadata: { index: at.index, term: at.term, confState: emptyConfState() },
    };
  }
}

/** The copy's torn tail (a write in progress when copied) is repaired silently: it is expected here. */
const quietRaftLogger = discardLogger;

/** Empty entries in place of those that name the old cluster's members (and of v3 requests if !withV3). */
function translateEntries(ents: Entry[], withV3: boolean, log: LogFn): Entry[] {
  let confChanges = 0;
  let attrs = 0;
  let v3 = 0;
  const out = ents.map((e) => {
    const noop = { term: e.term, index: e.index, type: EntryType.Normal, data: new Uint8Array(0) };
    if (e.type !== EntryType.Normal) {
      confChanges++;
      return noop;
    }
    if (e.data.length === 0) return e;
    let req: InternalRaftRequest;
    try {
      req = InternalRaftRequest.decode(e.data);
    } catch {
      return e;
    }
    if (req.clusterMemberAttrSet !== undefined) {
      attrs++;
      return noop;
    }
    if (!withV3 && req.header !== undefined) {
      v3++;
      return noop;
    }
    return e;
  });
  if (confChanges > 0) log("ignoring EntryConfChange raft entries", { count: confChanges });
  if (attrs > 0) log("ignoring cluster_member_attr_set", { count: attrs });
  if (v3 > 0) log("ignoring v3 raft entries", { count: v3 });
  return out;
}

/** Backs up a member's data dir; resolves with what etcd prints on stdout (nothing). */
export async function backup(opts: BackupOptions): Promise<string> {
  const log = opts.log ?? noLog;
  const missing = [!opts.backupDir && '"backup-dir"', !opts.dataDir && '"data-dir"'].filter(Boolean);
  if (missing.length > 0) throw new EtcdutlError(`required flag(s) ${missing.join(", ")} not set`);
  const withV3 = opts.withV3 ?? true;
  const src = memberDirs(opts.dataDir, opts.walDir ?? "");
  const dst = memberDirs(opts.backupDir, opts.backupWalDir ?? "");
  try {
    statSync(src.dbPath);
  } catch (e) {
    throw goFsError("stat", src.dbPath, e);
  }
  if (isNonEmptyDir(dst.walDir) || isNonEmptyDir(dst.snapDir)) {
    throw new EtcdutlError(`backup-dir ${JSON.stringify(opts.backupDir)} already holds a member's data`);
  }

  const ids = new RequestIdGenerator(0n, Date.now());
  const nodeId = ids.next();
  const clusterId = ids.next();
  const member: Member = {
    id: nodeId,
    name: BACKUP_MEMBER_NAME,
    peerUrls: [BACKUP_PEER_URL],
    clientUrls: [],
    isLearner: false,
  };
  const confState: ConfState = { ...emptyConfState(), voters: [nodeId] };

  const tmp = mkdtempSync(join(tmpdir(), "etcdutl-backup-"));
  let created = false;
  try {
    let state: SourceState | undefined;
    let ci = 0;
    for (let attempt = 1; state === undefined; attempt++) {
      created = true;
      if (withV3) {
        // The backend first: the WAL copied after it holds every entry it applied.
        const source = Backend.open(src.dbPath);
        try {
          const copy = await Backend.restoreFrom(source.snapshot(), dst.dbPath, { overwrite: true });
          ci = consistentIndexOf(copy);
          copy.close();
        } finally {
          source.close();
        }
      }
      const s = await readWalCopy(src.walDir, src.snapDir, tmp, withV3 ? ci : undefined);
      const first = s.at.index;
      const last = s.entries.at(-1)?.index ?? first;
      if (!withV3 || (first <= ci && ci <= last)) {
        state = s;
      } else if (attempt >= ATTEMPTS) {
        throw new EtcdutlError(
          `could not copy a consistent backup of ${opts.dataDir} in ${ATTEMPTS} attempts: the backend ` +
            `applied index ${ci} is outside the WAL's entries ${first}..${last}`,
        );
      } else {
        log("member moved on while being copied; copying again", { "consistent-index": ci, first, last });
      }
    }

    const old = decodeMetadata(state.metadata);
    // Entries the copied backend applied were committed, even if the hard state read says less.
    const hardState: HardState = { ...state.hardState, commit: Math.max(state.hardState.commit, ci) };
    const entries = translateEntries(state.entries, withV3, log);

    const be = Backend.open(dst.dbPath);
    try {
      if (!withV3) setConsistentIndex(be, hardState.commit, hardState.term);
      replaceMembership(be, [member], true);
      be.forceCommit();
    } finally {
      be.close();
    }

    let walSnap = { index: 0, term: 0, confState };
    if (state.snapshot !== undefined) {
      const md = { ...state.snapshot.metadata, confState };
      new Snapshotter(dst.snapDir).save({ data: state.snapshot.data, metadata: md });
      walSnap = { index: md.index, term: md.term, confState };
    }
    const wal = await WAL.create(dst.walDir, encodeMetadata({ nodeId, clusterId }));
    try {
      await wal.save(hardState, entries);
      if (walSnap.index > 0) await wal.saveSnapshot(walSnap);
    } finally {
      await wal.close();
    }
    log("backed up member data", {
      "data-dir": opts.dataDir,
      "backup-dir": opts.backupDir,
      "old-member-id": old.nodeId.toString(16),
      "new-member-id": nodeId.toString(16),
      "new-cluster-id": clusterId.toString(16),
      "snapshot-index": walSnap.index,
      commit: hardState.commit,
      entries: entries.length,
    });
  } catch (e) {
    if (created) {
      rmSync(dst.memberDir, { recursive: true, force: true });
      if (opts.backupWalDir) rmSync(dst.walDir, { recursive: true, force: true });
    }
    throw e;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return "";
}
