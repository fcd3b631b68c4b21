// HashKV without blocking the event loop: the chunked scan over a consistent read view gives the same
// hash as the synchronous one, lets other work run between chunks, and is not changed by writes or a
// compaction that happen while it runs. (A blocking hash of a large key bucket on the leader starves its
// heartbeats; the leader runs one every corruption-check interval.)

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TestStore } from "./helpers.js";

function fill(s: TestStore, n: number): void {
  const v = Buffer.alloc(64, 7);
  for (let i = 0; i < n; i++) {
    const w = s.kv.write();
    w.put(Buffer.from(`k/${i % 500}`), v, 0n);
    w.end();
  }
}

describe("hashKVAsync", () => {
  it("equals hashKV, at the current revision and at an older one, also after a compaction", async () => {
    const s = new TestStore();
    fill(s, 3000);
    assert.deepEqual(await s.kv.hashKVAsync(), s.kv.hashKV());
    assert.deepEqual(await s.kv.hashKVAsync(1500), s.kv.hashKV(1500));
    s.kv.compact(1000);
    assert.deepEqual(await s.kv.hashKVAsync(2000), s.kv.hashKV(2000));
    s.close();
  });

  it("yields to the event loop between chunks, and later writes and compactions do not change it", async () => {
    const s = new TestStore();
    fill(s, 20_000);
    const expected = s.kv.hashKV();
    // Another job of the event loop, rescheduling itself: it runs only if the hash yields.
    let ticks = 0;
    let running = true;
    const tick = () => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const p = s.kv.hashKVAsync();
    // Meanwhile the store goes on: more writes, and a compaction of half the history.
    fill(s, 1000);
    s.kv.compact(10_000);
    const got = await p;
    running = false;
    assert.deepEqual(got, expected);
    assert.ok(ticks > 0, "other work ran while the hash was computed");
    s.close();
  });
});
