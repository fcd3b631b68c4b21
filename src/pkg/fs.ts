// File-system helpers shared by the storage layers.

import { closeSync, fsyncSync, openSync } from "node:fs";

/** fsyncs a directory so that file creations, renames and deletions in it are durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
