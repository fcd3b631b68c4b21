// The test-only failpoint ETCD_TS_FAILPOINT_DROP_UNSYNCED (src/wal/failpoint.ts): reopening a WAL drops
// exactly what was written after the last completed fdatasync, as a power cut would, and nothing that
// was fsynced. "The disk at the moment of a kill" is a copy of the WAL directory taken while the WAL
// is open (the page cache keeps unsynced writes, so the copy holds them), without the lock file.

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { DROP_UNSYNCED_ENV, dropUnsyncedFromEnv, SYNCED_MARK_FILE } from "../../src/wal/failpoint.js";
import { LOCK_NAME, WAL } from "../../src/wal/index.js";
import { captureLogger, entry, rmDir, tmpDir } from "./helpers.js";

const root = tmpDir("wal-failpoint-");
after(() => rmDir(root));
let n = 0;

/** The WAL dir as a kill -9 would leave it (everything written is there; the lock's owner is gone). */
function crashCopy(dir: string): string {
  const copy = join(root, `crash-${n++}`);
  fs.cpSync(dir, copy, { recursive: true });
  fs.rmSync(join(copy, LOCK_NAME), { force: true });
  return copy;
}

const at0 = { index: 0, term: 0 };

describe("WAL failpoint: drop unsynced writes", () => {
  test("only the environment variable turns it on", () => {
    const saved = process.env[DROP_UNSYNCED_ENV];
    try {
      delete process.env[DROP_UNSYNCED_ENV];
      assert.equal(dropUnsyncedFromEnv(), false);
      process.env[DROP_UNSYNCED_ENV] = "1";
      assert.equal(dropUnsyncedFromEnv(), true);
    } finally {
      if (saved === undefined) delete process.env[DROP_UNSYNCED_ENV];
      else process.env[DROP_UNSYNCED_ENV] = saved;
    }
  });

  test("a write without fsync is lost at reopen, fsynced ones are kept", async () => {
    const dir = join(root, "a");
    const w = await WAL.create(dir, new Uint8Array([1]), { dropUnsynced: true });
    await w.save({ term: 1, vote: 1n, commit: 2 }, [entry(1), entry(2)], true);
    // Only the commit index moves: Raft does not ask for an fsync (mustSync false).
    await w.save({ term: 1, vote: 1n, commit: 3 }, [], false);
    const disk = crashCopy(dir);
    await w.close();

    const log = captureLogger();
    const r = await WAL.open(disk, at0, { dropUnsynced: true, logger: log });
    const got = r.readAll();
    await r.close();
    assert.deepEqual(
      got.entries.map((e) => e.index),
      [1, 2],
    );
    assert.equal(got.hardState.commit, 2, "the unsynced hard state is gone");
    assert.ok(log.lines.some((l) => l.msg.includes("dropped writes that were not fsynced")));

    // Without the failpoint the same disk keeps the unsynced record (a plain kill loses nothing).
    const disk2 = crashCopy(dir);
    fs.rmSync(join(disk2, SYNCED_MARK_FILE));
    const plain = await WAL.open(disk2, at0, { dropUnsynced: false });
    assert.equal(plain.readAll().hardState.commit, 3);
    await plain.close();
  });

  test("a clean close syncs and marks everything", async () => {
    const dir = join(root, "b");
    const w = await WAL.create(dir, new Uint8Array([1]), { dropUnsynced: true });
    await w.save({ term: 1, vote: 1n, commit: 1 }, [entry(1)], true);
    await w.save({ term: 1, vote: 1n, commit: 5 }, [], false);
    await w.close();
    const r = await WAL.open(dir, at0, { dropUnsynced: true });
    assert.equal(r.readAll().hardState.commit, 5);
    // Open marks what it read as durable, so appends after it are judged from there.
    await r.save({ term: 1, vote: 1n, commit: 6 }, [entry(2)], true);
    const disk = crashCopy(dir);
    await r.close();
    const again = await WAL.open(disk, at0, { dropUnsynced: true });
    const got = again.readAll();
    await again.close();
    assert.deepEqual(
      got.entries.map((e) => e.index),
      [1, 2],
    );
  });

  test("segments cut after the mark are removed; fsynced segments survive", async () => {
    const dir = join(root, "c");
    const opts = { dropUnsynced: true, segmentBytes: 4096 };
    const w = await WAL.create(dir, new Uint8Array([1]), opts);
    let i = 1;
    for (; i <= 40; i++) await w.save({ term: 1, vote: 1n, commit: i }, [entry(i, 1, 200)], true);
    assert.ok(w.segments().length > 2, "several segments were cut");
    const markAfter40 = fs.readFileSync(join(dir, SYNCED_MARK_FILE), "utf8");
    const segsAfter40 = w.segments().length;
    for (; i <= 80; i++) await w.save({ term: 1, vote: 1n, commit: i }, [entry(i, 1, 200)], true);
    assert.ok(w.segments().length > segsAfter40);

    // Everything was fsynced: nothing is dropped.
    const full = crashCopy(dir);
    const r1 = await WAL.open(full, at0, opts);
    assert.equal(r1.readAll().entries.length, 80);
    await r1.close();

    // A crash whose last completed fsync was the one after entry 40 (as if the fsyncs after it had not
    // returned): the later segments go, and the log ends at entry 40.
    const torn = crashCopy(dir);
    fs.writeFileSync(join(torn, SYNCED_MARK_FILE), markAfter40);
    const snaps = await WAL.validSnapshotEntries(torn, opts);
    assert.deepEqual(snaps, [at0]);
    const r2 = await WAL.open(torn, at0, opts);
    const got = r2.readAll();
    assert.deepEqual(
      got.entries.map((e) => e.index),
      Array.from({ length: 40 }, (_, k) => k + 1),
    );
    assert.equal(got.hardState.commit, 40);
    // And the WAL goes on from there.
    await r2.save({ term: 2, vote: 2n, commit: 41 }, [entry(41, 2)], true);
    await r2.close();
    const r3 = await WAL.open(torn, at0, opts);
    assert.equal(r3.readAll().entries.at(-1)!.index, 41);
    await r3.close();
    await w.close();
  });
});
