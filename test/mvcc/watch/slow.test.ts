import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { WatchResponse } from "../../../src/mvcc/watch/types.js";
import { b, cleanup, countEvents, eventsOf, nextUntil, openStore, put, tick, within } from "./helpers.js";

after(cleanup);

describe("watch: slow consumers", () => {
  test("a blocked consumer neither delays another stream nor grows its queue past the bound; it later gets everything once, in order", async () => {
    const N = 400;
    const f = openStore({ maxPendingResponses: 8 });
    try {
      const fast = f.ws.watchStream();
      const slow = f.ws.watchStream();
      const fid = fast.watch({ key: b("k"), rangeEnd: b("l") });
      const sid = slow.watch({ key: b("k"), rangeEnd: b("l"), prevKv: true });
      const fastGot: WatchResponse[] = [];
      const fastDone = (async () => {
        for await (const r of fast) {
          fastGot.push(r);
          if (countEvents(fastGot, fid) === N) return;
        }
      })();
      // Concurrent writer; the slow stream's consumer takes nothing meanwhile.
      let maxSlowPending = 0;
      for (let i = 0; i < N; i++) {
        put(f.kv, `k${i % 7}`, `v${i}`);
        maxSlowPending = Math.max(maxSlowPending, slow.pendingResponses);
        if (i % 10 === 9) await tick();
      }
      await within(fastDone, "fast stream");
      const want = Array.from({ length: N }, (_, i) => `PUT k${i % 7}=v${i}@${i + 2}`);
      assert.deepEqual(eventsOf(fastGot, fid), want, "fast stream complete while the slow one is blocked");
      assert.ok(maxSlowPending <= 8, `slow queue bounded (max ${maxSlowPending})`);
      assert.ok(slow.pendingResponses <= 8);
      assert.ok(f.ws.stats().slowMoves >= 1, "the slow watcher was moved aside");

      const slowGot = await nextUntil(slow, (g) => countEvents(g, sid) === N);
      const withPrev = want.map((e, i) => (i < 7 ? e : `${e} prev=v${i - 7}@${i - 5}`));
      assert.deepEqual(eventsOf(slowGot, sid), withPrev);
      await within(f.ws.idle(), "sync loop idle");
      assert.equal(slow.take(), undefined, "nothing duplicated afterwards");
      assert.equal(f.ws.stats().unsynced, 0);
    } finally {
      f.close();
    }
  });

  test("the byte bound holds too (an empty queue still takes one large response)", async () => {
    const f = openStore({ maxPendingBytes: 4096, maxRevsPerSync: 3 });
    try {
      const s = f.ws.watchStream();
      const id = s.watch({ key: b("k") });
      let maxBytes = 0;
      for (let i = 0; i < 50; i++) {
        put(f.kv, "k", `${i}`.padEnd(1000, "."));
        maxBytes = Math.max(maxBytes, s.pendingBytes);
        await tick();
      }
      assert.ok(maxBytes < 4096 + 1200, `bytes bounded (max ${maxBytes})`);
      const got = await nextUntil(s, (g) => countEvents(g, id) === 50);
      assert.deepEqual(
        eventsOf(got, id).map((e) => e.split("=")[1].replace(/\.+/, "")),
        Array.from({ length: 50 }, (_, i) => `${i}@${i + 2}`),
      );
    } finally {
      f.close();
    }
  });

  test("consumers at different speeds under a continuous writer each get the full history once", async () => {
    const f = openStore({ maxPendingResponses: 4, maxRevsPerSync: 5 });
    try {
      const speeds = [1, 3, 17]; // ticks between takes
      const streams = speeds.map(() => f.ws.watchStream());
      const ids = streams.map((s) => s.watch({ key: b("a"), rangeEnd: b("z") }));
      const got: WatchResponse[][] = speeds.map(() => []);
      const N = 300;
      let writing = true;
      const consumers = streams.map(async (s, i) => {
        let n = 0;
        const deadline = Date.now() + 10_000;
        while (writing || countEvents(got[i], ids[i]) < N) {
          if (Date.now() > deadline) throw new Error(`stream ${i}: events missing`);
          if (++n % speeds[i] === 0) {
            const r = s.take();
            if (r !== undefined) got[i].push(r);
          }
          await tick();
        }
      });
      for (let i = 0; i < N; i++) {
        put(f.kv, `k${i % 11}`, `${i}`);
        if (i % 3 === 0) await tick();
      }
      writing = false;
      await Promise.all(consumers);
      const want = Array.from({ length: N }, (_, i) => `PUT k${i % 11}=${i}@${i + 2}`);
      for (let i = 0; i < speeds.length; i++) assert.deepEqual(eventsOf(got[i], ids[i]), want, `stream ${i}`);
      assert.ok(f.ws.stats().slowMoves > 0);
    } finally {
      f.close();
    }
  });

  test("many watchers on one blocked stream cost the others nothing", async () => {
    const f = openStore({ maxPendingResponses: 2, maxWatchersPerSync: 16 });
    try {
      const blocked = f.ws.watchStream();
      for (let i = 0; i < 200; i++) blocked.watch({ key: b(`k${i % 10}`), startRev: 1 });
      const fast = f.ws.watchStream();
      const id = fast.watch({ key: b("k0") });
      for (let i = 0; i < 100; i++) put(f.kv, `k${i % 10}`, `${i}`);
      const got = await nextUntil(fast, (g) => countEvents(g, id) === 10);
      assert.deepEqual(
        eventsOf(got, id),
        Array.from({ length: 10 }, (_, i) => `PUT k0=${i * 10}@${i * 10 + 2}`),
      );
      await within(f.ws.idle(), "sync loop idle");
      assert.ok(f.ws.stats().unsynced > 0, "the blocked stream's watchers wait, parked");
      // Drain the blocked one: all 200 watchers complete.
      const all = await nextUntil(
        blocked,
        (g) => g.filter((r) => r.events.length > 0).reduce((n, r) => n + r.events.length, 0) === 200 * 10,
      );
      for (let w = 0; w < 200; w++) assert.equal(countEvents(all, w), 10, `watcher ${w}`);
      await within(f.ws.idle(), "sync loop idle");
      assert.equal(f.ws.stats().unsynced, 0);
    } finally {
      f.close();
    }
  });
});
