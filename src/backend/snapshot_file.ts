// The snapshot file etcd's tools read and write (`etcdctl snapshot save`, `etcdutl snapshot restore`):
// the backend snapshot stream, zero-padded to a multiple of 512 bytes, then the SHA-256 of all of that.
// etcd recognises the trailing digest by `size % 512 == 32` (bbolt files are page-sized); readers of the
// backend stream stop at its own end, so the padding is invisible to them.

import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDir } from "../pkg/fs.js";

export const SNAPSHOT_FILE_ALIGN = 512;

/**
 * Writes `stream` as a snapshot file at `path`, durably: into `<path>.part`, fsynced, renamed, and the
 * directory fsynced. Nothing is left at `path` or `<path>.part` if it fails.
 */
export async function writeSnapshotFile(
  stream: AsyncIterable<Uint8Array>,
  path: string,
): Promise<{ size: number; sha256: Buffer }> {
  const part = `${path}.part`;
  const fd = openSync(part, "w", 0o600);
  try {
    const sha = createHash("sha256");
    let size = 0;
    const put = (b: Uint8Array) => {
      sha.update(b);
      for (let off = 0; off < b.byteLength; ) off += writeSync(fd, b, off);
      size += b.byteLength;
    };
    for await (const chunk of stream) put(chunk);
    const pad = (SNAPSHOT_FILE_ALIGN - (size % SNAPSHOT_FILE_ALIGN)) % SNAPSHOT_FILE_ALIGN;
    if (pad > 0) put(Buffer.alloc(pad));
    const digest = sha.digest();
    writeSync(fd, digest);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(part, path);
    fsyncDir(dirname(path));
    return { size: size + digest.length, sha256: digest };
  } catch (e) {
    try {
      closeSync(fd);
    } catch {}
    rmSync(part, { force: true });
    throw e;
  }
}
