// Which scheduled backups to delete: all but the newest `keep` (0 keeps everything).

import type { BackupFile } from "./names.js";

export function backupsToPrune(files: readonly BackupFile[], keep: number): BackupFile[] {
  if (keep <= 0) return [];
  const newestFirst = [...files].sort((a, b) => b.time - a.time || (a.name < b.name ? 1 : -1));
  return newestFirst.slice(keep);
}
