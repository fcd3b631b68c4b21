// Message streams between real transports on 127.0.0.1: order, completeness, reconnection, URL changes.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type Message, MessageType, msg } from "../../src/raft/types.js";
import { PeerTransport } from "../../src/transport/index.js";
import {
  allActive,
  app,
  checkApp,
  mesh,
  rawRequest,
  sendPaced,
  startNode,
  type TestNode,
  until,
} from "./helpers.js";

const open: TestNode[] = [];
async function node(id: bigint, opts: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const n = await startNode(id, opts);
  open.push(n);
  return n;
}
after(async () => {
  await Promise.all(open.map((n) => n.t.close()));
});

describe("message streams", () => {
  test("three members exchange 10k messages per ordered pair, complete and in order", async () => {
    const nodes = [await node(1n), await node(2n), await node(3n)];
    mesh(nodes);
    await allActive(nodes);
    const N = 10_000;
    await Promise.all(
      nodes.map(async (a) => {
        const msgs: Message[] = [];
        // Interleave the destinations, as a leader's Ready does.
        for (let i = 1; i <= N; i++) for (const b of nodes) if (b !== a) msgs.push(app(a.id, b.id, i, 64));
        await sendPaced(a.t, msgs);
      }),
    );
    await until(() => nodes.every((n) => n.received.length === 2 * N), "every message delivered", 60_000);
    for (const b of nodes) {
      const next = new Map<bigint, number>();
      for (const m of b.received) {
        const want = (next.get(m.from) ?? 0) + 1;
        assert.ok(checkApp(m, want, 64), `member ${b.id}: message from ${m.from} is #${want}`);
        assert.equal(m.to, b.id);
        next.set(m.from, want);
      }
      for (const a of nodes) if (a !== b) assert.equal(next.get(a.id), N);
    }
    for (const a of nodes) {
      for (const s of a.t.stats()) {
        assert.equal(s.droppedMessages, 0);
        assert.equal(s.sentMessages, N);
        assert.equal(s.receivedMessages, N);
        assert.equal(s.errors, 0);
      }
      assert.deepEqual(a.unreachable, []);
    }
  });

  test("every message type and field crosses the wire intact", async () => {
    const a = await node(11n);
    const b = await node(12n);
    mesh([a, b]);
    const sent: Message[] = [
      msg({
        type: MessageType.MsgHeartbeat,
        from: 11n,
        to: 12n,
        term: 9,
        commit: 4,
        context: Uint8Array.of(1, 2),
      }),
      msg({ type: MessageType.MsgVote, from: 11n, to: 12n, term: 10, logTerm: 9, index: 44 }),
      msg({
        type: MessageType.MsgAppResp,
        from: 11n,
        to: 12n,
        term: 10,
        index: 3,
        reject: true,
        rejectHint: 2,
      }),
      msg({ type: MessageType.MsgTimeoutNow, from: 11n, to: 12n, term: 2 ** 40 }),
      app(11n, 12n, 1, 100_000),
    ];
    // Sent before the stream is up: queued while connecting, not lost.
    a.t.send(sent);
    await until(() => b.received.length === sent.length, "delivery");
    assert.deepEqual(b.received, sent);
  });

  test("messages to unknown peers, to self, and after close are ignored", async () => {
    const a = await node(21n);
    a.t.send([app(21n, 99n, 1), app(21n, 21n, 1)]);
    assert.deepEqual(a.t.stats(), []);
    await a.t.close();
    a.t.send([app(21n, 99n, 1)]);
    await a.t.close();
  });

  test("a restarted peer is reconnected to and messages flow again", async () => {
    const a = await node(31n);
    const b = await node(32n);
    mesh([a, b]);
    await allActive([a, b]);
    a.t.send([app(31n, 32n, 1)]);
    await until(() => b.received.length === 1, "first message");
    const firstActive = a.t.activeSince(32n)!;

    const port = new URL(b.url).port;
    const down: bigint[] = [];
    a.t.onPeerDown = (id) => down.push(id);
    await b.t.close();
    await until(() => a.t.activeSince(32n) === undefined, "stream seen down");
    // Nothing listens at b's URL any more: a is told once that b's process is gone.
    await until(() => down.length === 1, "peer reported down");
    assert.deepEqual(down, [32n]);
    await until(() => a.unreachable.includes(32n), "peer reported unreachable");
    await until(() => a.t.peerStats(32n)!.errors >= 2, "failed redials");
    // While down, a send is dropped at once (or queued during a redial), never buffered without bound.
    const before = a.t.peerStats(32n)!;
    a.t.send([app(31n, 32n, 2)]);
    const s = a.t.peerStats(32n)!;
    assert.equal(s.droppedMessages + s.queuedMessages, before.droppedMessages + before.queuedMessages + 1);

    const b2 = await node(32n, { listenUrls: [new URL(`http://127.0.0.1:${port}`)] });
    await until(() => a.t.activeSince(32n) !== undefined, "reconnected");
    assert.equal(down.length, 1, "reported once per outage");
    assert.ok(a.t.activeSince(32n)! >= firstActive);
    a.t.send([app(31n, 32n, 3)]);
    await until(() => b2.received.length === 1, "message after restart");
    assert.ok(checkApp(b2.received[0], 3));
    assert.ok(a.log.lines.some((l) => l.msg === "lost TCP streaming connection with remote peer"));
  });

  test("updatePeer moves the stream to the new address", async () => {
    const a = await node(41n);
    const old = await node(42n);
    const moved = await node(42n);
    a.t.addPeer(42n, [old.url]);
    await until(() => a.t.activeSince(42n) !== undefined, "stream to the old address");
    a.t.send([app(41n, 42n, 1)]);
    await until(() => old.received.length === 1, "delivery at the old address");

    a.t.updatePeer(42n, [moved.url]);
    assert.equal(a.t.activeSince(42n), undefined, "the old stream is closed at once");
    await until(() => a.t.activeSince(42n) !== undefined, "stream to the new address");
    assert.equal(a.t.peerStats(42n)!.url, `${moved.url}/`);
    a.t.send([app(41n, 42n, 2), app(41n, 42n, 3)]);
    await until(() => moved.received.length === 2, "delivery at the new address");
    assert.equal(old.received.length, 1);
    assert.ok(checkApp(moved.received[0], 2));

    // An update that keeps the URL in use keeps the stream.
    const since = a.t.activeSince(42n);
    a.t.updatePeer(42n, [old.url, moved.url]);
    assert.equal(a.t.activeSince(42n), since);
  });

  test("a member with several peer URLs is reached through the first that works", async () => {
    const dead = await node(51n);
    const deadUrl = dead.url;
    await dead.t.close();
    const a = await node(52n);
    const b = await node(53n);
    a.t.addPeer(53n, [deadUrl, b.url]);
    await until(() => a.t.activeSince(53n) !== undefined, "stream through the second URL");
    assert.equal(a.t.peerStats(53n)!.url, `${b.url}/`);
    a.t.send([app(52n, 53n, 1)]);
    await until(() => b.received.length === 1, "delivery");
  });

  test("a member not yet known is answered at the URLs it advertises", async () => {
    const b = await node(112n);
    const a = await node(111n);
    const c = await node(113n, { advertiseUrls: [a.url] });
    // c claims a's URL, so the reply path is visible: b dials what the stream advertised.
    c.t.addPeer(112n, [b.url]);
    c.t.send([app(113n, 112n, 1)]);
    await until(() => b.received.length === 1, "delivery from the unknown member");
    assert.ok(b.t.hasPeer(113n), "b dials the unknown member back");
    assert.equal(b.t.peerStats(113n)!.url, `${a.url}/`);
    assert.ok(b.log.lines.some((l) => l.msg === "added new remote peer"));
    // Adopting it with addPeer updates the URLs.
    b.t.addPeer(113n, [c.url]);
    await until(
      () => b.t.peerStats(113n)!.url === `${c.url}/` && b.t.activeSince(113n) !== undefined,
      "adopted",
    );
    b.t.send([app(112n, 113n, 7)]);
    await until(() => c.received.length === 1, "reply delivered");
  });

  test("the prober measures the round trip", async () => {
    const a = await node(61n, { probeIntervalMs: 20 });
    const b = await node(62n);
    const samples: number[] = [];
    a.t.onProbe = (id, rtt) => {
      assert.equal(id, 62n);
      samples.push(rtt);
    };
    a.t.addPeer(62n, [b.url]);
    await until(() => samples.length >= 3, "three probes");
    const s = a.t.peerStats(62n)!;
    assert.ok(s.rttSeconds !== undefined && s.rttSeconds > 0 && s.rttSeconds < 1, `rtt ${s.rttSeconds}`);
    assert.equal(s.probeFailures, 0);
  });

  test("a peer that answers 200 then goes silent is declared dead and redialed", async () => {
    const net = await import("node:net");
    let accepted = 0;
    const server = net.createServer((sock) => {
      accepted++;
      sock.once("data", () => {
        sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const a = await node(71n, { connReadTimeoutMs: 300, heartbeatMs: 50 });
    a.t.addPeer(72n, [`http://127.0.0.1:${port}`]);
    await until(
      () => a.log.lines.some((l) => l.msg === "established TCP streaming connection with remote peer"),
      "stream accepted",
    );
    await until(() => a.t.peerStats(72n)!.errors >= 1, "silence detected");
    await until(() => accepted >= 2, "redialed");
    assert.ok(a.unreachable.includes(72n));
    const lost = a.log.lines.find((l) => l.msg === "lost TCP streaming connection with remote peer");
    assert.match(String(lost?.fields?.error), /no data from the peer/);
    await a.t.close();
    server.close();
    await new Promise<void>((r) => server.once("close", r));
  });

  test("idle streams stay up on heartbeats alone", async () => {
    const a = await node(81n, { connReadTimeoutMs: 400, heartbeatMs: 30 });
    const b = await node(82n, { connReadTimeoutMs: 400, heartbeatMs: 30 });
    mesh([a, b]);
    await allActive([a, b]);
    const since = a.t.activeSince(82n);
    // No messages: wait until b has read 50 heartbeat frames (4 bytes each), several read timeouts' worth.
    await until(() => b.t.peerStats(81n)!.receivedBytes >= 200, "50 heartbeats");
    assert.equal(b.t.peerStats(81n)!.receivedMessages, 0);
    assert.equal(a.t.activeSince(82n), since);
    assert.equal(a.t.peerStats(82n)!.errors, 0);
    a.t.send([app(81n, 82n, 1)]);
    await until(() => b.received.length === 1, "delivery after idleness");
  });

  test("removePeer stops both directions", async () => {
    const a = await node(91n);
    const b = await node(92n);
    mesh([a, b]);
    await allActive([a, b]);
    a.t.removePeer(92n);
    assert.equal(a.t.hasPeer(92n), false);
    assert.equal(a.t.activeSince(92n), undefined);
    // b's stream into a was closed too; b redials and a accepts again (a does not know b is removed).
    await until(() => b.t.peerStats(91n)!.errors >= 1, "b's stream closed");
    a.t.send([app(91n, 92n, 1)]);
    assert.equal(b.received.length, 0);
  });

  test("the peer port serves extra endpoints through httpHandler, 404 otherwise", async () => {
    const a = await node(101n, {
      handlers: {
        httpHandler: (req, res) => {
          if (req.url !== "/members") return false;
          res.writeHead(200, { "content-type": "application/json" });
          res.end('[{"id":"65"}]');
          return true;
        },
      },
    });
    const members = await rawRequest(a.url, "GET", "/members");
    assert.equal(members.status, 200);
    assert.equal(members.body, '[{"id":"65"}]');
    assert.equal(members.headers["x-etcd-cluster-id"], "1000");
    const other = await rawRequest(a.url, "GET", "/nothing");
    assert.equal(other.status, 404);
    const wrongMethod = await rawRequest(a.url, "GET", "/raft/stream/1", { "x-etcd-cluster-id": "1000" });
    assert.equal(wrongMethod.status, 405);
  });

  test("a transport can be closed before and after start", async () => {
    const t = new PeerTransport({
      memberId: 1n,
      clusterId: 1n,
      listenUrls: [],
      handlers: { onMessage: () => {}, onSnapshot: async () => {}, isRemoved: () => false },
    });
    await t.close();
    await assert.rejects(t.start(), /start\(\) when closed/);
  });
});
