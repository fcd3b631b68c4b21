import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { emptyConfState, type Snapshot } from "../../src/raft/types.js";
import { SnapshotFileError, Snapshotter, snapName, WAL } from "../../src/wal/index.js";
import { decodeSnapshotFile, encodeSnapshotFile } from "../../src/wal/snapshotter.js";
import { captureLogger, entry, rmDir, tmpDir } from "./helpers.js";

const roots: string[] = [];
function newDir(): string {
  const d = tmpDir("snap-test-");
  roots.push(d);
  return join(d, "snap");
}
after(() => roots.forEach(rmDir));

function snap(term: number, index: number, data = `state@${index}`): Snapshot {
  return {
    data: new TextEncoder().encode(data),
    metadata: { index, term, confState: { ...emptyConfState(), voters: [1n, 2n, 0xffff_ffff_ffff_fff0n] } },
  };
}

test("snap: save then load returns the newest snapshot", () => {
  const dir = newDir();
  const s = new Snapshotter(dir, { logger: captureLogger() });
  assert.equal(s.load(), undefined);
  s.save(snap(1, 10));
  s.save(snap(2, 30));
  s.save(snap(1, 20));
  assert.deepEqual(s.load(), snap(2, 30));
  assert.ok(fs.existsSync(join(dir, snapName(2, 30))));
  assert.equal(snapName(2, 30), "0000000000000002-000000000000001e.snap");
  s.save({ data: new Uint8Array(0), metadata: { index: 0, term: 0, confState: emptyConfState() } });
  assert.equal(fs.readdirSync(dir).length, 3, "an empty snapshot is not saved");
});

test("snap: every single damaged byte or truncation is detected", () => {
  const bytes = encodeSnapshotFile(snap(3, 7));
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.slice();
    b[i] ^= 0x41;
    assert.throws(() => decodeSnapshotFile("f", b), SnapshotFileError, `flip at ${i}`);
    assert.throws(() => decodeSnapshotFile("f", bytes.subarray(0, i)), SnapshotFileError, `cut at ${i}`);
  }
  assert.deepEqual(decodeSnapshotFile("f", bytes), snap(3, 7));
});

test("snap: a broken newest file is renamed .broken with a warning and the next valid one is chosen", () => {
  const dir = newDir();
  const logger = captureLogger();
  const s = new Snapshotter(dir, { logger });
  s.save(snap(1, 10));
  s.save(snap(1, 20));
  s.save(snap(1, 30));
  const newest = join(dir, snapName(1, 30));
  const b = fs.readFileSync(newest);
  b[b.length - 1] ^= 1;
  fs.writeFileSync(newest, b);
  // A file whose name does not match its content is broken too.
  fs.copyFileSync(join(dir, snapName(1, 10)), join(dir, snapName(1, 25)));
  assert.deepEqual(s.load(), snap(1, 20));
  assert.ok(fs.existsSync(`${newest}.broken`));
  assert.ok(fs.existsSync(join(dir, `${snapName(1, 25)}.broken`)));
  assert.equal(logger.lines.filter((l) => l.level === "warn").length, 2);
  assert.deepEqual(s.load(), snap(1, 20));
});

test("snap: purge keeps the newest maxSnapshots files", () => {
  const dir = newDir();
  const s = new Snapshotter(dir, { logger: captureLogger() });
  for (let i = 1; i <= 8; i++) s.save(snap(1, i * 10));
  const removed = s.purge(5);
  assert.deepEqual(
    removed,
    [30, 20, 10].map((i) => snapName(1, i)),
  );
  assert.deepEqual(
    fs.readdirSync(dir).sort(),
    [40, 50, 60, 70, 80].map((i) => snapName(1, i)),
  );
  assert.deepEqual(s.purge(0), []);
});

test("snap: loadNewestAvailable picks the newest snapshot the WAL has a marker for", async () => {
  const root = tmpDir("snap-wal-");
  roots.push(root);
  const walDir = join(root, "wal");
  const w = await WAL.create(walDir, new Uint8Array([1]), {
    logger: captureLogger(),
    segmentBytes: 64 * 1024,
  });
  await w.save(
    { term: 1, vote: 1n, commit: 20 },
    Array.from({ length: 30 }, (_, i) => entry(i + 1)),
  );
  await w.saveSnapshot({ index: 10, term: 1 });
  await w.saveSnapshot({ index: 20, term: 1 });
  await w.saveSnapshot({ index: 25, term: 1 }); // above the commit index: not valid
  await w.close();
  const walSnaps = await WAL.validSnapshotEntries(walDir);
  assert.deepEqual(walSnaps, [
    { index: 0, term: 0 },
    { index: 10, term: 1 },
    { index: 20, term: 1 },
  ]);
  const s = new Snapshotter(join(root, "snap"), { logger: captureLogger() });
  s.save(snap(1, 10));
  s.save(snap(1, 20));
  s.save(snap(1, 25));
  s.save(snap(2, 20)); // same index, other term: no marker
  assert.deepEqual(s.loadNewestAvailable(walSnaps), snap(1, 20));
});
