import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Backend } from "../../src/backend/backend.js";
import { ALL_BUCKETS, Bucket, decodeUint64BE, encodeUint64BE, MetaKey } from "../../src/backend/buckets.js";
import { ReadView } from "../../src/backend/read_view.js";
import { SnapshotFormatError } from "../../src/backend/snapshot.js";

const root = mkdtempSync(join(tmpdir(), "etcd-ts-backend-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
function dbPath(): string {
  return join(root, `m${seq++}`, "member", "snap", "db");
}

const b = (s: string): Buffer => Buffer.from(s, "latin1");
const s = (u: Uint8Array | undefined): string | undefined =>
  u === undefined ? undefined : Buffer.from(u).toString("latin1");
const pairs = (
  be: Backend,
  bucket: (typeof ALL_BUCKETS)[number],
  start?: string,
  end?: string,
  limit?: number,
) =>
  be
    .readTx()
    .range(bucket, start === undefined ? undefined : b(start), end === undefined ? undefined : b(end), limit)
    .map(([k, v]) => `${s(k)}=${s(v)}`);

/** Waits (polling, not sleeping blindly) until `cond` holds, failing after `ms`. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Everything in every bucket, as text. */
function dump(be: Backend): string[] {
  const out: string[] = [];
  for (const name of ALL_BUCKETS) {
    be.readTx().forEach(name, (k, v) => {
      out.push(`${name}/${s(k)}=${s(v)}`);
    });
  }
  return out;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const c of it) chunks.push(Buffer.from(c));
  return chunks;
}

async function* replay(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

describe("backend buffered reads", () => {
  test("point reads and range scans see buffered puts and deletes before any commit", () => {
    const be = Backend.open(dbPath(), { batchIntervalMs: 60_000 });
    try {
      const tx = be.batchTx;
      for (const k of ["a", "c", "e", "g"]) tx.put(Bucket.key, b(k), b(`v${k}`));
      be.commit();
      assert.equal(be.stats().commits, 1);
      tx.put(Bucket.key, b("b"), b("vb")); // new, between committed keys
      tx.put(Bucket.key, b("c"), b("vc2")); // overwrite
      tx.delete(Bucket.key, b("e")); // delete a committed key
      tx.put(Bucket.key, b("h"), b("vh")); // after the last committed key
      tx.put(Bucket.key, b("x"), b("tmp"));
      tx.delete(Bucket.key, b("x")); // put then delete, never committed
      assert.equal(be.stats().commits, 1);
      assert.equal(be.stats().pending, 6);
      assert.equal(s(tx.get(Bucket.key, b("b"))), "vb");
      assert.equal(s(tx.get(Bucket.key, b("c"))), "vc2");
      assert.equal(tx.get(Bucket.key, b("e")), undefined);
      assert.equal(tx.get(Bucket.key, b("x")), undefined);
      assert.equal(s(be.readTx().getUnsafe(Bucket.key, b("g"))), "vg");
      assert.deepEqual(pairs(be, Bucket.key), ["a=va", "b=vb", "c=vc2", "g=vg", "h=vh"]);
      assert.deepEqual(pairs(be, Bucket.key, "b", "g"), ["b=vb", "c=vc2"]);
      assert.deepEqual(pairs(be, Bucket.key, "c"), ["c=vc2", "g=vg", "h=vh"]);
      assert.deepEqual(pairs(be, Bucket.key, undefined, undefined, 2), ["a=va", "b=vb"]);
      assert.deepEqual(pairs(be, Bucket.key, "z"), []);
      assert.deepEqual(pairs(be, Bucket.key, "g", "c"), []);
      assert.deepEqual(pairs(be, Bucket.meta), []);
      const seen: string[] = [];
      be.readTx().forEach(Bucket.key, (k) => {
        seen.push(s(k)!);
        return seen.length < 3;
      });
      assert.deepEqual(seen, ["a", "b", "c"]);
      // Reading committed nothing.
      assert.equal(be.stats().commits, 1);
      be.commit();
      assert.deepEqual(pairs(be, Bucket.key), ["a=va", "b=vb", "c=vc2", "g=vg", "h=vh"]);
    } finally {
      be.close();
    }
  });

  test("buckets are separate and empty keys are refused", () => {
    const be = Backend.open(dbPath());
    try {
      be.batchTx.put(Bucket.lease, b("k"), b("lease"));
      be.batchTx.put(Bucket.authUsers, b("k"), b("user"));
      assert.equal(s(be.batchTx.get(Bucket.lease, b("k"))), "lease");
      assert.equal(s(be.batchTx.get(Bucket.authUsers, b("k"))), "user");
      assert.equal(be.batchTx.get(Bucket.members, b("k")), undefined);
      assert.throws(() => be.batchTx.put(Bucket.key, b(""), b("x")), RangeError);
      assert.throws(() => be.batchTx.put("nope" as typeof Bucket.key, b("k"), b("x")), RangeError);
    } finally {
      be.close();
    }
  });
});

describe("backend batching", () => {
  test("commits once batchLimit writes are pending, at the end of the synchronous run", async () => {
    const be = Backend.open(dbPath(), { batchLimit: 10, batchIntervalMs: 60_000 });
    try {
      for (let i = 0; i < 25; i++) be.batchTx.put(Bucket.key, b(`k${i}`), b("v"));
      // Synchronous code is never split by a commit.
      assert.deepEqual(be.stats(), { commits: 0, pending: 25, openSnapshots: 0 });
      await Promise.resolve();
      assert.deepEqual(be.stats(), { commits: 1, pending: 0, openSnapshots: 0 });
      for (let i = 0; i < 9; i++) be.batchTx.put(Bucket.key, b(`j${i}`), b("v"));
      await Promise.resolve();
      assert.equal(be.stats().commits, 1, "below the limit: no commit");
      be.batchTx.put(Bucket.key, b("j9"), b("v"));
      await Promise.resolve();
      assert.equal(be.stats().commits, 2);
    } finally {
      be.close();
    }
  });

  test("commits pending writes after batchIntervalMs", async () => {
    const be = Backend.open(dbPath(), { batchIntervalMs: 20, batchLimit: 1000 });
    try {
      const t0 = Date.now();
      be.batchTx.put(Bucket.key, b("k"), b("v"));
      await Promise.resolve();
      assert.equal(be.stats().commits, 0);
      await until(() => be.stats().commits === 1);
      assert.ok(Date.now() - t0 >= 15, "not before the interval");
      assert.equal(be.stats().pending, 0);
      // Idle: no further commits.
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(be.stats().commits, 1);
    } finally {
      be.close();
    }
  });

  test("close commits and reopen sees everything; forceCommit leaves nothing pending", () => {
    const p = dbPath();
    let be = Backend.open(p, { batchIntervalMs: 60_000 });
    be.batchTx.put(Bucket.meta, MetaKey.consistentIndex, encodeUint64BE(2 ** 40 + 5));
    be.batchTx.put(Bucket.key, b("a"), b("1"));
    be.forceCommit();
    assert.equal(be.stats().pending, 0);
    be.batchTx.put(Bucket.key, b("b"), b("2"));
    be.close();
    be.close(); // idempotent
    be = Backend.open(p);
    try {
      assert.deepEqual(pairs(be, Bucket.key), ["a=1", "b=2"]);
      assert.equal(decodeUint64BE(be.batchTx.get(Bucket.meta, MetaKey.consistentIndex)!), 2 ** 40 + 5);
    } finally {
      be.close();
    }
  });
});

// A child process applies "entries" (a data write plus the consistent index, in one synchronous run) with
// small batches and yields at varying points, then kills itself with SIGKILL: nothing is closed or flushed.
const crashScript = `
import { Backend } from ${JSON.stringify(new URL("../../src/backend/backend.js", import.meta.url).href)};
import { Bucket, MetaKey, encodeUint64BE, decodeUint64BE } from ${JSON.stringify(new URL("../../src/backend/buckets.js", import.meta.url).href)};
const [path, seedArg, killAtArg] = process.argv.slice(2);
let seed = Number(seedArg);
const rnd = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
const be = Backend.open(path, { batchLimit: 7, batchIntervalMs: 1 });
const ciBytes = be.batchTx.get(Bucket.meta, MetaKey.consistentIndex);
let index = ciBytes === undefined ? 0 : decodeUint64BE(ciBytes);
const killAt = Number(killAtArg);
for (;;) {
  const burst = 1 + rnd(20);
  for (let j = 0; j < burst; j++) {
    index++;
    // An entry writes 1..4 keys and the consistent index, in either order.
    const writes = 1 + rnd(4);
    const ciFirst = rnd(2) === 0;
    if (ciFirst) be.batchTx.put(Bucket.meta, MetaKey.consistentIndex, encodeUint64BE(index));
    for (let w = 0; w < writes; w++) be.batchTx.put(Bucket.key, Buffer.from("e" + String(index).padStart(8, "0") + "-" + w), Buffer.from(String(writes)));
    if (!ciFirst) be.batchTx.put(Bucket.meta, MetaKey.consistentIndex, encodeUint64BE(index));
  }
  if (index >= killAt) process.kill(process.pid, "SIGKILL");
  await new Promise((r) => (rnd(3) === 0 ? setTimeout(r, rnd(3)) : setImmediate(r)));
}
`;

describe("consistent index", () => {
  test("stays atomic with the data it covers across a process crash", () => {
    const p = dbPath();
    const script = join(root, "crash-child.mjs");
    writeFileSync(script, crashScript);
    let lastCi = 0;
    for (let round = 0; round < 4; round++) {
      const r = spawnSync(
        process.execPath,
        [script, p, String(round + 1), String(lastCi + 200 + round * 150)],
        {
          encoding: "utf8",
          timeout: 20_000,
        },
      );
      assert.equal(r.signal, "SIGKILL", r.stderr);
      const be = Backend.open(p);
      try {
        const ciBytes = be.batchTx.get(Bucket.meta, MetaKey.consistentIndex);
        const ci = ciBytes === undefined ? 0 : decodeUint64BE(ciBytes);
        assert.ok(ci >= lastCi, "the consistent index never goes back");
        // Every entry up to ci is there whole, nothing after it.
        const byEntry = new Map<number, { writes: number; seen: number }>();
        be.readTx().forEach(Bucket.key, (k, v) => {
          const name = s(k)!;
          const idx = Number(name.slice(1, 9));
          const e = byEntry.get(idx) ?? { writes: Number(s(v)), seen: 0 };
          e.seen++;
          byEntry.set(idx, e);
        });
        for (let i = 1; i <= ci; i++) {
          const e = byEntry.get(i);
          assert.ok(e !== undefined, `entry ${i} <= ci ${ci} is missing`);
          assert.equal(e.seen, e.writes, `entry ${i} is partial`);
        }
        for (const idx of byEntry.keys()) assert.ok(idx <= ci, `entry ${idx} is past ci ${ci}`);
        lastCi = ci;
      } finally {
        be.close();
      }
    }
    assert.ok(lastCi > 0);
  });
});

describe("backend snapshot", () => {
  test("streams a point-in-time copy while writes continue, and restores it", async () => {
    const be = Backend.open(dbPath(), { batchLimit: 100, batchIntervalMs: 5 });
    const big = Buffer.alloc(700, 0x62);
    try {
      for (let i = 0; i < 3000; i++) be.batchTx.put(Bucket.key, b(`k${String(i).padStart(5, "0")}`), big);
      for (let i = 0; i < 50; i++) be.batchTx.put(Bucket.members, b(`m${i}`), b(`member${i}`));
      be.batchTx.put(Bucket.meta, MetaKey.consistentIndex, encodeUint64BE(77));
      be.batchTx.put(Bucket.key, b("buffered"), b("not yet committed")); // included: snapshot commits first
      const expected = dump(be);
      const expectedHash = be.hash();
      const snap = be.snapshot();
      assert.equal(be.stats().openSnapshots, 1);
      // Consume it slowly, writing (and committing) between chunks.
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of snap) {
        chunks.push(Buffer.from(c));
        be.batchTx.put(Bucket.key, b(`k${String(n * 7).padStart(5, "0")}`), b("overwritten"));
        be.batchTx.delete(Bucket.key, b(`k${String(n * 11 + 1).padStart(5, "0")}`));
        be.batchTx.put(Bucket.members, b(`new${n}`), b("x"));
        be.batchTx.put(Bucket.meta, MetaKey.consistentIndex, encodeUint64BE(78 + n));
        be.forceCommit();
        n++;
      }
      assert.ok(n > 10, `the stream came in ${n} chunks`);
      assert.equal(snap.closed, true);
      assert.equal(be.stats().openSnapshots, 0);
      assert.notDeepEqual(dump(be), expected, "the live backend moved on");

      const restored = await Backend.restoreFrom(replay(chunks), dbPath());
      try {
        assert.deepEqual(dump(restored), expected);
        assert.equal(restored.hash(), expectedHash);
      } finally {
        restored.close();
      }
    } finally {
      be.close();
    }
  });

  test("equal backends give identical streams and hashes; toStream/writeTo work", async () => {
    const mk = (): Backend => {
      const be = Backend.open(dbPath());
      be.batchTx.put(Bucket.alarm, b("a"), b("1"));
      be.batchTx.put(Bucket.key, b("k"), b("v"));
      return be;
    };
    const x = mk();
    const y = mk();
    try {
      assert.equal(x.hash(), y.hash());
      const cx = Buffer.concat(await collect(x.snapshot().toStream()));
      const cy = Buffer.concat(await collect(y.snapshot()));
      assert.deepEqual(cx, cy);
      y.batchTx.put(Bucket.key, b("k"), b("w"));
      assert.notEqual(x.hash(), y.hash());
      assert.equal(x.hash([Bucket.key]), y.hash([Bucket.key]));
      assert.equal(
        x.hash((bucket, k) => bucket === Bucket.key && s(k) === "k"),
        y.hash((bucket, k) => bucket === Bucket.key && s(k) === "k"),
      );
      const { PassThrough } = await import("node:stream");
      const sink = new PassThrough();
      const got: Buffer[] = [];
      sink.on("data", (c: Buffer) => got.push(c));
      const bytes = await x.snapshot().writeTo(sink);
      assert.equal(bytes, cx.length);
      assert.deepEqual(Buffer.concat(got), cx);
    } finally {
      x.close();
      y.close();
    }
  });

  test("restore refuses corrupt, truncated or extended streams and leaves no file", async () => {
    const be = Backend.open(dbPath());
    for (let i = 0; i < 100; i++) be.batchTx.put(Bucket.key, b(`k${i}`), b(`v${i}`));
    const good = Buffer.concat(await collect(be.snapshot()));
    be.close();
    const cases: [string, Buffer][] = [
      ["flipped byte", Buffer.from(good.map((x, i) => (i === good.length >> 1 ? x ^ 0x10 : x)))],
      ["flipped checksum", Buffer.from(good.map((x, i) => (i === good.length - 1 ? x ^ 1 : x)))],
      ["truncated", good.subarray(0, good.length - 40)],
      ["trailing bytes", Buffer.concat([good, Buffer.from([0])])],
      ["bad magic", Buffer.concat([Buffer.from("XXXXXXXX"), good.subarray(8)])],
    ];
    for (const [name, bytes] of cases) {
      const p = dbPath();
      await assert.rejects(Backend.restoreFrom(replay([bytes]), p), SnapshotFormatError, name);
      assert.equal(existsSync(p), false, name);
      assert.equal(existsSync(`${p}.restoring`), false, name);
    }
    // One byte at a time still restores.
    const p = dbPath();
    const ok = await Backend.restoreFrom(replay([...good].map((x) => Uint8Array.of(x))), p);
    assert.equal(ok.readTx().range(Bucket.key).length, 100);
    ok.close();
    await assert.rejects(Backend.restoreFrom(replay([good]), p), /already exists/);
    const again = await Backend.restoreFrom(replay([good]), p, { overwrite: true });
    again.close();
  });

  test("closing the backend in the middle of reading a snapshot ends the stream with an error", async () => {
    const be = Backend.open(dbPath());
    for (let i = 0; i < 2000; i++) be.batchTx.put(Bucket.key, b(`k${i}`), Buffer.alloc(200));
    const snap = be.snapshot();
    const it = snap[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    be.close();
    assert.equal(snap.closed, true);
    await assert.rejects(it.next(), /closed while reading/);
  });

  test("close releases an unread snapshot", () => {
    const be = Backend.open(dbPath());
    be.batchTx.put(Bucket.key, b("k"), b("v"));
    const snap = be.snapshot();
    assert.equal(be.stats().openSnapshots, 1);
    assert.throws(() => be.defrag(), /snapshot/);
    be.close();
    assert.equal(snap.closed, true);
  });
});

describe("backend size and defrag", () => {
  test("defrag keeps every pair and shrinks a file emptied by deletes", () => {
    const p = dbPath();
    const be = Backend.open(p, { batchLimit: 1000 });
    try {
      const v = Buffer.alloc(1000, 1);
      for (let i = 0; i < 4000; i++) be.batchTx.put(Bucket.key, b(`k${String(i).padStart(5, "0")}`), v);
      be.commit();
      for (let i = 0; i < 4000; i++)
        if (i % 10 !== 0) be.batchTx.delete(Bucket.key, b(`k${String(i).padStart(5, "0")}`));
      be.batchTx.put(Bucket.cluster, b("c"), b("x"));
      be.commit();
      const before = dump(be);
      const size = be.size();
      assert.ok(be.sizeInUse() < size, "deleted pages are free");
      be.defrag();
      assert.deepEqual(dump(be), before);
      assert.ok(be.size() < size / 2, `defrag shrank ${size} to ${be.size()}`);
      be.batchTx.put(Bucket.key, b("after"), b("defrag"));
      be.commit();
      assert.equal(s(be.batchTx.get(Bucket.key, b("after"))), "defrag");
    } finally {
      be.close();
    }
    const re = Backend.open(p);
    assert.equal(re.readTx().range(Bucket.key).length, 401);
    re.close();
  });

  test("online defrag: writes, deletes and overwrites made during the copy are all in the result", async () => {
    const p = dbPath();
    const be = Backend.open(p, { batchLimit: 1000 });
    try {
      const v = Buffer.alloc(500, 1);
      const key = (i: number) => b(`k${String(i).padStart(6, "0")}`);
      for (let i = 0; i < 50_000; i++) be.batchTx.put(Bucket.key, key(i), v);
      be.commit();
      for (let i = 0; i < 50_000; i++) if (i % 5 !== 0) be.batchTx.delete(Bucket.key, key(i));
      be.commit();
      const size = be.size();
      // The copy yields between batches: meanwhile the member keeps writing (and other work runs).
      let ticks = 0;
      let copying = true;
      const writer = (async () => {
        for (let round = 0; copying; round++) {
          be.batchTx.put(Bucket.key, b(`new${round}`), b(`v${round}`));
          be.batchTx.put(Bucket.key, key(0), b(`overwritten${round}`));
          be.batchTx.delete(Bucket.key, key(5 * (round + 1)));
          if (round % 3 === 0) be.commit();
          ticks++;
          await new Promise<void>((r) => setImmediate(r));
        }
      })();
      await be.defragOnline();
      copying = false;
      await writer;
      be.commit();
      assert.ok(ticks > 2, `writes went on during the copy (${ticks} rounds)`);
      const after = be.readTx().range(Bucket.key);
      const map = new Map(after.map(([k, val]) => [s(k), s(val)]));
      for (let r = 0; r < ticks; r++) {
        assert.equal(map.get(`new${r}`), `v${r}`, `write ${r} made during the defrag`);
        assert.equal(map.has(s(key(5 * (r + 1)))), false, `delete ${r} made during the defrag`);
      }
      assert.equal(map.get(s(key(0))), `overwritten${ticks - 1}`);
      assert.equal(map.get(s(key(5 * (ticks + 1)))), s(v), "untouched keys are kept");
      assert.ok(be.size() < size / 2, `defrag shrank ${size} to ${be.size()}`);
      const first = be.defragOnline();
      await assert.rejects(be.defragOnline(), /a defragmentation is already running/);
      assert.throws(() => be.defrag(), /a defragmentation is already running/);
      await first;
    } finally {
      be.close();
    }
    const re = Backend.open(p);
    assert.ok(re.readTx().get(Bucket.key, b("new0")) !== undefined, "the result is on disk");
    re.close();
  });

  test("online defrag of a backend closed meanwhile fails cleanly and leaves no temporary file", async () => {
    const p = dbPath();
    const be = Backend.open(p, { batchLimit: 1000 });
    const v = Buffer.alloc(500, 1);
    for (let i = 0; i < 40_000; i++) be.batchTx.put(Bucket.key, b(`k${i}`), v);
    be.commit();
    const d = be.defragOnline();
    await new Promise<void>((r) => setImmediate(r));
    be.close();
    await assert.rejects(d, /closed/);
    assert.equal(existsSync(`${p}.defrag`), false);
    const re = Backend.open(p);
    assert.equal(re.readTx().range(Bucket.key).length, 40_000, "the original file is intact");
    re.close();
  });

  test("online defrag with a snapshot open waits for it to be read before swapping", async () => {
    const p = dbPath();
    const be = Backend.open(p, { batchLimit: 1000 });
    try {
      for (let i = 0; i < 20_000; i++) be.batchTx.put(Bucket.key, b(`k${i}`), Buffer.alloc(200, 2));
      be.commit();
      const snap = be.snapshot();
      const d = be.defragOnline();
      let defragged = false;
      void d.then(() => {
        defragged = true;
      });
      let bytes = 0;
      for await (const chunk of snap) bytes += chunk.length;
      assert.ok(bytes > 20_000 * 200, "the snapshot was read whole while the defrag waited");
      await d;
      assert.equal(defragged, true);
      assert.equal(be.readTx().range(Bucket.key).length, 20_000);
    } finally {
      be.close();
    }
  });

  test("a read view closed mid-scan (the backend closed or swapped) fails the scan cleanly", async () => {
    // Found by the robustness harness: a restarted member installed a leader's snapshot while its initial
    // corruption check scanned the old backend; closing it ended the transaction under a live cursor
    // (LMDB: "cursor_close: ... ensure that cursors are closed before the transaction is closed") and
    // the scan failed with "The transaction is already closed.", which stopped the member.
    const p = dbPath();
    const be = Backend.open(p);
    for (let i = 0; i < 20_000; i++) be.batchTx.put(Bucket.key, b(`k${String(i).padStart(6, "0")}`), b("v"));
    be.commit();
    const view = be.readView();
    let seen = 0;
    const scan = view.forEach(Bucket.key, () => seen++, undefined, undefined, 1000);
    await new Promise<void>((r) => setImmediate(r));
    be.close();
    await assert.rejects(scan, /backend read view: closed/);
    assert.ok(seen >= 1000 && seen < 20_000, `stopped mid-scan (${seen})`);
    view.close();
  });

  test("closing a read view mid-scan closes its cursor before its transaction (LMDB's rule)", async () => {
    const events: string[] = [];
    const pairs = Array.from({ length: 5000 }, (_, i) => ({ key: b(`k${i}`), value: b("v") }));
    const db = {
      getRange: () => ({
        [Symbol.iterator]: () => {
          let i = 0;
          return {
            next: () =>
              i < pairs.length ? { done: false, value: pairs[i++]! } : { done: true, value: undefined },
            return: () => {
              events.push("cursor closed");
              return { done: true, value: undefined };
            },
          };
        },
      }),
    };
    const txn = { done: () => events.push("transaction done") };
    const view = new ReadView(
      () => db as never,
      txn as never,
      () => events.push("view released"),
    );
    const scan = view.forEach(Bucket.key, () => {}, undefined, undefined, 1000);
    await new Promise<void>((r) => setImmediate(r));
    view.close();
    await assert.rejects(scan, /backend read view: closed/);
    assert.deepEqual(events, ["cursor closed", "transaction done", "view released"]);
  });
});
