import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { cleanup, Harness, Model, openStore, tick } from "./helpers.js";

after(cleanup);

/** mulberry32: a small seeded generator, so a failure replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ["a", "b", "c", "d", "e", "f", "g", "h"];

describe("watch: ordering and completeness under concurrent writes", () => {
  for (const seed of [1, 2, 3]) {
    test(`writers, watchers created mid-flight and consumers at different speeds (seed ${seed})`, async () => {
      const rand = rng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
      const f = openStore({ maxRevsPerSync: 4, maxWatchersPerSync: 3 });
      try {
        const m = new Model(f.kv);
        const h = new Harness(f, m);
        const queueSizes = [1, 2, 16, 1024];
        for (const q of queueSizes) h.addStream(q);
        const newWatch = () => {
          const key = pick(KEYS);
          const kind = rand();
          const end =
            kind < 0.4 ? undefined : kind < 0.8 ? pick(KEYS.filter((k) => k > key).concat("\0")) : "\0";
          const r = rand();
          const startRev =
            r < 0.3 ? 0 : r < 0.9 ? 1 + Math.floor(rand() * m.rev) : m.rev + 1 + Math.floor(rand() * 5);
          h.watch(Math.floor(rand() * queueSizes.length), {
            key,
            end,
            startRev,
            noPut: rand() < 0.1,
            noDelete: rand() < 0.1,
            prevKv: rand() < 0.5,
            fragment: rand() < 0.2,
          });
        };
        for (let i = 0; i < 6; i++) newWatch();

        let writing = 4;
        const writer = async () => {
          for (let op = 0; op < 120; op++) {
            const x = rand();
            if (x < 0.55) m.put(pick(KEYS), `v${m.rev}`);
            else if (x < 0.7) m.del(pick(KEYS));
            else if (x < 0.8) {
              const lo = pick(KEYS);
              m.del(lo, pick(KEYS.filter((k) => k > lo).concat("\xff")));
            } else {
              const ks = KEYS.filter(() => rand() < 0.3);
              if (ks.length > 0) m.txn(ks.map((k) => [k, `t${m.rev}`]));
            }
            if (rand() < 0.05) newWatch();
            const waits = Math.floor(rand() * 3);
            for (let w = 0; w < waits; w++) await tick();
          }
          writing--;
        };
        // Consumers: stream i takes a response every (i + 1) ticks, at most 3 at a time.
        const consumer = async (i: number) => {
          let n = 0;
          while (writing > 0) {
            if (++n % (i + 1) === 0) h.take(i, 1 + Math.floor(rand() * 3));
            await tick();
          }
        };
        await Promise.all([writer(), writer(), writer(), writer(), ...queueSizes.map((_, i) => consumer(i))]);
        await h.drain();
        const checked = h.check();
        assert.ok(checked > 200, `checked ${checked} events`);
        assert.ok(f.ws.stats().slowMoves > 0, "slow paths exercised");
      } finally {
        f.close();
      }
    });
  }
});
