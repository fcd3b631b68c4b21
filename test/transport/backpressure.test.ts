// Backpressure: a peer that does not read costs bounded memory; what does not fit is dropped, counted and
// reported, never buffered without bound.

import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { app, startNode, type TestNode, turn, until } from "./helpers.js";

const open: (TestNode | net.Server)[] = [];
after(async () => {
  for (const x of open) {
    if (x instanceof net.Server) {
      x.close();
      continue;
    }
    await x.t.close();
  }
});

/** A TCP server that accepts and never reads; `respond` makes it answer the stream request first. */
async function stuckPeer(respond: boolean): Promise<{ url: string; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((sock) => {
    sockets.push(sock);
    if (!respond) {
      sock.pause();
      return;
    }
    sock.once("data", () => {
      sock.pause();
      sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    });
  });
  server.on("close", () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  open.push(server);
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, sockets };
}

/** A 256-byte (encoded) MsgApp, shared by every send so the test itself allocates nothing per message. */
const m256 = app(1n, 2n, 1, 229);

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe("backpressure", () => {
  test("a peer that accepts the connection and never answers: bounded queue, drops reported", async () => {
    const peer = await stuckPeer(false);
    const a = await startNode(1n, { queueLimit: 1000, dialTimeoutMs: 200 });
    open.push(a);
    a.t.addPeer(2n, [peer.url]);
    const batch = new Array(1000).fill(m256);
    const mem0 = memory();
    let maxQueued = 0;
    // Keep sending until the dial has timed out twice: the queue fills, then everything is dropped.
    for (let i = 0; a.t.peerStats(2n)!.errors < 2; i++) {
      a.t.send(batch);
      maxQueued = Math.max(maxQueued, a.t.peerStats(2n)!.queuedMessages);
      await turn();
      if (i > 1_000_000) assert.fail("dial never timed out");
    }
    const s = a.t.peerStats(2n)!;
    assert.ok(maxQueued <= 1000, `queued ${maxQueued}`);
    assert.ok(s.droppedMessages > 1000, `dropped ${s.droppedMessages}`);
    assert.equal(s.sentMessages, 0);
    assert.ok(a.unreachable.includes(2n));
    assert.ok(peer.sockets.length >= 2, "redialed after the dial timeout");
    const grown = memory() - mem0;
    assert.ok(grown < 64 * 1024 * 1024, `memory grew by ${grown} bytes`);
    assert.ok(a.log.lines.some((l) => l.msg === "dropped internal Raft message"));
  });

  test("a peer that accepts the stream then stops reading: socket and queue stay bounded", async (t) => {
    const peer = await stuckPeer(true);
    const a = await startNode(1n, { queueLimit: 1000, connReadTimeoutMs: 120_000 });
    open.push(a);
    a.t.addPeer(2n, [peer.url]);
    await until(() => a.t.activeSince(2n) !== undefined, "stream accepted");
    const batch = new Array(1000).fill(m256);
    const mem0 = memory();
    let attempted = 0;
    let maxQueued = 0;
    let maxQueuedBytes = 0;
    let maxBuffered = 0;
    // Send until the kernel buffers are full and 200k messages have been dropped.
    while (a.t.peerStats(2n)!.droppedMessages < 200_000) {
      a.t.send(batch);
      attempted += batch.length;
      const s = a.t.peerStats(2n)!;
      maxQueued = Math.max(maxQueued, s.queuedMessages);
      maxQueuedBytes = Math.max(maxQueuedBytes, s.queuedBytes);
      maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
      await turn();
      if (attempted > 5_000_000) assert.fail("the stuck peer never pushed back");
    }
    const s = a.t.peerStats(2n)!;
    assert.ok(s.active, "the stream stays up: a slow reader is not a dead one");
    assert.ok(maxQueued <= 1000, `queued ${maxQueued}`);
    assert.ok(maxQueuedBytes <= 1000 * 256, `queued bytes ${maxQueuedBytes}`);
    assert.ok(maxBuffered <= 2 * 1024 * 1024, `socket buffered ${maxBuffered}`);
    assert.equal(s.sentMessages + s.droppedMessages + s.queuedMessages, attempted);
    assert.ok(a.unreachable.includes(2n));
    const grown = memory() - mem0;
    assert.ok(grown < 64 * 1024 * 1024, `memory grew by ${grown} bytes`);
    t.diagnostic(
      `stuck reader: ${attempted} attempted, ${s.sentMessages} sent into the kernel, ` +
        `${s.droppedMessages} dropped, memory +${(grown / 1048576).toFixed(1)} MiB`,
    );
  });

  test("the byte bound drops large messages before the message bound is reached", async () => {
    const peer = await stuckPeer(false);
    const a = await startNode(1n, { queueLimit: 1000, queueBytesLimit: 1024 * 1024, dialTimeoutMs: 60_000 });
    open.push(a);
    a.t.addPeer(2n, [peer.url]);
    const big = app(1n, 2n, 1, 100_000);
    a.t.send(new Array(20).fill(big));
    const s = a.t.peerStats(2n)!;
    assert.equal(s.queuedMessages, 10);
    assert.ok(s.queuedBytes <= 1024 * 1024);
    assert.equal(s.droppedMessages, 10);
    await until(() => a.unreachable.length === 1, "reported once per send call");
    // One message larger than the whole byte bound still goes out alone (it is never split).
    const b = await startNode(3n, { queueBytesLimit: 1000 });
    open.push(b);
    const c = await startNode(4n);
    open.push(c);
    b.t.addPeer(4n, [c.url]);
    b.t.send([app(3n, 4n, 1, 5000)]);
    await until(() => c.received.length === 1, "oversized message delivered");
  });
});
