// Scheduled backups (--backup-interval, --backup-dir, --backup-retention; etcd-ts only): every interval
// the member writes its own backend as a snapshot file, the format `etcdctl snapshot save` writes and
// `etcdutl snapshot restore` reads, then deletes its oldest backups beyond the retention count.
//
// Invariants: a file with a backup's name is complete and fsynced (written as `.part`, renamed, directory
// fsynced); only files named as this member's backups are ever deleted; a failed backup is logged and
// counted, never fatal, and the next one is tried an interval later. The first backup is due one
// interval after the newest one already in the directory, so a member that restarts often still backs
// up; nothing is written while nothing was applied since the last backup.

import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeSnapshotFile } from "../../backend/index.js";
import type { Timers } from "../timers.js";
import { type BackupFile, backupFileName, parseBackupFileName } from "./names.js";
import { backupsToPrune } from "./retention.js";

export interface BackupOptions {
  dir: string;
  intervalMs: number;
  /** How many of the newest backups to keep; 0 keeps all. */
  retention: number;
}

export interface BackupHost {
  /** The member's name (--name): backups are named after it. */
  member: string;
  appliedIndex(): number;
  revision(): number;
  snapshot(): AsyncIterable<Uint8Array>;
  /** Wall-clock milliseconds since the epoch (file names). */
  wallClock(): number;
  timers: Timers;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  /** Called after each attempt (metrics). */
  observe(r: { ok: boolean; seconds: number; bytes?: number; wallMs: number }): void;
}

export interface BackupResult {
  path: string;
  revision: number;
  size: number;
  pruned: string[];
}

export class BackupScheduler {
  private cancel: (() => void) | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  /** Applied index of the last backup taken (or found); -1 before any. */
  private lastApplied = -1;

  constructor(
    private readonly opts: BackupOptions,
    private readonly host: BackupHost,
  ) {}

  /** Creates the directory, removes leftovers of interrupted backups, schedules the first one. */
  start(): void {
    try {
      mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new Error(`cannot use --backup-dir ${this.opts.dir}: ${(e as Error).message}`);
    }
    for (const f of readdirSync(this.opts.dir)) {
      if (f.endsWith(".db.part") && parseBackupFileName(this.host.member, f.slice(0, -5))) {
        rmSync(join(this.opts.dir, f), { force: true });
      }
    }
    const newest = this.list().reduce((t, b) => Math.max(t, b.time), Number.NEGATIVE_INFINITY);
    const due = Number.isFinite(newest)
      ? newest + this.opts.intervalMs - this.host.wallClock()
      : this.opts.intervalMs;
    this.schedule(Math.max(0, Math.min(due, this.opts.intervalMs)));
  }

  /** Cancels the next backup and waits for one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    await this.running?.catch(() => undefined);
  }

  /** This member's backups in the directory, oldest first. */
  list(): BackupFile[] {
    let names: string[];
    try {
      names = readdirSync(this.opts.dir);
    } catch {
      return [];
    }
    const files = names.flatMap((n) => parseBackupFileName(this.host.member, n) ?? []);
    return files.sort((a, b) => a.time - b.time);
  }

  /** Takes a backup now (unless nothing was applied since the last one) and prunes old ones. */
  async backupNow(): Promise<BackupResult | undefined> {
    while (this.running !== undefined) await this.running.catch(() => undefined);
    const p = this.take();
    this.running = p;
    try {
      return await p;
    } finally {
      this.running = undefined;
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.cancel = this.host.timers.after(ms, () => {
      void this.backupNow()
        .catch(() => undefined)
        .finally(() => this.schedule(this.opts.intervalMs));
    });
  }

  private async take(): Promise<BackupResult | undefined> {
    const h = this.host;
    const applied = h.appliedIndex();
    if (applied === this.lastApplied) return undefined;
    const revision = h.revision();
    const wallMs = h.wallClock();
    const path = join(this.opts.dir, backupFileName(h.member, wallMs, revision));
    const start = h.timers.now();
    let size: number;
    try {
      ({ size } = await writeSnapshotFile(h.snapshot(), path));
    } catch (err) {
      const seconds = (h.timers.now() - start) / 1000;
      h.observe({ ok: false, seconds, wallMs });
      h.warn({ path, error: String((err as Error)?.message ?? err) }, "failed to save scheduled backup");
      throw err;
    }
    this.lastApplied = applied;
    const seconds = (h.timers.now() - start) / 1000;
    h.observe({ ok: true, seconds, bytes: size, wallMs });
    const pruned = this.prune();
    h.info(
      { path, revision, "applied-index": applied, size, took: `${Math.round(seconds * 1000)}ms`, pruned },
      "saved scheduled backup",
    );
    return { path, revision, size, pruned };
  }

  private prune(): string[] {
    const pruned: string[] = [];
    for (const b of backupsToPrune(this.list(), this.opts.retention)) {
      try {
        rmSync(join(this.opts.dir, b.name));
        pruned.push(b.name);
      } catch (err) {
        this.host.warn({ file: b.name, error: String(err) }, "failed to remove an old scheduled backup");
      }
    }
    return pruned;
  }
}
