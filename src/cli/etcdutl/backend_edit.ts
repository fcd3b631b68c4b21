// Offline access to backend files: opening one for a look without leaving LMDB's lock file behind, and
// the edits that make a copied backend part of another cluster (its membership, its consistent index),
// as etcd's restore and backup make them to the bbolt file they copy.

import { existsSync, rmSync } from "node:fs";
import { Backend, Bucket, type BucketName, encodeUint64BE, MetaKey } from "../../backend/index.js";
import { bytesToMain, revToBytes } from "../../mvcc/revision.js";
import { type Member, RaftCluster } from "../../server/membership.js";

/**
 * Runs `fn` on the backend file at `path`. LMDB keeps a lock file next to it (`<path>-lock`); one this
 * call created is removed again, so looking at a file in a backup directory leaves nothing there.
 */
export function withBackendFile<T>(path: string, fn: (be: Backend) => T): T {
  const lock = `${path}-lock`;
  const hadLock = existsSync(lock);
  const be = Backend.open(path);
  try {
    return fn(be);
  } finally {
    be.close();
    if (!hadLock) rmSync(lock, { force: true });
  }
}

function clearBucket(be: Backend, bucket: BucketName): void {
  const keys: Uint8Array[] = [];
  be.readTx().forEach(bucket, (k) => {
    keys.push(Buffer.from(k));
  });
  for (const k of keys) be.batchTx.delete(bucket, k);
}

/**
 * Drops the old cluster's members and removed-member IDs (etcd's TrimMembershipFromBackend; with
 * `clusterBucket`, also the cluster bucket as TrimClusterFromBackend) and records `members` instead.
 */
export function replaceMembership(be: Backend, members: readonly Member[], clusterBucket = false): void {
  clearBucket(be, Bucket.members);
  clearBucket(be, Bucket.membersRemoved);
  if (clusterBucket) clearBucket(be, Bucket.cluster);
  const cluster = new RaftCluster(be);
  for (const m of members) cluster.add(m);
}

/** The raft index and term of the last entry the backend holds the effect of. */
export function setConsistentIndex(be: Backend, index: number, term: number): void {
  be.batchTx.put(Bucket.meta, MetaKey.consistentIndex, encodeUint64BE(index));
  be.batchTx.put(Bucket.meta, MetaKey.term, encodeUint64BE(term));
}

/** The consistent index stored in the backend (0 if none). */
export function consistentIndexOf(be: Backend): number {
  const v = be.readTx().get(Bucket.meta, MetaKey.consistentIndex);
  return v === undefined ? 0 : Number(Buffer.from(v).readBigUInt64BE(0));
}

/** The highest main revision in the key bucket (0 if it is empty). */
export function latestRevision(be: Backend): number {
  let latest = 0;
  be.readTx().forEach(Bucket.key, (k) => {
    latest = Math.max(latest, bytesToMain(k));
  });
  return latest;
}

/**
 * --bump-revision with --mark-compacted: the store starts at `latest + bump` with everything before it
 * compacted. Recording a scheduled compaction at that revision does both, because opening the store
 * resumes a scheduled compaction and moves the current revision up to it (etcd also writes an empty
 * placeholder key at that revision; our store needs no placeholder, and could not decode one).
 */
export function bumpRevisionAndCompact(be: Backend, bump: number): { from: number; to: number } {
  const from = latestRevision(be);
  const to = from + bump;
  be.batchTx.put(Bucket.meta, MetaKey.scheduledCompactRev, revToBytes(to, 0));
  return { from, to };
}
