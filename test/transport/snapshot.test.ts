// Snapshot streaming to a member that fell behind: 50 MB end to end with the status reported, and every
// way it can fail reported as a failure.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { after, describe, test } from "node:test";
import { emptyConfState, type Message, MessageType, msg } from "../../src/raft/types.js";
import { startNode, type TestNode, until } from "./helpers.js";

const open: TestNode[] = [];
async function node(id: bigint, opts: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const n = await startNode(id, opts);
  open.push(n);
  return n;
}
after(async () => {
  await Promise.all(open.map((n) => n.t.close()));
});

function snapMsg(from: bigint, to: bigint): Message {
  return msg({
    type: MessageType.MsgSnap,
    from,
    to,
    term: 7,
    snapshot: {
      data: new TextEncoder().encode("raft snapshot data"),
      metadata: { index: 12345, term: 6, confState: { ...emptyConfState(), voters: [from, to] } },
    },
  });
}

const MiB = 1024 * 1024;

/** `chunks` chunks of 1 MiB, chunk i filled from a pattern of i; `failAt` throws instead of chunk failAt. */
function source(chunks: number, failAt = -1): () => AsyncIterable<Uint8Array> {
  return async function* () {
    for (let i = 0; i < chunks; i++) {
      if (i === failAt) throw new Error("backend read failed");
      const c = Buffer.allocUnsafe(MiB);
      for (let j = 0; j < MiB; j += 4) c.writeUInt32LE((i * 2654435761 + j) >>> 0, j);
      yield c;
    }
  };
}

async function digest(it: AsyncIterable<Uint8Array>): Promise<{ hash: string; bytes: number }> {
  const h = createHash("sha256");
  let bytes = 0;
  for await (const c of it) {
    h.update(c);
    bytes += c.length;
  }
  return { hash: h.digest("hex"), bytes };
}

describe("snapshots", () => {
  test("50 MB streams to the peer, which saves it; success is reported", async (t) => {
    let got: { m: Message; hash: string; bytes: number } | undefined;
    const b = await node(2n, {
      handlers: {
        onSnapshot: async (m, data) => {
          got = { m, ...(await digest(data)) };
        },
      },
    });
    const a = await node(1n);
    a.t.addPeer(2n, [b.url]);
    const want = await digest(source(50)());
    const start = performance.now();
    const m = snapMsg(1n, 2n);
    a.t.sendSnapshot(m, source(50));
    await until(() => a.snapshotStatus.length === 1, "snapshot status", 60_000);
    const secs = (performance.now() - start) / 1000;
    assert.deepEqual(a.snapshotStatus, [{ id: 2n, ok: true }]);
    assert.ok(got);
    assert.equal(got.bytes, 50 * MiB);
    assert.equal(got.hash, want.hash);
    assert.deepEqual(got.m, m);
    assert.equal(a.t.peerStats(2n)!.snapshotsSent, 1);
    assert.ok(a.log.lines.some((l) => l.msg === "sent database snapshot"));
    assert.ok(b.log.lines.some((l) => l.msg === "received and saved database snapshot"));
    t.diagnostic(`50 MiB snapshot in ${secs.toFixed(2)} s (${(50 / secs).toFixed(0)} MiB/s)`);
  });

  test("a receiver that fails to save reports failure to the sender", async () => {
    const b = await node(12n, {
      handlers: {
        onSnapshot: async (_m, data) => {
          for await (const _c of data) throw new Error("disk full");
        },
      },
    });
    const a = await node(11n);
    a.t.addPeer(12n, [b.url]);
    a.t.sendSnapshot(snapMsg(11n, 12n), source(20));
    await until(() => a.snapshotStatus.length === 1, "snapshot status");
    assert.deepEqual(a.snapshotStatus, [{ id: 12n, ok: false }]);
    assert.ok(a.unreachable.includes(12n));
    assert.equal(a.t.peerStats(12n)!.snapshotsFailed, 1);
    assert.ok(b.log.lines.some((l) => l.msg === "failed to save incoming database snapshot"));
  });

  test("a sender whose data fails mid-way cuts the request; the receiver sees an error, not an end", async () => {
    let receiverError: string | undefined;
    let receivedBytes = 0;
    const b = await node(22n, {
      handlers: {
        onSnapshot: async (_m, data) => {
          try {
            for await (const c of data) receivedBytes += c.length;
          } catch (err) {
            receiverError = (err as Error).message;
            throw err;
          }
        },
      },
    });
    const a = await node(21n);
    a.t.addPeer(22n, [b.url]);
    a.t.sendSnapshot(snapMsg(21n, 22n), source(10, 5));
    await until(() => a.snapshotStatus.length === 1, "snapshot status");
    assert.deepEqual(a.snapshotStatus, [{ id: 22n, ok: false }]);
    await until(() => receiverError !== undefined, "receiver's data stream fails");
    assert.ok(receivedBytes <= 5 * MiB);
  });

  test("a receiver that stops reading fails the transfer after the idle timeout", async () => {
    let release: () => void = () => {};
    const b = await node(32n, {
      handlers: { onSnapshot: () => new Promise<void>((r) => (release = r)) },
    });
    const a = await node(31n, { snapshotIdleTimeoutMs: 200 });
    a.t.addPeer(32n, [b.url]);
    a.t.sendSnapshot(snapMsg(31n, 32n), source(200));
    await until(() => a.snapshotStatus.length === 1, "snapshot status", 30_000);
    assert.deepEqual(a.snapshotStatus, [{ id: 32n, ok: false }]);
    assert.ok(a.log.lines.some((l) => /idle for 200 ms/.test(String(l.fields?.error))));
    release();
  });

  test("snapshots to unknown peers, MsgSnap in send(), and snapshots from removed members fail", async () => {
    const a = await node(41n);
    a.t.sendSnapshot(snapMsg(41n, 99n), source(1));
    a.t.send([snapMsg(41n, 99n)]);
    await until(() => a.snapshotStatus.length === 2, "two failures");
    assert.deepEqual(a.snapshotStatus, [
      { id: 99n, ok: false },
      { id: 99n, ok: false },
    ]);

    const b = await node(42n);
    b.removed.add(41n);
    a.t.addPeer(42n, [b.url]);
    a.t.sendSnapshot(snapMsg(41n, 42n), source(3));
    await until(() => a.snapshotStatus.length === 3, "refused snapshot");
    assert.deepEqual(a.snapshotStatus[2], { id: 42n, ok: false });
    await until(() => a.removedCalls === 1, "onRemoved");
  });

  test("a dead peer fails the snapshot at once", async () => {
    const b = await node(52n);
    const url = b.url;
    await b.t.close();
    const a = await node(51n);
    a.t.addPeer(52n, [url]);
    a.t.sendSnapshot(snapMsg(51n, 52n), source(1));
    await until(() => a.snapshotStatus.length === 1, "snapshot status");
    assert.deepEqual(a.snapshotStatus, [{ id: 52n, ok: false }]);
  });
});
