// The backend's named buckets (LMDB named databases), as etcd's bbolt buckets, and the meta bucket's keys.

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type Database, open, type RootDatabase } from "lmdb";

/** Bucket names, exactly etcd's (plus etcd-ts's v2store). */
export const Bucket = {
  key: "key",
  meta: "meta",
  lease: "lease",
  alarm: "alarm",
  members: "members",
  membersRemoved: "members_removed",
  auth: "auth",
  authUsers: "authUsers",
  authRoles: "authRoles",
  cluster: "cluster",
  /** etcd-ts only: the v2 keys store (--enable-v2's /v2/keys), apart from the v3 key space. */
  v2store: "v2store",
} as const;

export type BucketName = (typeof Bucket)[keyof typeof Bucket];

/** Every bucket, in byte order of the names (the order the backend hash and snapshots walk them). */
export const ALL_BUCKETS: readonly BucketName[] = Object.values(Bucket).sort((a, b) =>
  a < b ? -1 : a > b ? 1 : 0,
);

export function isBucketName(name: string): name is BucketName {
  return (ALL_BUCKETS as readonly string[]).includes(name);
}

/** Keys of the meta bucket (ASCII, as etcd names them). */
export const MetaKey = {
  /** Raft index of the last entry applied to the backend: 8-byte big-endian. */
  consistentIndex: Buffer.from("consistent_index", "latin1"),
  /** Raft term of that entry: 8-byte big-endian. */
  term: Buffer.from("term", "latin1"),
  /** Revision of the latest compaction that was scheduled (17-byte revision key). */
  scheduledCompactRev: Buffer.from("scheduledCompactRev", "latin1"),
  /** Revision of the latest compaction whose physical deletion finished (17-byte revision key). */
  finishedCompactRev: Buffer.from("finishedCompactRev", "latin1"),
} as const;

const TWO_32 = 4294967296;

/** `n` (0 <= n < 2^53) as 8 bytes, big-endian. */
export function encodeUint64BE(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(Math.floor(n / TWO_32), 0);
  b.writeUInt32BE(n >>> 0, 4);
  return b;
}

/** Reads 8 big-endian bytes at `offset` as a number (exact below 2^53). */
export function decodeUint64BE(b: Uint8Array, offset = 0): number {
  if (b.length < offset + 8) throw new RangeError(`need 8 bytes at ${offset}, have ${b.length - offset}`);
  const hi = ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0;
  const lo = ((b[offset + 4] << 24) | (b[offset + 5] << 16) | (b[offset + 6] << 8) | b[offset + 7]) >>> 0;
  return hi * TWO_32 + lo;
}

/** Options of the LMDB environment behind a backend. */
export interface EnvOptions {
  /** Initial LMDB map size in bytes; LMDB grows the map as the file grows. */
  mapSize?: number;
}

/** An open LMDB environment (one file, noSync: the WAL is the durable record) and its buckets. */
export interface OpenEnv {
  root: RootDatabase<Buffer, Buffer>;
  dbs: Map<BucketName, Database<Buffer, Buffer>>;
}

/**
 * Opens (creating if needed) the LMDB environment in the single file `path` (plus `<path>-lock`) with
 * every bucket. Commits do not fsync; callers sync the environment when they need durability.
 */
export function openEnv(path: string, opts: EnvOptions = {}): OpenEnv {
  mkdirSync(dirname(path), { recursive: true });
  const root = open<Buffer, Buffer>(path, {
    noSubdir: true,
    noSync: true,
    overlappingSync: false,
    maxDbs: 16,
    ...(opts.mapSize ? { mapSize: opts.mapSize } : {}),
  });
  const dbs = new Map<BucketName, Database<Buffer, Buffer>>();
  for (const name of ALL_BUCKETS) {
    dbs.set(
      name,
      root.openDB<Buffer, Buffer>(name, { keyEncoding: "binary", encoding: "binary", cache: false }),
    );
  }
  return { root, dbs };
}

/** The lock file LMDB keeps next to a single-file environment. */
export function lockFilePath(path: string): string {
  return `${path}-lock`;
}

/** Flushes the environment to disk (fsync), synchronously. Commits are not durable until this runs. */
export function syncEnv(root: RootDatabase<Buffer, Buffer>): void {
  (root as unknown as { env: { sync(): void } }).env.sync();
}
