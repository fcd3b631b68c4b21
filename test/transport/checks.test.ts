// Who may talk: cluster-ID check on every request, the To check, and removed members (410 Gone).

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { TEXT_MEMBER_REMOVED } from "../../src/transport/index.js";
import { allActive, app, mesh, rawRequest, startNode, type TestNode, until } from "./helpers.js";

const open: TestNode[] = [];
async function node(id: bigint, opts: Parameters<typeof startNode>[1] = {}): Promise<TestNode> {
  const n = await startNode(id, opts);
  open.push(n);
  return n;
}
after(async () => {
  await Promise.all(open.map((n) => n.t.close()));
});

const streamHeaders = (cluster: string, from: string, to: string): Record<string, string> => ({
  "x-etcd-cluster-id": cluster,
  "x-server-from": from,
  "x-raft-to": to,
});

describe("request checks", () => {
  test("a member of another cluster is refused with 412 and both sides log the IDs", async () => {
    const a = await node(1n, { clusterId: 0xaaaan });
    const b = await node(2n, { clusterId: 0xbbbbn });
    a.t.addPeer(2n, [b.url]);
    await until(
      () => a.log.lines.some((l) => l.msg === "request sent was ignored due to cluster ID mismatch"),
      "sender logs the mismatch",
    );
    const recv = b.log.lines.find((l) => l.msg === "request cluster ID mismatch");
    assert.ok(recv, "receiver logs the mismatch");
    assert.equal(recv.level, "warn");
    assert.equal(recv.fields?.["local-member-cluster-id"], "bbbb");
    assert.equal(recv.fields?.["remote-peer-cluster-id"], "aaaa");
    assert.equal(recv.fields?.["remote-peer-id"], "1");
    assert.match(String(recv.fields?.["remote-addr"]), /^127\.0\.0\.1:\d+$/);
    const sent = a.log.lines.find((l) => l.msg === "request sent was ignored due to cluster ID mismatch")!;
    assert.equal(sent.level, "error");
    assert.equal(sent.fields?.["local-member-cluster-id"], "aaaa");
    assert.equal(sent.fields?.["remote-peer-cluster-id"], "bbbb");
    assert.equal(sent.fields?.status, 412);
    assert.equal(sent.fields?.body, "cluster ID mismatch");

    assert.equal(a.t.activeSince(2n), undefined);
    a.t.send([app(1n, 2n, 1)]);
    await until(() => a.unreachable.includes(2n), "dropped send reported");
    assert.equal(b.received.length, 0);
  });

  test("every raft endpoint checks the cluster ID", async () => {
    const b = await node(12n, { clusterId: 0x77n });
    for (const [method, path] of [
      ["POST", "/raft/stream/b"],
      ["POST", "/raft/snapshot"],
      ["GET", "/raft/probing"],
    ]) {
      const missing = await rawRequest(b.url, method, path, { "x-raft-to": "c" });
      assert.equal(missing.status, 412, `${path} without a cluster ID`);
      assert.equal(missing.body, "cluster ID mismatch\n");
      const wrong = await rawRequest(b.url, method, path, streamHeaders("78", "b", "c"));
      assert.equal(wrong.status, 412, `${path} with another cluster ID`);
      assert.equal(wrong.headers["x-etcd-cluster-id"], "77");
    }
    const probe = await rawRequest(b.url, "GET", "/raft/probing", { "x-etcd-cluster-id": "77" });
    assert.equal(probe.status, 200);
    assert.equal(JSON.parse(probe.body).OK, true);
  });

  test("a stream addressed to another member is refused: to field mismatch", async () => {
    const b = await node(22n);
    const r = await rawRequest(b.url, "POST", "/raft/stream/15", streamHeaders("1000", "15", "17"));
    assert.equal(r.status, 412);
    assert.equal(r.body, "to field mismatch\n");
    const bad = await rawRequest(b.url, "POST", "/raft/stream/xyz", streamHeaders("1000", "15", "16"));
    assert.equal(bad.status, 404);
    assert.equal(bad.body, "invalid from\n");
  });

  test("a removed member gets 410 Gone with etcd's text, and its onRemoved fires once", async () => {
    const a = await node(31n);
    const b = await node(32n);
    const c = await node(33n);
    b.removed.add(31n);
    c.removed.add(31n);
    a.t.addPeer(32n, [b.url]);
    a.t.addPeer(33n, [c.url]);
    await until(() => a.removedCalls === 1, "onRemoved");
    await until(
      () => a.t.peerStats(32n)!.errors >= 2 && a.t.peerStats(33n)!.errors >= 2,
      "both refuse again",
    );
    assert.equal(a.removedCalls, 1, "called once");
    assert.ok(a.log.lines.some((l) => l.level === "error" && l.msg === TEXT_MEMBER_REMOVED));
    assert.ok(b.log.lines.some((l) => l.msg === "rejected stream from remote peer because it was removed"));
    const raw = await rawRequest(b.url, "POST", "/raft/stream/1f", streamHeaders("1000", "1f", "20"));
    assert.equal(raw.status, 410);
    assert.equal(raw.body, "the member has been permanently removed from the cluster\n");
  });

  test("a member removed while its stream is open is cut off and learns it on reconnecting", async () => {
    const a = await node(41n);
    const b = await node(42n);
    mesh([a, b]);
    await allActive([a, b]);
    a.t.send([app(41n, 42n, 1)]);
    await until(() => b.received.length === 1, "delivery while a member");
    b.removed.add(41n);
    a.t.send([app(41n, 42n, 2)]);
    await until(() => a.removedCalls === 1, "onRemoved after the cut");
    assert.equal(b.received.length, 1, "nothing from a removed member reaches raft");
    assert.ok(b.log.lines.some((l) => l.msg === "closed stream from removed member"));
  });

  test("messages whose from/to disagree with the stream are dropped", async () => {
    const { encodeMessage } = await import("../../src/raft/codec.js");
    const { encodeFrames } = await import("../../src/transport/frame.js");
    const b = await node(52n);
    const payloads = [app(51n, 52n, 1), app(50n, 52n, 2), app(51n, 53n, 3), app(51n, 52n, 4)].map(
      encodeMessage,
    );
    const body = encodeFrames(
      payloads,
      payloads.reduce((n, p) => n + p.length, 0),
    );
    // A sender that writes its frames and ends the request.
    const r = await rawRequest(b.url, "POST", "/raft/stream/33", streamHeaders("1000", "33", "34"), body);
    assert.equal(r.status, 200);
    assert.deepEqual(
      b.received.map((m) => m.entries[0].index),
      [1, 4],
    );
    assert.ok(b.log.lines.some((l) => l.msg === "ignored Raft message with unexpected from/to"));
  });

  test("garbage on a stream closes it", async () => {
    const b = await node(62n);
    const garbage = Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff]);
    await rawRequest(b.url, "POST", "/raft/stream/3d", streamHeaders("1000", "3d", "3e"), garbage).catch(
      () => undefined,
    );
    await until(
      () => b.log.lines.some((l) => l.msg === "failed to read Raft message"),
      "decode failure logged",
    );
    assert.equal(b.received.length, 0);
  });
});
