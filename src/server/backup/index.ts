// Scheduled backups with retention, built into the member (etcd needs an outside cron job for this).

export { type BackupFile, backupFileName, parseBackupFileName } from "./names.js";
export { backupsToPrune } from "./retention.js";
export { type BackupHost, type BackupOptions, type BackupResult, BackupScheduler } from "./scheduler.js";
