// Listening on the peer URLs: exact addresses, several URLs, clear errors.

import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { ListenError, PeerTransport } from "../../src/transport/index.js";
import { app, startNode, type TestNode, until } from "./helpers.js";

const open: TestNode[] = [];
after(async () => {
  await Promise.all(open.map((n) => n.t.close()));
});

const handlers = { onMessage: () => {}, onSnapshot: async () => {}, isRemoved: () => false };

function transport(urls: string[]): PeerTransport {
  return new PeerTransport({
    memberId: 9n,
    clusterId: 1n,
    listenUrls: urls.map((u) => new URL(u)),
    handlers,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("listeners", () => {
  test("a port in use fails start() with Go's message", async () => {
    const a = await startNode(1n);
    open.push(a);
    const port = new URL(a.url).port;
    const t = transport([`http://127.0.0.1:${port}`]);
    await assert.rejects(t.start(), (err: unknown) => {
      assert.ok(err instanceof ListenError);
      assert.equal(err.message, `listen tcp 127.0.0.1:${port}: bind: address already in use`);
      assert.equal(err.code, "EADDRINUSE");
      return true;
    });
    await t.close();
  });

  test("when one URL fails, the ones already bound are released", async () => {
    const a = await startNode(1n);
    open.push(a);
    const busy = new URL(a.url).port;
    const first = await freePort();
    const t = transport([`http://127.0.0.1:${first}`, `http://127.0.0.1:${busy}`]);
    await assert.rejects(t.start(), /listen tcp 127\.0\.0\.1:\d+: bind: address already in use/);
    // The first port is free again.
    const s = net.createServer();
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(first, "127.0.0.1", resolve);
    });
    await new Promise<void>((r) => s.close(() => r()));
  });

  test("an address that is not ours cannot be bound", async () => {
    const t = transport(["http://192.0.2.1:2380"]);
    await assert.rejects(
      t.start(),
      /^ListenError: listen tcp 192\.0\.2\.1:2380: bind: cannot assign requested address$/,
    );
  });

  test("every listen URL serves, and listenUrls() reports the bound ports", async () => {
    const b = await startNode(2n, {
      listenUrls: [new URL("http://127.0.0.1:0"), new URL("http://127.0.0.1:0")],
    });
    open.push(b);
    const urls = b.t.listenUrls();
    assert.equal(urls.length, 2);
    assert.notEqual(urls[0].port, urls[1].port);
    assert.ok(urls.every((u) => u.hostname === "127.0.0.1" && Number(u.port) > 0));
    for (const [i, u] of urls.entries()) {
      const a = await startNode(BigInt(10 + i));
      open.push(a);
      a.t.addPeer(2n, [u.href]);
      a.t.send([app(a.id, 2n, i + 1)]);
    }
    await until(() => b.received.length === 2, "a message through each URL");
  });

  test("the plain PeerNet refuses https peer URLs (TlsPeerNet serves them)", async () => {
    const t = transport(["https://127.0.0.1:0"]);
    await assert.rejects(t.start(), /only http:\/\/ peer URLs are supported/);
  });
});
