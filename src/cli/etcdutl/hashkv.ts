// `hashkv <file>`: the KV history hash of a backend file (or of a data dir's backend), as a member
// answers Maintenance.HashKV for it: comparable with `etcdctl endpoint hashkv` of the member that wrote it.

import { statSync } from "node:fs";
import { join } from "node:path";
import { KVStore } from "../../mvcc/index.js";
import { withBackendFile } from "./backend_edit.js";
import { EtcdutlError, ExitCode, goFsError } from "./errors.js";
import { checkWriteOut, renderTable } from "./print.js";
import { inspectSnapshotFile, unreadableError } from "./snapshot_file.js";

export interface HashKVOptions {
  /** Positional arguments: exactly one, a backend file (`member/snap/db`) or a data dir. */
  args: string[];
  /** --rev: the highest revision to hash (0: the latest). */
  rev?: number;
}

export interface HashKVResult {
  hash: number;
  hashRevision: number;
  compactRevision: number;
}

export function computeHashKV(opts: HashKVOptions): HashKVResult {
  if (opts.args.length !== 1) {
    throw new EtcdutlError(`accepts 1 arg(s), received ${opts.args.length}`, ExitCode.Error);
  }
  let path = opts.args[0]!;
  try {
    if (statSync(path).isDirectory()) path = join(path, "member", "snap", "db");
  } catch (e) {
    throw goFsError("stat", path, e);
  }
  const info = inspectSnapshotFile(path);
  if (info.kind !== "lmdb") {
    if (info.kind === "etcd-ts") {
      throw new EtcdutlError(
        `${path} is a saved snapshot: restore it first, then hash the restored member's db`,
      );
    }
    throw unreadableError(info);
  }
  // Everything here runs in one synchronous stretch, so the store never gets to resume a pending
  // compaction (which would write): it is closed before any of its background work starts.
  return withBackendFile(path, (be) => {
    const kv = new KVStore(be);
    try {
      const r = kv.hashKV(opts.rev ?? 0);
      return { hash: r.hash >>> 0, hashRevision: r.hashRevision, compactRevision: r.compactRevision };
    } finally {
      kv.close();
    }
  });
}

/** `hashkv <file>`: the hash as etcd prints it for -w `writeOut` (default simple). */
export async function hashKV(opts: HashKVOptions & { writeOut?: string }): Promise<string> {
  const writeOut = opts.writeOut ?? "simple";
  checkWriteOut(writeOut);
  return formatHashKV(computeHashKV(opts), writeOut);
}

export function formatHashKV(r: HashKVResult, writeOut: string): string {
  const row = [String(r.hash), String(r.hashRevision), String(r.compactRevision)];
  switch (writeOut) {
    case "simple":
      return `${row.join(", ")}\n`;
    case "table":
      return renderTable(["hash", "hash revision", "compact revision"], [row]);
    case "json":
      return `${JSON.stringify(r)}\n`;
    case "fields":
      return `"Hash" : ${r.hash}\n"Hash revision" : ${r.hashRevision}\n"Compact revision" : ${r.compactRevision}\n`;
    case "protobuf":
      throw new EtcdutlError("protobuf not supported as output format", ExitCode.BadFeature);
    default:
      throw new EtcdutlError("unsupported output format", ExitCode.BadFeature);
  }
}
