// Scheduled backups: file names, retention, the schedule (due after the newest backup found, skipped
// when nothing was applied), durable complete files in etcd's snapshot file layout, failures that leave
// nothing behind and do not stop the schedule.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import {
  type BackupHost,
  BackupScheduler,
  backupFileName,
  backupsToPrune,
  parseBackupFileName,
} from "../../src/server/backup/index.js";
import { FakeTimers } from "./fake_timers.js";

const HOUR = 3_600_000;
const EPOCH = Date.UTC(2026, 10, 24, 3, 0, 0);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "backup-test-"));
  dirs.push(d);
  return d;
}

/** A member whose data is `payload` bytes and whose applied index is whatever the test sets. */
function host(timers: FakeTimers, opts: { payload?: number; fail?: () => boolean } = {}) {
  const logs: string[] = [];
  const observed: { ok: boolean }[] = [];
  const h: BackupHost & { applied: number; logs: string[]; observed: typeof observed } = {
    member: "infra0",
    applied: 1,
    logs,
    observed,
    appliedIndex: () => h.applied,
    revision: () => h.applied + 1,
    async *snapshot() {
      yield Buffer.alloc(opts.payload ?? 1000, 7);
      if (opts.fail?.()) throw new Error("backend snapshot: closed while reading");
      yield Buffer.alloc(300, 9);
    },
    wallClock: () => EPOCH + timers.now(),
    timers,
    info: (_f, m) => logs.push(m),
    warn: (_f, m) => logs.push(m),
    observe: (r) => observed.push(r),
  };
  return h;
}

/** Waits for the backup the timers started (it writes real files, so real I/O must finish). */
async function settle(s: BackupScheduler): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: the test reaches the in-flight backup
  await (s as any).running?.catch(() => undefined);
  await new Promise((r) => setImmediate(r)); // and the next one is scheduled
}

async function advance(t: FakeTimers, s: BackupScheduler, ms: number, step = HOUR): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await t.advance(Math.min(step, ms - done));
    await settle(s);
  }
}

describe("backup file names", () => {
  it("round-trip, sort by time, and never claim another member's or a foreign file", () => {
    const n = backupFileName("infra0", EPOCH + 123, 1042);
    assert.equal(n, "infra0-20261124T030000.123Z-r1042.db");
    assert.deepEqual(parseBackupFileName("infra0", n), { name: n, time: EPOCH + 123, revision: 1042 });
    assert.equal(parseBackupFileName("infra", n), undefined, "infra's files are not infra0's");
    assert.equal(parseBackupFileName("infra0", "infra0-notes.db"), undefined);
    assert.equal(parseBackupFileName("infra0", `${n}.part`), undefined);
    assert.equal(parseBackupFileName("a", backupFileName("a-b", EPOCH, 1)), undefined);
  });

  it("retention keeps the newest N, 0 keeps all", () => {
    const files = [3, 1, 4, 2].map(
      (h) => parseBackupFileName("m", backupFileName("m", EPOCH + h * HOUR, h))!,
    );
    assert.deepEqual(
      backupsToPrune(files, 2).map((f) => f.revision),
      [2, 1],
    );
    assert.deepEqual(backupsToPrune(files, 0), []);
    assert.deepEqual(backupsToPrune(files, 9), []);
  });
});

describe("backup scheduler", () => {
  it("saves every interval, keeps the newest `retention` files, each a complete snapshot file", async () => {
    const dir = tempDir();
    const t = new FakeTimers();
    const h = host(t);
    const s = new BackupScheduler({ dir, intervalMs: HOUR, retention: 3 }, h);
    s.start();
    for (let i = 0; i < 5; i++) {
      h.applied += 10;
      await advance(t, s, HOUR);
    }
    const names = readdirSync(dir).sort();
    assert.equal(names.length, 3, names.join(" "));
    assert.deepEqual(
      names.map((n) => parseBackupFileName("infra0", n)!.time),
      [3, 4, 5].map((k) => EPOCH + k * HOUR),
    );
    for (const n of names) {
      const b = readFileSync(join(dir, n));
      assert.equal(b.length % 512, 32, "etcd's test for a trailing SHA-256");
      assert.deepEqual(b.subarray(-32), createHash("sha256").update(b.subarray(0, -32)).digest());
      assert.equal(
        b.subarray(0, 1000).every((x) => x === 7),
        true,
      );
    }
    assert.equal(h.logs.filter((m) => m === "saved scheduled backup").length, 5);
    await s.stop();
  });

  it("takes no backup while nothing was applied since the last one", async () => {
    const dir = tempDir();
    const t = new FakeTimers();
    const h = host(t);
    const s = new BackupScheduler({ dir, intervalMs: HOUR, retention: 0 }, h);
    s.start();
    await advance(t, s, 4 * HOUR);
    assert.equal(readdirSync(dir).length, 1);
    h.applied++;
    await advance(t, s, HOUR);
    assert.equal(readdirSync(dir).length, 2);
    await s.stop();
  });

  it("after a restart the next backup is due one interval after the newest one found", async () => {
    const dir = tempDir();
    const t = new FakeTimers();
    const h = host(t);
    // The newest backup is 40 minutes old: the next is due in 20 minutes, not in an hour.
    writeFileSync(join(dir, backupFileName("infra0", EPOCH - 40 * 60_000, 5)), "x");
    writeFileSync(join(dir, "infra0-20260101T000000.000Z-r1.db.part"), "half");
    writeFileSync(join(dir, "notes.txt"), "the operator's");
    const s = new BackupScheduler({ dir, intervalMs: HOUR, retention: 1 }, h);
    s.start();
    assert.equal(existsSync(join(dir, "infra0-20260101T000000.000Z-r1.db.part")), false, "leftover removed");
    await advance(t, s, 20 * 60_000 - 1, 60_000);
    assert.equal(s.list().length, 1);
    await advance(t, s, 1, 1);
    const names = readdirSync(dir).sort();
    assert.deepEqual(names, [backupFileName("infra0", EPOCH + 20 * 60_000, 2), "notes.txt"]);
    await s.stop();
  });

  it("a failed backup leaves no file, is counted, and the next one is tried an interval later", async () => {
    const dir = tempDir();
    const t = new FakeTimers();
    let failing = true;
    const h = host(t, { fail: () => failing });
    const s = new BackupScheduler({ dir, intervalMs: HOUR, retention: 2 }, h);
    s.start();
    await advance(t, s, HOUR);
    assert.deepEqual(readdirSync(dir), []);
    assert.ok(h.logs.includes("failed to save scheduled backup"));
    assert.deepEqual(
      h.observed.map((o) => o.ok),
      [false],
    );
    failing = false;
    await advance(t, s, HOUR);
    assert.equal(readdirSync(dir).length, 1);
    await s.stop();
  });

  it("an unusable directory is a clear error at start", () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    const s = new BackupScheduler(
      { dir: join(file, "sub"), intervalMs: HOUR, retention: 2 },
      host(new FakeTimers()),
    );
    assert.throws(() => s.start(), /cannot use --backup-dir .*a-file\/sub/);
  });
});
