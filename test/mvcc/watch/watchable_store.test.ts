import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  DuplicateWatchIdError,
  EmptyWatcherRangeError,
  WatcherNotExistError,
  WatchStreamClosedError,
} from "../../../src/mvcc/watch/errors.js";
import { responseSize } from "../../../src/mvcc/watch/fragment.js";
import { PROGRESS_ALL_WATCH_ID, type WatchResponse } from "../../../src/mvcc/watch/types.js";
import {
  b,
  cleanup,
  countEvents,
  del,
  eventsOf,
  evText,
  nextUntil,
  openStore,
  put,
  str,
  tick,
  until,
  within,
} from "./helpers.js";

after(cleanup);

const isProgress = (r: WatchResponse) =>
  r.events.length === 0 && !r.created && !r.canceled && r.compactRevision === 0;

describe("watch: live events", () => {
  test("a key and a prefix: created first, then each write once, in order", async () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      const one = s.watch({ key: b("foo") });
      const pre = s.watch({ key: b("a/"), rangeEnd: b("a0") });
      const created = await nextUntil(s, (g) => g.length === 2);
      assert.deepEqual(
        created.map((r) => [r.watchId, r.created, r.revision]),
        [
          [one, true, 1],
          [pre, true, 1],
        ],
      );
      put(f.kv, "foo", "1"); // 2
      put(f.kv, "a/x", "2"); // 3
      put(f.kv, "zzz", "3"); // 4, nobody's
      put(f.kv, "a/y", "4"); // 5
      del(f.kv, "foo"); // 6
      const got = await nextUntil(s, (g) => countEvents(g, one) + countEvents(g, pre) === 4);
      assert.deepEqual(eventsOf(got, one), ["PUT foo=1@2", "DELETE foo@6"]);
      assert.deepEqual(eventsOf(got, pre), ["PUT a/x=2@3", "PUT a/y=4@5"]);
      for (const r of got) assert.equal(r.revision, r.events.at(-1)!.kv.modRevision);
      assert.equal(s.take(), undefined);
    } finally {
      f.close();
    }
  });

  test("events of one transaction arrive together, at the transaction's revision", async () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("k"), rangeEnd: b("l") });
      await nextUntil(s, (g) => g.length === 1);
      f.kv.txn({
        success: [
          { requestPut: { key: b("k1"), value: b("a") } },
          { requestPut: { key: b("x"), value: b("b") } },
          { requestPut: { key: b("k2"), value: b("c") } },
        ],
      });
      const [r] = await nextUntil(s, (g) => g.length === 1);
      assert.equal(r.watchId, id);
      assert.equal(r.revision, 2);
      assert.deepEqual(r.events.map(evText), ["PUT k1=a@2", "PUT k2=c@2"]);
    } finally {
      f.close();
    }
  });

  test('rangeEnd "\\0" watches every key from key on; an empty key means "\\0"', async () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      const from = s.watch({ key: b("m"), rangeEnd: b("\0") });
      const all = s.watch({ key: new Uint8Array(0), rangeEnd: b("\0") });
      const nul = s.watch({ key: new Uint8Array(0) });
      put(f.kv, "a", "1");
      put(f.kv, "m", "2");
      put(f.kv, "\xff\xff", "3");
      put(f.kv, "\0", "4");
      const got = await nextUntil(s, (g) => countEvents(g, all) === 4);
      assert.deepEqual(eventsOf(got, from), ["PUT m=2@3", "PUT \xff\xff=3@4"]);
      assert.deepEqual(eventsOf(got, all), ["PUT a=1@2", "PUT m=2@3", "PUT \xff\xff=3@4", "PUT \0=4@5"]);
      assert.deepEqual(eventsOf(got, nul), ["PUT \0=4@5"]);
    } finally {
      f.close();
    }
  });

  test("a start revision in the future: nothing before it", async () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("k"), startRev: 4 });
      put(f.kv, "k", "a"); // 2
      put(f.kv, "k", "b"); // 3
      put(f.kv, "k", "c"); // 4
      put(f.kv, "k", "d"); // 5
      const got = await nextUntil(s, (g) => countEvents(g, id) === 2);
      assert.deepEqual(eventsOf(got, id), ["PUT k=c@4", "PUT k=d@5"]);
    } finally {
      f.close();
    }
  });

  test("filters: noPut, noDelete", async () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      const noPut = s.watch({ key: b("k"), filters: { noPut: true } });
      const noDel = s.watch({ key: b("k"), filters: { noDelete: true } });
      put(f.kv, "k", "1");
      del(f.kv, "k");
      put(f.kv, "k", "2");
      del(f.kv, "k");
      const got = await nextUntil(s, (g) => countEvents(g, noPut) === 2 && countEvents(g, noDel) === 2);
      assert.deepEqual(eventsOf(got, noPut), ["DELETE k@3", "DELETE k@5"]);
      assert.deepEqual(eventsOf(got, noDel), ["PUT k=1@2", "PUT k=2@4"]);
      // Entirely filtered responses are not sent.
      assert.equal(
        got.filter((r) => !r.created && r.events.length === 0).length,
        0,
        "no empty event responses",
      );
    } finally {
      f.close();
    }
  });

  test("prevKv, live and replayed: none for a creation, the old version for updates and deletes", async () => {
    const f = openStore();
    try {
      put(f.kv, "k", "1"); // 2
      put(f.kv, "k", "2"); // 3
      del(f.kv, "k"); // 4
      const s = f.ws.watchStream();
      const replay = s.watch({ key: b("k"), startRev: 2, prevKv: true });
      const live = s.watch({ key: b("k"), prevKv: true });
      const plain = s.watch({ key: b("k") });
      await nextUntil(s, (g) => countEvents(g, replay) === 3);
      put(f.kv, "k", "3"); // 5
      put(f.kv, "k", "4"); // 6
      del(f.kv, "k"); // 7
      const got = await nextUntil(s, (g) => countEvents(g, live) === 3 && countEvents(g, replay) === 3);
      const want = ["PUT k=3@5", "PUT k=4@6 prev=3@5", "DELETE k@7 prev=4@6"];
      assert.deepEqual(eventsOf(got, live), want);
      assert.deepEqual(eventsOf(got, replay), want);
      assert.deepEqual(eventsOf(got, plain), ["PUT k=3@5", "PUT k=4@6", "DELETE k@7"]);
      // The replayed part, checked separately (taken before the live writes).
    } finally {
      f.close();
    }
  });

  test("prevKv of replayed history", async () => {
    const f = openStore();
    try {
      put(f.kv, "k", "1");
      put(f.kv, "k", "2");
      del(f.kv, "k");
      put(f.kv, "k", "3");
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("k"), startRev: 1, prevKv: true });
      const got = await nextUntil(s, (g) => countEvents(g, id) === 4);
      assert.deepEqual(eventsOf(got, id), [
        "PUT k=1@2",
        "PUT k=2@3 prev=1@2",
        "DELETE k@4 prev=2@3",
        "PUT k=3@5",
      ]);
    } finally {
      f.close();
    }
  });
});

describe("watch: history", () => {
  test("replay from history then live, no gap or repeat at the boundary", async () => {
    // Small sync batches, so the catch-up takes many rounds while writes keep coming.
    const f = openStore({ maxRevsPerSync: 7 });
    try {
      for (let i = 0; i < 60; i++) put(f.kv, i % 2 === 0 ? "k" : "other", `v${i}`);
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("k"), startRev: 10 });
      const got: WatchResponse[] = [];
      // Keep writing while the watcher catches up, until it is synced, then a few more.
      let i = 60;
      const deadline = Date.now() + 5000;
      while (f.ws.stats().unsynced > 0) {
        assert.ok(Date.now() < deadline, "caught up in time");
        put(f.kv, i % 2 === 0 ? "k" : "other", `v${i}`);
        i++;
        for (let r = s.take(); r !== undefined; r = s.take()) got.push(r);
        await tick();
      }
      for (let n = 0; n < 10; n++, i++) put(f.kv, i % 2 === 0 ? "k" : "other", `v${i}`);
      const expected: string[] = [];
      for (let n = 0; n < i; n++) if (n % 2 === 0 && n + 2 >= 10) expected.push(`PUT k=v${n}@${n + 2}`);
      got.push(...(await nextUntil(s, (g) => countEvents(g, id) + countEvents(got, id) === expected.length)));
      assert.deepEqual(eventsOf(got, id), expected);
      assert.ok(f.ws.stats().syncRounds >= 8, "caught up over several rounds");
      // Revisions reported never go backwards, and cover each response's events.
      let last = 0;
      for (const r of got.filter((x) => x.watchId === id && !x.created)) {
        assert.ok(r.revision >= last);
        assert.ok(r.revision >= r.events.at(-1)!.kv.modRevision);
        last = r.revision;
      }
    } finally {
      f.close();
    }
  });

  test("many watchers from history, more than one sync round holds", async () => {
    const f = openStore({ maxWatchersPerSync: 3, maxRevsPerSync: 4 });
    try {
      for (let i = 0; i < 20; i++) put(f.kv, `k${i % 5}`, `v${i}`);
      const s = f.ws.watchStream();
      const ids: number[] = [];
      for (let w = 0; w < 10; w++) ids.push(s.watch({ key: b(`k${w % 5}`), startRev: 1 + w }));
      const got = await nextUntil(s, (g) =>
        ids.every((id, w) => countEvents(g, id) === countFrom(1 + w, w % 5)),
      );
      for (let w = 0; w < 10; w++) {
        const want: string[] = [];
        for (let i = 0; i < 20; i++)
          if (i % 5 === w % 5 && i + 2 >= 1 + w) want.push(`PUT k${i % 5}=v${i}@${i + 2}`);
        assert.deepEqual(eventsOf(got, ids[w]), want, `watcher ${w}`);
      }
      await within(f.ws.idle(), "sync loop idle");
      assert.equal(f.ws.stats().unsynced, 0);
    } finally {
      f.close();
    }
    function countFrom(start: number, key: number): number {
      let n = 0;
      for (let i = 0; i < 20; i++) if (i % 5 === key && i + 2 >= start) n++;
      return n;
    }
  });

  test("history replay across a compaction boundary", async () => {
    const f = openStore();
    try {
      for (let i = 0; i < 10; i++) put(f.kv, "k", `v${i}`); // revisions 2..11
      f.kv.compact(6);
      const s = f.ws.watchStream();
      const below = s.watch({ key: b("k"), startRev: 5 });
      const at = s.watch({ key: b("k"), startRev: 6 });
      const above = s.watch({ key: b("k"), startRev: 8, prevKv: true });
      const got = await nextUntil(
        s,
        (g) =>
          g.some((r) => r.watchId === below && r.canceled) &&
          countEvents(g, at) === 6 &&
          countEvents(g, above) === 4,
      );
      const c = got.find((r) => r.watchId === below && r.canceled)!;
      assert.equal(c.compactRevision, 6);
      assert.equal(countEvents(got, below), 0);
      assert.deepEqual(eventsOf(got, at), [
        "PUT k=v4@6",
        "PUT k=v5@7",
        "PUT k=v6@8",
        "PUT k=v7@9",
        "PUT k=v8@10",
        "PUT k=v9@11",
      ]);
      assert.deepEqual(eventsOf(got, above), [
        "PUT k=v6@8 prev=v5@7",
        "PUT k=v7@9 prev=v6@8",
        "PUT k=v8@10 prev=v7@9",
        "PUT k=v9@11 prev=v8@10",
      ]);
      // The compacted watch is gone from the stream: its ID is free, cancel does not know it.
      assert.throws(() => s.cancel(below), WatcherNotExistError);
      assert.ok(!s.watchIds().includes(below));
      // The others continue live.
      put(f.kv, "k", "live");
      const more = await nextUntil(s, (g) => countEvents(g, at) === 1 && countEvents(g, above) === 1);
      assert.deepEqual(eventsOf(more, above), ["PUT k=live@12 prev=v9@11"]);
      await f.kv.compactionDone();
    } finally {
      f.close();
    }
  });

  test("a watcher behind a compaction that happens while it catches up is canceled, having skipped nothing", async () => {
    const f = openStore({ maxRevsPerSync: 2, maxPendingResponses: 1 });
    try {
      for (let i = 0; i < 20; i++) put(f.kv, "k", `v${i}`); // 2..21
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("k"), startRev: 2 });
      const got = await nextUntil(s, (g) => countEvents(g, id) >= 4);
      f.kv.compact(15);
      got.push(...(await nextUntil(s, (g) => g.some((r) => r.canceled))));
      const c = got.find((r) => r.canceled)!;
      assert.equal(c.compactRevision, 15);
      const evs = eventsOf(got, id);
      // A prefix of the history, in order, each once.
      assert.deepEqual(
        evs,
        Array.from({ length: evs.length }, (_, i) => `PUT k=v${i}@${i + 2}`),
      );
      assert.ok(evs.length < 14);
    } finally {
      f.close();
    }
  });
});

describe("watch: progress", () => {
  test("requestProgress answers only for a synced watch, with the current revision", async () => {
    const f = openStore({ maxRevsPerSync: 1 });
    try {
      for (let i = 0; i < 5; i++) put(f.kv, "x", `${i}`); // 2..6
      const s = f.ws.watchStream({ maxPendingResponses: 1 });
      const synced = s.watch({ key: b("k") });
      const behind = s.watch({ key: b("x"), startRev: 2 });
      assert.equal(s.requestProgress(synced), true);
      assert.equal(s.requestProgress(behind), false);
      const got = await nextUntil(s, (g) => g.length === 3);
      assert.deepEqual(
        got.map((r) => [r.watchId, r.created, r.revision]),
        [
          [synced, true, 6],
          [behind, true, 6],
          [synced, false, 6],
        ],
      );
      assert.ok(isProgress(got[2]));
      assert.throws(() => s.requestProgress(99), WatcherNotExistError);
    } finally {
      f.close();
    }
  });

  test("requestProgressAll waits until every watch on the stream is synced, and follows their events", async () => {
    const f = openStore({ maxRevsPerSync: 2 });
    try {
      for (let i = 0; i < 9; i++) put(f.kv, "x", `${i}`); // 2..10
      const s = f.ws.watchStream();
      const a = s.watch({ key: b("k") });
      const behind = s.watch({ key: b("x"), startRev: 2 });
      assert.equal(s.requestProgressAll(), false);
      const got = await nextUntil(s, (g) => g.some((r) => r.watchId === PROGRESS_ALL_WATCH_ID));
      const p = got.at(-1)!;
      assert.equal(p.watchId, PROGRESS_ALL_WATCH_ID);
      assert.equal(p.revision, 10);
      assert.ok(isProgress(p));
      // Every event through the progress revision came before it.
      assert.equal(countEvents(got, behind), 9);
      assert.equal(countEvents(got, a), 0);
      // Now synced: answered at once.
      assert.equal(s.requestProgressAll(), true);
      const [now] = await nextUntil(s, (g) => g.length === 1);
      assert.equal(now.watchId, PROGRESS_ALL_WATCH_ID);
    } finally {
      f.close();
    }
  });

  test("periodic progress: only watches that asked, are synced, and were quiet since the last tick", async () => {
    const f = openStore({ progressNotifyIntervalMs: 0 });
    try {
      const s = f.ws.watchStream();
      const quiet = s.watch({ key: b("q"), progressNotify: true });
      const busy = s.watch({ key: b("k"), progressNotify: true });
      const off = s.watch({ key: b("z") });
      await nextUntil(s, (g) => g.length === 3);
      put(f.kv, "k", "1");
      await nextUntil(s, (g) => g.length === 1);
      f.ws.progressTick();
      const first = await nextUntil(s, (g) => g.length === 1);
      assert.deepEqual(
        first.map((r) => [r.watchId, r.revision, isProgress(r)]),
        [[quiet, 2, true]],
      );
      f.ws.progressTick(); // now both were quiet
      const second = await nextUntil(s, (g) => g.length === 2);
      assert.deepEqual(second.map((r) => r.watchId).sort(), [quiet, busy].sort());
      assert.ok(!second.some((r) => r.watchId === off));
      assert.equal(s.take(), undefined);
    } finally {
      f.close();
    }
  });

  test("the progress timer fires on its own", async () => {
    const f = openStore({ progressNotifyIntervalMs: 5 });
    try {
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("q"), progressNotify: true });
      const got = await nextUntil(s, (g) => g.some((r) => r.watchId === id && isProgress(r)));
      assert.equal(got.at(-1)!.revision, 1);
    } finally {
      f.close();
    }
  });
});

describe("watch: fragmentation", () => {
  test("a large response is split for watches that asked; fragments carry every event once", async () => {
    const f = openStore({ maxResponseBytes: 2000 });
    try {
      const s = f.ws.watchStream();
      const frag = s.watch({ key: b("k"), rangeEnd: b("l"), fragment: true });
      const whole = s.watch({ key: b("k"), rangeEnd: b("l") });
      const value = "x".repeat(300);
      const ops = Array.from({ length: 20 }, (_, i) => ({
        requestPut: { key: b(`k${String(i).padStart(2, "0")}`), value: b(value) },
      }));
      f.kv.txn({ success: ops });
      const got = await nextUntil(s, (g) => countEvents(g, frag) === 20 && countEvents(g, whole) === 20);
      const parts = got.filter((r) => r.watchId === frag && !r.created);
      assert.ok(parts.length > 1, "split");
      assert.deepEqual(
        parts.map((r) => r.fragment),
        [...Array(parts.length - 1).fill(true), false],
      );
      for (const r of parts) {
        assert.ok(responseSize(r) <= 2000 || r.events.length === 1);
        assert.equal(r.revision, 2);
      }
      assert.deepEqual(eventsOf(got, frag), eventsOf(got, whole));
      const one = got.filter((r) => r.watchId === whole && !r.created);
      assert.equal(one.length, 1);
      assert.equal(one[0].fragment, false);
    } finally {
      f.close();
    }
  });

  test("a single event larger than the limit travels alone, unfragmented", async () => {
    const f = openStore({ maxResponseBytes: 100 });
    try {
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("k"), fragment: true });
      put(f.kv, "k", "y".repeat(1000));
      const got = await nextUntil(s, (g) => countEvents(g, id) === 1);
      assert.equal(got.at(-1)!.fragment, false);
    } finally {
      f.close();
    }
  });
});

describe("watch: cancel, IDs, errors, close", () => {
  test("cancel: queued responses dropped, a canceled response, nothing after", async () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("k") });
      const other = s.watch({ key: b("o") });
      put(f.kv, "k", "1");
      put(f.kv, "o", "1");
      put(f.kv, "k", "2");
      s.cancel(id);
      put(f.kv, "k", "3");
      put(f.kv, "o", "2");
      const got = await nextUntil(s, (g) => countEvents(g, other) === 2);
      assert.deepEqual(
        got.filter((r) => r.watchId === id).map((r) => [r.created, r.canceled, r.events.length]),
        [
          [true, false, 0],
          [false, true, 0],
        ],
      );
      assert.throws(() => s.cancel(id), WatcherNotExistError);
      assert.ok(!s.has(id) && s.has(other));
      assert.equal(f.ws.stats().synced, 1);
    } finally {
      f.close();
    }
  });

  test("explicit IDs, duplicates refused, automatic IDs skip taken ones (etcd's table)", () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      assert.equal(s.watch({ key: b("foo"), watchId: 1 }), 1);
      assert.throws(() => s.watch({ key: b("foo"), watchId: 1 }), DuplicateWatchIdError);
      assert.throws(() => s.watch({ key: b("foo"), watchId: 1 }), {
        message: "mvcc: duplicate watch ID provided on the WatchStream",
      });
      assert.equal(s.watch({ key: b("foo") }), 0);
      assert.equal(s.watch({ key: b("foo"), watchId: 0 }), 2);
      // IDs are per stream.
      assert.equal(f.ws.watchStream().watch({ key: b("foo") }), 0);
    } finally {
      f.close();
    }
  });

  test("an empty range is refused", () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      assert.throws(() => s.watch({ key: b("b"), rangeEnd: b("a") }), EmptyWatcherRangeError);
      assert.throws(() => s.watch({ key: b("b"), rangeEnd: b("b") }), {
        message: "mvcc: watcher range is empty",
      });
    } finally {
      f.close();
    }
  });

  test("closing a stream ends iteration and frees its watchers; other streams go on", async () => {
    const f = openStore();
    try {
      const s1 = f.ws.watchStream();
      const s2 = f.ws.watchStream();
      s1.watch({ key: b("k") });
      const id2 = s2.watch({ key: b("k") });
      const seen: WatchResponse[] = [];
      const loop = (async () => {
        for await (const r of s1) seen.push(r);
      })();
      await until(() => seen.length === 1, "created seen");
      s1.close();
      await loop;
      assert.throws(() => s1.watch({ key: b("k") }), WatchStreamClosedError);
      assert.equal(await s1.next(), undefined);
      put(f.kv, "k", "v");
      const got = await nextUntil(s2, (g) => countEvents(g, id2) === 1);
      assert.deepEqual(eventsOf(got, id2), ["PUT k=v@2"]);
      assert.equal(f.ws.stats().streams, 1);
      assert.equal(f.ws.stats().synced, 1);
    } finally {
      f.close();
    }
  });

  test("closing the store closes its streams and releases the commit listener", async () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      s.watch({ key: b("k") });
      const pending = nextUntil(s, (g) => g.length === 1).then(() => s.next());
      f.ws.close();
      assert.equal(await pending, undefined);
      assert.ok(s.closed);
      put(f.kv, "k", "after close"); // no listener errors
      assert.equal(str(f.kv.range(b("k")).kvs[0].value), "after close");
    } finally {
      f.close();
    }
  });

  test("consume() awaits the callback before the next response", async () => {
    const f = openStore();
    try {
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("k") });
      const order: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const done = s.consume(async (r) => {
        order.push(r.created ? "created" : r.canceled ? "canceled" : evText(r.events[0]));
        if (order.length === 2) await gate;
      });
      put(f.kv, "k", "1");
      put(f.kv, "k", "2");
      await until(() => order.length === 2, "first event handled");
      await tick();
      assert.equal(order.length, 2, "the second event waits for the callback");
      release();
      await until(() => order.length === 3, "second event handled");
      assert.deepEqual(order, ["created", "PUT k=1@2", "PUT k=2@3"]);
      s.cancel(id);
      await until(() => order.length === 4, "canceled handled");
      assert.equal(order[3], "canceled");
      s.close();
      await done;
    } finally {
      f.close();
    }
  });
});

describe("watch: the key space replaced underneath (snapshot install)", () => {
  test("restore(kv): watchers continue from their cursor in the new store, nothing lost or repeated", async () => {
    const f = openStore();
    const g = openStore();
    try {
      const s = f.ws.watchStream();
      const w = s.watch({ key: b("k/"), rangeEnd: b("k0") });
      await nextUntil(s, (r) => r.length === 1); // created
      put(f.kv, "k/1", "a"); // 2
      await nextUntil(s, (r) => countEvents(r, w) === 1);
      // The leader's store: the same first write, then more this member never applied.
      put(g.kv, "k/1", "a"); // 2
      put(g.kv, "k/2", "b"); // 3
      put(g.kv, "x", "c"); // 4
      put(g.kv, "k/3", "d"); // 5
      f.ws.restore(g.kv);
      const got = await nextUntil(s, (r) => countEvents(r, w) === 2);
      assert.deepEqual(eventsOf(got, w), ["PUT k/2=b@3", "PUT k/3=d@5"]);
      // And live events of the new store reach it.
      put(g.kv, "k/4", "e"); // 6
      const live = await nextUntil(s, (r) => countEvents(r, w) === 1);
      assert.deepEqual(eventsOf(live, w), ["PUT k/4=e@6"]);
    } finally {
      f.close();
      g.close();
    }
  });
});
