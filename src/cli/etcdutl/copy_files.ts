// Copying the files of a member that may be running, for reading them elsewhere. WAL segments are
// preallocated (mostly zeros past their data), so the copy skips zero blocks and stays sparse.

import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";

const BLOCK = 1 << 20;

/** Copies `src` to `dst`, writing only the blocks that are not all zeros (the rest stay holes). */
export function copySparse(src: string, dst: string): void {
  const inFd = openSync(src, "r");
  try {
    const outFd = openSync(dst, "w", 0o600);
    try {
      const buf = Buffer.alloc(BLOCK);
      let pos = 0;
      for (;;) {
        const n = readSync(inFd, buf, 0, BLOCK, pos);
        if (n === 0) break;
        const chunk = buf.subarray(0, n);
        if (chunk.some((b) => b !== 0)) {
          let off = 0;
          while (off < n) off += writeSync(outFd, chunk, off, n - off, pos + off);
        }
        pos += n;
      }
      ftruncateSync(outFd, pos);
    } finally {
      closeSync(outFd);
    }
  } finally {
    closeSync(inFd);
  }
}

/**
 * Copies the files of `srcDir` whose names pass `keep` into `dstDir` (created). A file that vanishes
 * between listing and copying (a purged WAL segment or snapshot) is skipped: the caller checks that what
 * it copied is complete.
 */
export function copyDirFiles(srcDir: string, dstDir: string, keep: (name: string) => boolean): string[] {
  mkdirSync(dstDir, { recursive: true });
  let names: string[];
  try {
    names = readdirSync(srcDir).filter(keep).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const copied: string[] = [];
  for (const n of names) {
    try {
      copySparse(join(srcDir, n), join(dstDir, n));
      copied.push(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  return copied;
}
