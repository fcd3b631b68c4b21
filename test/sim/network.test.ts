// The simulated network: delays, losses, duplicates, partitions (symmetric and one-way), banning, and
// the snapshot status reports a real transport gives.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Message, MessageType, msg, type NodeId } from "../../src/raft/types.js";
import { Network, type NetworkFaults } from "../../src/sim/network.js";
import { derivedRand } from "../../src/sim/seeds.js";

interface Recorder {
  net: Network;
  got: Message[];
  snaps: { leader: NodeId; follower: NodeId; ok: boolean }[];
}

function setup(faults: Partial<NetworkFaults> = {}, seed = 1): Recorder {
  const got: Message[] = [];
  const snaps: Recorder["snaps"] = [];
  const net = new Network(
    derivedRand(seed, 1),
    { dropRate: 0, dupRate: 0, maxDelay: 0, ...faults },
    {
      deliver: (m) => {
        got.push(m);
        return true;
      },
      snapshotStatus: (leader, follower, ok) => snaps.push({ leader, follower, ok }),
    },
  );
  return { net, got, snaps };
}

const app = (from: number, to: number, index = 0): Message =>
  msg({ type: MessageType.MsgApp, from: BigInt(from), to: BigInt(to), index });

/** Delivers everything within `ticks` ticks. */
function run(net: Network, ticks: number): void {
  for (let i = 0; i < ticks; i++) {
    net.deliverDue();
    net.now++;
  }
}

describe("network", () => {
  test("delivers every message within maxDelay ticks, as a copy", () => {
    const { net, got } = setup({ maxDelay: 3 });
    const sent = app(1, 2, 5);
    for (let i = 0; i < 50; i++) net.send(app(1, 2, i));
    net.send(sent);
    run(net, 4);
    assert.equal(got.length, 51);
    assert.equal(net.pending(), 0);
    const copy = got.find((m) => m.index === 5 && m !== sent);
    assert.ok(copy !== undefined);
  });

  test("delays reorder messages on one link", () => {
    const { net, got } = setup({ maxDelay: 3 });
    for (let i = 0; i < 50; i++) net.send(app(1, 2, i));
    run(net, 4);
    const order = got.map((m) => m.index);
    assert.notDeepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
  });

  test("drops and duplicates at the configured rates, but never duplicates proposals", () => {
    const { net, got } = setup({ dropRate: 0.2, dupRate: 0.2 });
    for (let i = 0; i < 1000; i++) net.send(app(1, 2, i));
    for (let i = 0; i < 200; i++) net.send(msg({ type: MessageType.MsgProp, from: 1n, to: 2n, index: i }));
    run(net, 1);
    assert.ok(net.stats.dropped > 150 && net.stats.dropped < 300, `dropped ${net.stats.dropped}`);
    assert.ok(net.stats.duplicated > 100 && net.stats.duplicated < 250, `duplicated ${net.stats.duplicated}`);
    const props = got.filter((m) => m.type === MessageType.MsgProp).map((m) => m.index);
    assert.equal(new Set(props).size, props.length);
  });

  test("a symmetric partition cuts both ways; a cut link only one way; heal restores", () => {
    const { net, got } = setup();
    net.partition([1n], [2n, 3n]);
    net.cut(2n, 3n);
    for (const [a, b] of [
      [1, 2],
      [2, 1],
      [2, 3],
      [3, 2],
    ] as const)
      net.send(app(a, b));
    run(net, 1);
    assert.deepEqual(
      got.map((m) => `${m.from}->${m.to}`),
      ["3->2"],
    );
    net.heal();
    net.send(app(1, 2));
    run(net, 1);
    assert.equal(got.length, 2);
  });

  test("a partition also loses what is in flight; banned IDs get nothing", () => {
    const { net, got } = setup({ maxDelay: 0 });
    net.send(app(1, 2));
    net.partition([1n], [2n]);
    run(net, 1);
    assert.equal(got.length, 0);
    net.heal();
    net.ban(2n);
    net.send(app(1, 2));
    net.send(app(2, 1));
    run(net, 1);
    assert.equal(got.length, 0);
  });

  test("reports each snapshot as delivered or failed", () => {
    const { net, snaps } = setup();
    net.send(msg({ type: MessageType.MsgSnap, from: 1n, to: 2n }));
    net.partition([1n], [3n]);
    net.send(msg({ type: MessageType.MsgSnap, from: 1n, to: 3n }));
    run(net, 1);
    assert.deepEqual(snaps, [
      { leader: 1n, follower: 3n, ok: false },
      { leader: 1n, follower: 2n, ok: true },
    ]);
  });

  test("equal seeds deliver in equal order", () => {
    const orders = [1, 1, 2].map((seed) => {
      const { net, got } = setup({ maxDelay: 2, dropRate: 0.1, dupRate: 0.1 }, seed);
      for (let i = 0; i < 100; i++) net.send(app(1 + (i % 3), 1 + ((i + 1) % 3), i));
      run(net, 3);
      return got.map((m) => m.index).join(",");
    });
    assert.equal(orders[0], orders[1]);
    assert.notEqual(orders[0], orders[2]);
  });
});
