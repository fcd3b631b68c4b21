// `snapshot restore <file>`: a complete data dir for one member of a NEW cluster, holding the key space
// of the snapshot. As etcd's restore:
//   - the backend is the snapshot's, with the old membership replaced by the members of
//     --initial-cluster (IDs derived from their peer URLs and --initial-cluster-token exactly as a
//     static bootstrap derives them), and its consistent index set to the bootstrap entries' last index;
//   - the WAL holds the metadata (this member's and the cluster's ID), one AddNode conf change per member
//     committed at term 1, and a snapshot marker at the last of them, with the matching raft snapshot
//     file, so a member starts from the snapshot with the whole membership and replays nothing.
// Every member of the new cluster is restored from the same file with the same --initial-cluster and
// --initial-cluster-token (and its own --name / --initial-advertise-peer-urls), then started with
// `etcd --data-dir <dir>` (its --initial-cluster flags are then ignored: the data dir decides).

import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Backend, Bucket, type BucketName, isBucketName } from "../../backend/index.js";
import { type ConfState, emptyConfState } from "../../raft/types.js";
import { computeClusterId, computeMemberId, hexId, urlString } from "../../server/ids.js";
import type { Member } from "../../server/membership.js";
import { createRaftStorage, memberDirs } from "../../server/raft_storage.js";
import { parseEtcdURLs } from "../etcd/goparse.js";
import { parseInitialCluster, verifyBootstrap } from "../etcd/index.js";
import { bumpRevisionAndCompact, replaceMembership, setConsistentIndex } from "./backend_edit.js";
import { EtcdutlError, ExitCode } from "./errors.js";
import { type LogFn, noLog } from "./log.js";
import {
  inspectSnapshotFile,
  readSnapshotPairs,
  unreadableError,
  verifyFileHash,
  withBoltFile,
} from "./snapshot_file.js";

export const RESTORE_DEFAULTS = {
  name: "default",
  initialCluster: "default=http://localhost:2380",
  initialClusterToken: "etcd-cluster",
  initialAdvertisePeerUrls: "http://localhost:2380",
} as const;

export interface RestoreOptions {
  /** Positional arguments: exactly one, the snapshot file. */
  args: string[];
  /** --data-dir (default `<name>.etcd`). */
  dataDir?: string;
  /** --wal-dir (default `<data-dir>/member/wal`). */
  walDir?: string;
  /** --name (default "default"). */
  name?: string;
  /** --initial-cluster (default "default=http://localhost:2380"). */
  initialCluster?: string;
  /** --initial-cluster-token (default "etcd-cluster"). */
  initialClusterToken?: string;
  /** --initial-advertise-peer-urls, comma-separated (default "http://localhost:2380"). */
  initialAdvertisePeerUrls?: string;
  /** --skip-hash-check. */
  skipHashCheck?: boolean;
  /** --bump-revision (default 0; needs --mark-compacted). */
  bumpRevision?: number;
  /** --mark-compacted (needs --bump-revision > 0). */
  markCompacted?: boolean;
  /** Progress lines (etcd logs them); default silent. */
  log?: LogFn;
}

function isNonEmptyDir(path: string): boolean {
  try {
    return readdirSync(path).length > 0;
  } catch (e) {
    // etcd: "not empty or could not be read" -- an unreadable path counts as not empty.
    return (e as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

/** The new cluster's members, ordered by ID (the order of the bootstrap entries on every member). */
function initialMembers(opts: RestoreOptions, name: string, token: string): Member[] {
  const peerUrls = parseEtcdURLs(
    (opts.initialAdvertisePeerUrls ?? RESTORE_DEFAULTS.initialAdvertisePeerUrls).split(","),
  );
  if ("error" in peerUrls) throw new EtcdutlError(peerUrls.error);
  const cluster = parseInitialCluster(opts.initialCluster ?? RESTORE_DEFAULTS.initialCluster);
  if ("error" in cluster) throw new EtcdutlError(cluster.error);
  const bad = verifyBootstrap({
    name,
    initialCluster: cluster,
    initialAdvertisePeerUrls: peerUrls.map((u) => u.canonical),
    initialClusterState: "new",
  });
  if (bad !== undefined) throw new EtcdutlError(bad);
  const members = cluster.map((m) => ({
    id: computeMemberId(m.peerUrls, token),
    name: m.name,
    peerUrls: m.peerUrls.map(urlString),
    clientUrls: [],
    isLearner: false,
  }));
  return members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Restores a snapshot file into a new data dir; resolves with what etcd prints on stdout (nothing). */
export async function snapshotRestore(opts: RestoreOptions): Promise<string> {
  const log = opts.log ?? noLog;
  if (opts.args.length !== 1) {
    throw new EtcdutlError("snapshot restore requires exactly one argument", ExitCode.BadArgs);
  }
  const bump = opts.bumpRevision ?? 0;
  if ((bump === 0 && opts.markCompacted) || (bump > 0 && !opts.markCompacted)) {
    throw new EtcdutlError("--mark-compacted required if --revision-bump > 0", ExitCode.BadArgs);
  }
  const file = opts.args[0]!;
  const name = opts.name ?? RESTORE_DEFAULTS.name;
  const token = opts.initialClusterToken ?? RESTORE_DEFAULTS.initialClusterToken;
  const members = initialMembers(opts, name, token);
  const self = members.find((m) => m.name === name)!;
  const clusterId = computeClusterId(members.map((m) => m.id));

  const dataDir = opts.dataDir || `${name}.etcd`;
  if (isNonEmptyDir(dataDir))
    throw new EtcdutlError(`data-dir ${JSON.stringify(dataDir)} not empty or could not be read`);
  const walDirFlag = opts.walDir ?? "";
  if (walDirFlag !== "" && existsSync(walDirFlag)) {
    throw new EtcdutlError(`wal-dir ${JSON.stringify(walDirFlag)} exists`);
  }
  const dirs = memberDirs(dataDir, walDirFlag);
  log("restoring snapshot", {
    path: file,
    "wal-dir": dirs.walDir,
    "data-dir": dataDir,
    "snap-dir": dirs.snapDir,
  });

  const info = inspectSnapshotFile(file, "open");
  if (info.kind === "unknown") throw unreadableError(info);
  if (info.hasHash && !opts.skipHashCheck) await verifyFileHash(info);
  if (!info.hasHash && !opts.skipHashCheck) {
    throw new EtcdutlError("snapshot missing hash but --skip-hash-check=false");
  }

  const createdDataDir = !existsSync(dataDir);
  try {
    mkdirSync(dirs.snapDir, { recursive: true });
    await writeBackend(info, dirs.dbPath, members, bump, log);
    const confState: ConfState = { ...emptyConfState(), voters: members.map((m) => m.id) };
    const rs = await createRaftStorage(dirs, { nodeId: self.id, clusterId }, members);
    const index = members.length;
    try {
      rs.snapshotter.save({ data: new Uint8Array(0), metadata: { index, term: 1, confState } });
      await rs.wal.saveSnapshot({ index, term: 1, confState });
    } finally {
      await rs.wal.close();
    }
  } catch (e) {
    // Leave no half-made data dir behind (an existing empty one is emptied again).
    if (createdDataDir) rmSync(dataDir, { recursive: true, force: true });
    else rmSync(join(dataDir, "member"), { recursive: true, force: true });
    if (walDirFlag !== "") rmSync(walDirFlag, { recursive: true, force: true });
    throw e;
  }
  log("restored snapshot", {
    path: file,
    "wal-dir": dirs.walDir,
    "data-dir": dataDir,
    "snap-dir": dirs.snapDir,
    "member-id": hexId(self.id),
    "cluster-id": hexId(clusterId),
  });
  return "";
}

/** The snapshot's buckets into a new backend at `dbPath`, then the new membership and consistent index. */
async function writeBackend(
  info: ReturnType<typeof inspectSnapshotFile>,
  dbPath: string,
  members: Member[],
  bump: number,
  log: LogFn,
): Promise<void> {
  if (info.kind === "lmdb") copyFileSync(info.path, dbPath);
  const be = Backend.open(dbPath);
  try {
    // The old membership is replaced below; etcd's buckets hold the same encodings as ours.
    const skip = new Set<string>([Bucket.members, Bucket.membersRemoved]);
    let n = 0;
    const put = (bucket: string, key: Buffer, value: Buffer) => {
      if (skip.has(bucket)) return;
      be.batchTx.put(bucket as BucketName, key, value);
      if (++n % 10_000 === 0) be.commit();
    };
    if (info.kind === "etcd-ts") {
      for await (const p of readSnapshotPairs(info)) put(p.bucket, p.key, p.value);
    } else if (info.kind === "bbolt") {
      withBoltFile(info, (db) => {
        for (const name of db.buckets) {
          if (!isBucketName(name)) {
            log("skipping a bucket etcd-ts does not keep", { bucket: name });
            continue;
          }
          for (const [k, v] of db.pairs(name)) put(name, k, v);
        }
      });
    }
    replaceMembership(be, members);
    if (bump > 0) {
      const r = bumpRevisionAndCompact(be, bump);
      log("bumping latest revision", {
        "latest-revision": r.from,
        "bump-amount": bump,
        "new-latest-revision": r.to,
      });
      log("marking revision compacted", { revision: r.to });
    }
    setConsistentIndex(be, members.length, 1);
    be.forceCommit();
  } finally {
    be.close();
  }
}
