import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Entry, emptyHardState, type HardState } from "../../src/raft/types.js";
import {
  CorruptWALError,
  DataDirLockedError,
  LOCK_NAME,
  WAL,
  WALError,
  WALSnapshotMismatchError,
  WALSnapshotNotFoundError,
} from "../../src/wal/index.js";
import { encodeRecord, RecordType } from "../../src/wal/record.js";
import { captureLogger, entry, recordLayout, rmDir, tmpDir } from "./helpers.js";

const META = new TextEncoder().encode("member=1,cluster=2");
const dirs: string[] = [];
function newDir(): string {
  const d = tmpDir();
  dirs.push(d);
  return join(d, "wal");
}
after(() => dirs.forEach(rmDir));

const quiet = () => ({ logger: captureLogger(), segmentBytes: 64 * 1024 });

function hs(term: number, commit: number, vote = 1n): HardState {
  return { term, vote, commit };
}

describe("wal: basics", () => {
  test("create, save, close, open: metadata, hard state and entries come back", async () => {
    const dir = newDir();
    assert.equal(WAL.exists(dir), false);
    const w = await WAL.create(dir, META, quiet());
    assert.equal(WAL.exists(dir), true);
    assert.throws(() => w.readAll(), WALError);
    const ents = [entry(1), entry(2), entry(3, 2, 0)];
    await w.save(hs(2, 2), ents);
    await w.close();
    const r = await WAL.open(dir, { index: 0, term: 0 }, quiet());
    const got = r.readAll();
    assert.deepEqual(got.metadata, META);
    assert.deepEqual(got.hardState, hs(2, 2));
    assert.deepEqual(got.entries, ents);
    await r.close();
    await assert.rejects(WAL.create(dir, META, quiet()), /already holds a WAL/);
  });

  test("an empty log reads back as no entries and the empty hard state", async () => {
    const dir = newDir();
    await (await WAL.create(dir, META, quiet())).close();
    const w = await WAL.open(dir, { index: 0, term: 0 }, quiet());
    assert.deepEqual(w.readAll(), { metadata: META, hardState: emptyHardState, entries: [] });
    await w.close();
  });

  test("a later write of an index replaces it and everything after it", async () => {
    const dir = newDir();
    const w = await WAL.create(dir, META, quiet());
    await w.save(
      hs(1, 0),
      [1, 2, 3, 4, 5].map((i) => entry(i, 1)),
    );
    await w.save(hs(2, 2), [entry(3, 2, 40), entry(4, 2, 40)]);
    await w.close();
    const r = await WAL.open(dir, { index: 0, term: 0 }, quiet());
    const got = r.readAll();
    assert.deepEqual(
      got.entries.map((e) => [e.index, e.term]),
      [
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 2],
      ],
    );
    assert.deepEqual(got.entries[2], entry(3, 2, 40));
    await r.close();
  });

  test("a gap in the entries is refused", async () => {
    const dir = newDir();
    const w = await WAL.create(dir, META, quiet());
    await w.save(undefined, [entry(1), entry(3)]);
    await w.close();
    await assert.rejects(WAL.open(dir, { index: 0, term: 0 }, quiet()), (e: unknown) => {
      assert.ok(e instanceof CorruptWALError);
      assert.match(e.message, /entry 3 leaves a gap/);
      return true;
    });
  });

  test("group commit: concurrent saves share fdatasyncs and all resolve durable, in order", async () => {
    const dir = newDir();
    const w = await WAL.create(dir, META, quiet());
    const n = 500;
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        w.save(undefined, [entry(i + 1, 1, 100)]).then(() => done.push(i + 1)),
      ),
    );
    assert.deepEqual(
      done,
      Array.from({ length: n }, (_, i) => i + 1),
    );
    assert.ok(w.stats.fsyncs < n / 10, `expected few fsyncs, got ${w.stats.fsyncs}`);
    assert.equal(w.stats.records, n);
    await w.close();
    const r = await WAL.open(dir, { index: 0, term: 0 }, quiet());
    assert.equal(r.readAll().entries.length, n);
    await r.close();
  });

  test("mustSync=false saves keep their order and are synced by close", async () => {
    const dir = newDir();
    const w = await WAL.create(dir, META, quiet());
    const fsyncs = w.stats.fsyncs;
    await w.save(hs(1, 0), [entry(1)], false);
    await w.save(undefined, [entry(2)], false);
    assert.equal(w.stats.fsyncs, fsyncs);
    await w.close();
    assert.equal(w.stats.fsyncs, fsyncs + 1);
    const r = await WAL.open(dir, { index: 0, term: 0 }, quiet());
    assert.deepEqual(
      r.readAll().entries.map((e) => e.index),
      [1, 2],
    );
    await r.close();
  });

  test("saves after close are rejected; close waits for queued saves", async () => {
    const dir = newDir();
    const w = await WAL.create(dir, META, quiet());
    const p = w.save(undefined, [entry(1)]);
    await w.close();
    await p;
    await assert.rejects(w.save(undefined, [entry(2)]), /closed/);
  });

  test("an I/O error fails the WAL: the pending save and every later one reject", async () => {
    const dir = newDir();
    const opts = quiet();
    const w = await WAL.create(dir, META, opts);
    await w.save(undefined, [entry(1)]);
    const fd = (w as unknown as { fd: number }).fd;
    (w as unknown as { fd: number }).fd = 1 << 30; // not an open descriptor: the next write fails
    const results = await Promise.allSettled([w.save(undefined, [entry(2)]), w.save(undefined, [entry(3)])]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected"],
    );
    await assert.rejects(w.save(undefined, [entry(4)]), /can no longer be used/);
    assert.ok(opts.logger.lines.some((l) => l.level === "error"));
    (w as unknown as { fd: number }).fd = fd;
    await w.close();
    const r = await WAL.open(dir, { index: 0, term: 0 }, quiet());
    assert.deepEqual(
      r.readAll().entries.map((e) => e.index),
      [1],
    );
    await r.close();
  });

  test("create refuses a non-empty directory and leaves no temp dir behind", async () => {
    const dir = newDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(join(dir, "x"), "x");
    await assert.rejects(WAL.create(dir, META, quiet()), /not empty/);
    fs.rmSync(join(dir, "x"));
    await (await WAL.create(dir, META, quiet())).close();
    assert.equal(fs.existsSync(`${dir}.tmp`), false);
  });
});

describe("wal: segments", () => {
  async function filled(dir: string, n: number, opts = quiet()): Promise<WAL> {
    const w = await WAL.create(dir, META, { ...opts, segmentBytes: 4096 });
    for (let i = 1; i <= n; i += 10) {
      const ents: Entry[] = [];
      for (let j = i; j < i + 10 && j <= n; j++) ents.push(entry(j, 1, 100));
      await w.save(hs(1, ents[ents.length - 1].index), ents);
    }
    return w;
  }

  test("rotation: reading across segments with the crc chained through them", async () => {
    const dir = newDir();
    const w = await filled(dir, 300);
    assert.ok(w.stats.cuts >= 5, `cuts ${w.stats.cuts}`);
    const names = w.segments();
    await w.close();
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.endsWith(".wal")),
      names,
    );
    assert.equal(names[0], "0000000000000000-0000000000000000.wal");
    assert.match(names[1], /^0000000000000001-[0-9a-f]{16}\.wal$/);
    // Earlier segments were cut to their data.
    assert.ok(fs.statSync(join(dir, names[0])).size <= 4096);
    const r = await WAL.open(dir, { index: 0, term: 0 }, { ...quiet(), segmentBytes: 4096 });
    const got = r.readAll();
    assert.equal(got.entries.length, 300);
    assert.deepEqual(got.entries[299], entry(300, 1, 100));
    assert.deepEqual(got.hardState, hs(1, 300));
    // Appending after reopen continues the chain.
    await r.save(undefined, [entry(301, 1, 100)]);
    await r.close();
    const r2 = await WAL.open(dir, { index: 0, term: 0 }, quiet());
    assert.equal(r2.readAll().entries.length, 301);
    await r2.close();
  });

  test("a broken crc chain between segments is refused, naming the segment", async () => {
    const dir = newDir();
    await (await filled(dir, 100)).close();
    const names = fs.readdirSync(dir).filter((n) => n.endsWith(".wal"));
    const second = join(dir, names[1]);
    const buf = fs.readFileSync(second);
    // Replace its crc record by a valid one carrying another running crc.
    const rec = encodeRecord(RecordType.Crc, new Uint8Array([1, 2, 3, 4]), 0);
    buf.set(rec.bytes, 0);
    fs.writeFileSync(second, buf);
    await assert.rejects(WAL.open(dir, { index: 0, term: 0 }, quiet()), (e: unknown) => {
      assert.ok(e instanceof CorruptWALError);
      assert.equal(e.file, second);
      assert.equal(e.offset, 0);
      assert.match(e.message, /crc chain broken/);
      return true;
    });
  });

  test("damage in a segment that is not the last is refused, even at its end", async () => {
    const dir = newDir();
    await (await filled(dir, 100)).close();
    const names = fs.readdirSync(dir).filter((n) => n.endsWith(".wal"));
    const first = join(dir, names[0]);
    const buf = fs.readFileSync(first);
    const recs = recordLayout(buf);
    const lastRec = recs[recs.length - 1];
    fs.writeFileSync(first, buf.subarray(0, lastRec.end - 3));
    await assert.rejects(WAL.open(dir, { index: 0, term: 0 }, quiet()), (e: unknown) => {
      assert.ok(e instanceof CorruptWALError);
      assert.equal(e.file, first);
      assert.equal(e.offset, lastRec.off);
      return true;
    });
  });

  test("a missing segment is refused", async () => {
    const dir = newDir();
    await (await filled(dir, 100)).close();
    const names = fs.readdirSync(dir).filter((n) => n.endsWith(".wal"));
    fs.rmSync(join(dir, names[1]));
    await assert.rejects(WAL.open(dir, { index: 0, term: 0 }, quiet()), /segment missing/);
  });

  test("readAll from a snapshot position returns exactly the entries after it", async () => {
    const dir = newDir();
    const w = await filled(dir, 100);
    await w.saveSnapshot({ index: 50, term: 1 });
    await w.save(hs(1, 110), [entry(101, 1, 100)]);
    await w.close();
    for (const at of [0, 50]) {
      const r = await WAL.open(dir, { index: at, term: at === 0 ? 0 : 1 }, quiet());
      const got = r.readAll();
      assert.deepEqual(
        got.entries.map((e) => e.index),
        Array.from({ length: 101 - at }, (_, i) => at + i + 1),
      );
      assert.deepEqual(got.hardState, hs(1, 110));
      await r.close();
    }
    await assert.rejects(WAL.open(dir, { index: 50, term: 2 }, quiet()), WALSnapshotMismatchError);
    await assert.rejects(WAL.open(dir, { index: 60, term: 1 }, quiet()), WALSnapshotNotFoundError);
    assert.deepEqual(await WAL.validSnapshotEntries(dir), [
      { index: 0, term: 0 },
      { index: 50, term: 1 },
    ]);
  });

  test("release and --max-wals retention: old segments go, maxWals stay, the snapshot stays readable", async () => {
    const dir = newDir();
    const w = await filled(dir, 400, { ...quiet(), maxWals: 3 } as ReturnType<typeof quiet>);
    const before = w.segments();
    assert.ok(before.length > 6);
    await w.saveSnapshot({ index: 300, term: 1 });
    w.releaseLockTo(300);
    const kept = w.segments();
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.endsWith(".wal")),
      kept,
    );
    // The newest segment whose index is below 300 stays, with everything after it.
    const idx = (n: string) => Number.parseInt(n.slice(17, 33), 16);
    const below = before.filter((n) => idx(n) < 300);
    assert.equal(kept[0], below[below.length - 1]);
    assert.ok(kept.length >= 3);
    await w.close();
    const r = await WAL.open(dir, { index: 300, term: 1 }, quiet());
    assert.deepEqual(
      r.readAll().entries.map((e) => e.index),
      Array.from({ length: 100 }, (_, i) => 301 + i),
    );
    await r.close();
    await assert.rejects(WAL.open(dir, { index: 0, term: 0 }, quiet()), WALSnapshotNotFoundError);
  });

  test("retention: released segments are kept while there are at most maxWals; maxWals 0 keeps all", async () => {
    for (const maxWals of [0, 100]) {
      const dir = newDir();
      const w = await filled(dir, 200, { ...quiet(), maxWals } as ReturnType<typeof quiet>);
      const before = w.segments();
      await w.saveSnapshot({ index: 200, term: 1 });
      w.releaseLockTo(200);
      assert.deepEqual(w.segments(), before);
      await w.close();
    }
  });
});

describe("wal: lock", () => {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const walIndex = join(here, "../../src/wal/index.js");

  function runChild(script: string): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const c = spawn(process.execPath, ["--input-type=module", "-e", script], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      c.stdout.on("data", (b) => (out += b));
      c.stderr.on("data", (b) => (out += b));
      c.on("exit", (code) => resolve({ code, out }));
    });
  }

  test("a second process on the same data dir gets a clear error", async () => {
    const dir = newDir();
    const w = await WAL.create(dir, META, quiet());
    const script = `
      import { WAL } from ${JSON.stringify(walIndex)};
      try { await WAL.open(${JSON.stringify(dir)}, { index: 0, term: 0 }); console.log("opened"); }
      catch (e) { console.log(e.name + ": " + e.message); }`;
    const { out } = await runChild(script);
    assert.match(out, /DataDirLockedError: wal: data dir is in use by another process/);
    assert.match(out, new RegExp(`pid ${process.pid}`));
    // In this process too.
    await assert.rejects(WAL.open(dir, { index: 0, term: 0 }, quiet()), DataDirLockedError);
    await w.close();
    assert.equal(fs.existsSync(join(dir, LOCK_NAME)), false);
    const again = await runChild(script);
    assert.match(again.out, /opened/);
  });

  test("a lock left by a dead process is stale and taken over", async () => {
    const dir = newDir();
    await (await WAL.create(dir, META, quiet())).close();
    const dead = await new Promise<number>((resolve) => {
      const c = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
      c.on("exit", () => resolve(c.pid!));
    });
    fs.writeFileSync(join(dir, LOCK_NAME), `${dead}\n`);
    const opts = quiet();
    const w = await WAL.open(dir, { index: 0, term: 0 }, opts);
    assert.equal(fs.readFileSync(join(dir, LOCK_NAME), "utf8").trim(), String(process.pid));
    assert.ok(opts.logger.lines.some((l) => l.level === "warn" && /stale lock/.test(l.msg)));
    await w.close();
  });
});
