// `snapshot status <file>`: hash, revision, total keys and total size of a snapshot file, as etcd's
// etcdutl computes them: a CRC-32C over every bucket's name and then each of its keys and values (buckets
// and keys in byte order), the main revision of the last key of the `key` bucket, the number of pairs in
// all buckets, and the size of the database (the data before the checksum for a saved snapshot; the
// file for a backend file).

import { ALL_BUCKETS } from "../../backend/index.js";
import { bytesToMain } from "../../mvcc/revision.js";
import { update as crc32c } from "../../pkg/crc32c.js";
import { withBackendFile } from "./backend_edit.js";
import { EtcdutlError, ExitCode } from "./errors.js";
import { checkWriteOut, humanizeBytes, renderTable } from "./print.js";
import {
  inspectSnapshotFile,
  readSnapshotPairs,
  type SnapshotFileInfo,
  unreadableError,
  withBoltFile,
} from "./snapshot_file.js";

/** etcd's snapshot.Status (JSON field names as etcd prints them). */
export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

class StatusAccumulator {
  hash = 0;
  revision = 0;
  totalKey = 0;
  private bucket: string | undefined;

  add(bucket: string, key: Uint8Array, value: Uint8Array): void {
    this.enter(bucket);
    this.hash = crc32c(this.hash, key);
    this.hash = crc32c(this.hash, value);
    if (bucket === "key" && key.length >= 8) this.revision = bytesToMain(key);
    this.totalKey++;
  }

  /** Buckets count by name even when empty (every etcd-ts backend has all of them, as etcd's has). */
  enter(bucket: string): void {
    if (bucket === this.bucket) return;
    this.bucket = bucket;
    this.hash = crc32c(this.hash, Buffer.from(bucket, "latin1"));
  }
}

async function statusOfStream(info: SnapshotFileInfo): Promise<SnapshotStatus> {
  const acc = new StatusAccumulator();
  // The stream lists every bucket, so empty ones enter the hash through their bucket record: follow
  // the stored order of all buckets rather than only those with pairs.
  let next = 0;
  for await (const p of readSnapshotPairs(info)) {
    while (next < ALL_BUCKETS.length && ALL_BUCKETS[next]! <= p.bucket) acc.enter(ALL_BUCKETS[next++]!);
    acc.add(p.bucket, p.key, p.value);
  }
  while (next < ALL_BUCKETS.length) acc.enter(ALL_BUCKETS[next++]!);
  return { hash: acc.hash >>> 0, revision: acc.revision, totalKey: acc.totalKey, totalSize: info.dataLength };
}

function statusOfBackendFile(info: SnapshotFileInfo): SnapshotStatus {
  return withBackendFile(info.path, (be) => {
    const acc = new StatusAccumulator();
    const tx = be.readTx();
    for (const name of ALL_BUCKETS) {
      acc.enter(name);
      tx.forEach(name, (k, v) => acc.add(name, k, v));
    }
    return { hash: acc.hash >>> 0, revision: acc.revision, totalKey: acc.totalKey, totalSize: info.size };
  });
}

/** etcd's own status of an etcd snapshot or db file: the same walk over its bbolt buckets. */
function statusOfBoltFile(info: SnapshotFileInfo): SnapshotStatus {
  return withBoltFile(info, (db) => {
    const acc = new StatusAccumulator();
    for (const name of db.buckets) {
      acc.enter(name);
      for (const [k, v] of db.pairs(name)) acc.add(name, k, v);
    }
    return { hash: acc.hash >>> 0, revision: acc.revision, totalKey: acc.totalKey, totalSize: db.size };
  });
}

/** The status of a snapshot file (an etcd-ts saved snapshot or backend file, or etcd's bbolt ones). */
export async function computeSnapshotStatus(path: string): Promise<SnapshotStatus> {
  const info = inspectSnapshotFile(path);
  if (info.kind === "etcd-ts") return statusOfStream(info);
  if (info.kind === "lmdb") return statusOfBackendFile(info);
  if (info.kind === "bbolt") return statusOfBoltFile(info);
  throw unreadableError(info);
}

/** `snapshot status <file>`: the status as etcd prints it for -w `writeOut` (default simple). */
export async function snapshotStatus(opts: { args: string[]; writeOut?: string }): Promise<string> {
  if (opts.args.length !== 1) {
    throw new EtcdutlError("snapshot status requires exactly one argument", ExitCode.BadArgs);
  }
  inspectSnapshotFile(opts.args[0]!);
  const writeOut = opts.writeOut ?? "simple";
  checkWriteOut(writeOut);
  return formatSnapshotStatus(await computeSnapshotStatus(opts.args[0]!), writeOut);
}

/** Prints a status the way etcdutl's printers do for `-w <format>`. */
export function formatSnapshotStatus(s: SnapshotStatus, writeOut: string): string {
  const row = [s.hash.toString(16), String(s.revision), String(s.totalKey), humanizeBytes(s.totalSize)];
  switch (writeOut) {
    case "simple":
      return `${row.join(", ")}\n`;
    case "table":
      return renderTable(["hash", "revision", "total keys", "total size"], [row]);
    case "json":
      return `${JSON.stringify(s)}\n`;
    case "fields":
      return `"Hash" : ${s.hash}\n"Revision" : ${s.revision}\n"Keys" : ${s.totalKey}\n"Size" : ${s.totalSize}\n`;
    case "protobuf":
      throw new EtcdutlError("protobuf not supported as output format", ExitCode.BadFeature);
    default:
      throw new EtcdutlError("unsupported output format", ExitCode.BadFeature);
  }
}
