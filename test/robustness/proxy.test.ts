// The peer proxy: it reads the sender from X-Server-From before connecting upstream, forwards both ways,
// holds a cut link's connections silent and resets them when the link heals, lets unattributed
// connections through, delays chunks in order, and refuses connections while its member is down.

import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { delay, freePorts } from "../e2e/cluster.js";
import { Network, PeerProxy } from "./proxy.js";

describe("peer proxy", () => {
  let upstream: net.Server;
  let proxy: PeerProxy;
  const network = new Network();
  const received: string[] = [];

  before(async () => {
    const [proxyPort, targetPort] = await freePorts(2);
    // The "member": echoes everything back, prefixed.
    upstream = net.createServer((s) => {
      s.on("data", (c) => {
        received.push(c.toString("latin1"));
        s.write(`echo:${c.toString("latin1")}`);
      });
      s.on("error", () => {});
    });
    await new Promise<void>((r) => upstream.listen(targetPort, "127.0.0.1", () => r()));
    network.register("a1", "A");
    proxy = new PeerProxy("B", proxyPort!, targetPort!, network);
    await proxy.up();
  });
  after(async () => {
    await proxy.close();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  /** A client connection that collects what comes back. */
  async function dial(
    head: string,
  ): Promise<{ sock: net.Socket; got: () => string; closed: Promise<unknown> }> {
    const sock = net.connect({ host: "127.0.0.1", port: proxy.listenPort });
    let buf = "";
    sock.on("data", (c) => {
      buf += c.toString("latin1");
    });
    const closed = new Promise((r) => {
      sock.on("close", r);
      sock.on("error", () => {});
    });
    await once(sock, "connect");
    sock.write(head);
    return { sock, got: () => buf, closed };
  }

  async function waitFor(cond: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await delay(10);
    }
  }

  const streamHead = (from: string | undefined) =>
    `POST /raft/stream/x HTTP/1.1\r\nHost: b\r\n${from ? `X-Server-From: ${from}\r\n` : ""}\r\nbody`;

  test("network rules: cuts are symmetric and healable; unattributed traffic is never cut", () => {
    const n = new Network();
    n.partition([["A"], ["B", "C"]]);
    assert.equal(n.blocked("A", "B"), true);
    assert.equal(n.blocked("C", "A"), true);
    assert.equal(n.blocked("B", "C"), false);
    assert.equal(n.blocked(undefined, "A"), false);
    n.heal();
    n.cutLink("B", "C");
    assert.equal(n.blocked("C", "B"), true);
    assert.equal(n.blocked("A", "B"), false);
    n.register("00ab", "X");
    assert.equal(n.nameOf("ab"), "X");
    assert.equal(n.nameOf("cd"), "id:cd");
  });

  test("forwards after reading the sender; a cut holds it silent; healing resets it", async () => {
    const c = await dial(streamHead("a1"));
    await waitFor(() => c.got().includes("echo:POST /raft/stream/x"), "the head to be forwarded and echoed");
    assert.deepEqual(
      proxy.connections().map((x) => [x.from, x.state]),
      [["A", "open"]],
    );
    network.cutLink("A", "B");
    assert.equal(proxy.connections()[0]!.state, "held");
    const before = c.got().length;
    const seen = received.length;
    c.sock.write("during-the-cut");
    // Nothing may cross while the link is cut (a bounded look: there is no event for "nothing").
    await delay(200);
    assert.equal(c.got().length, before);
    assert.equal(received.length, seen);
    network.heal();
    await c.closed;
    assert.equal(proxy.connections().length, 0);
  });

  test("a new connection on a cut link is held without an upstream; unattributed ones pass", async () => {
    network.cutLink("A", "B");
    const held = await dial(streamHead("a1"));
    const free = await dial(streamHead(undefined));
    await waitFor(() => free.got().includes("echo:"), "the unattributed connection to pass");
    await waitFor(() => proxy.connections().some((x) => x.state === "held"), "the attributed one to be held");
    assert.equal(held.got(), "");
    network.heal();
    await held.closed;
    free.sock.destroy();
    await free.closed;
  });

  test("delay: chunks arrive late and in order", async () => {
    network.delay("A", 80, 40);
    const c = await dial(streamHead("a1"));
    const t0 = performance.now();
    await waitFor(() => c.got().includes("echo:POST"), "the delayed echo");
    // Delayed both ways: at least 2 x (80 - 40) ms.
    assert.ok(performance.now() - t0 >= 75, `round trip took ${performance.now() - t0} ms`);
    for (let i = 0; i < 20; i++) c.sock.write(`<${i}>`);
    await waitFor(() => c.got().includes("<19>"), "all chunks");
    const order = [...c.got().matchAll(/<(\d+)>/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      order.filter((v, i) => order.indexOf(v) === i),
      Array.from({ length: 20 }, (_, i) => i),
    );
    network.heal();
    c.sock.destroy();
    await c.closed;
  });

  test("down refuses connections like a dead process; up accepts again", async () => {
    await proxy.down();
    const refused = net.connect({ host: "127.0.0.1", port: proxy.listenPort });
    const [err] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    assert.equal(err.code, "ECONNREFUSED");
    await proxy.up();
    const c = await dial(streamHead("a1"));
    await waitFor(() => c.got().includes("echo:"), "forwarding after up()");
    c.sock.destroy();
    await c.closed;
    assert.ok(proxy.stats.bySender.A! >= 3);
    assert.ok(proxy.stats.bySender["?"]! >= 1);
  });
});
