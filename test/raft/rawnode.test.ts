import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeConfChange } from "../../src/raft/codec.js";
import { seededRand } from "../../src/raft/rand.js";
import { RawNode, StateType } from "../../src/raft/rawnode.js";
import { MemoryStorage } from "../../src/raft/storage.js";
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  type Message,
  type NodeId,
} from "../../src/raft/types.js";

/** A tiny synchronous cluster: every node persists, sends and applies on each pump. */
class Cluster {
  nodes = new Map<NodeId, RawNode>();
  stores = new Map<NodeId, MemoryStorage>();
  applied = new Map<NodeId, string[]>();
  queue: Message[] = [];

  constructor(ids: NodeId[], seed = 1) {
    for (const id of ids) this.addNode(id, ids, seed);
  }

  addNode(id: NodeId, voters: NodeId[], seed = 1): void {
    const storage = MemoryStorage.withMembers(voters);
    this.stores.set(id, storage);
    this.applied.set(id, []);
    this.nodes.set(
      id,
      new RawNode({
        id,
        electionTick: 10,
        heartbeatTick: 1,
        storage,
        rand: seededRand(seed + Number(id)),
        preVote: true,
        checkQuorum: true,
      }),
    );
  }

  pump(): void {
    for (let round = 0; round < 1000; round++) {
      let progress = false;
      for (const [id, rn] of this.nodes) {
        while (rn.hasReady()) {
          progress = true;
          const rd = rn.ready();
          const st = this.stores.get(id)!;
          if (rd.snapshot) {
            st.applySnapshot(rd.snapshot);
            this.applied.set(id, JSON.parse(new TextDecoder().decode(rd.snapshot.data)));
          }
          st.append(rd.entries);
          if (rd.hardState) st.setHardState(rd.hardState);
          this.queue.push(...rd.messages);
          for (const e of rd.committedEntries) {
            if (e.type === EntryType.ConfChange) rn.applyConfChange(decodeConfChange(e.data));
            else if (e.data.length > 0) this.applied.get(id)!.push(new TextDecoder().decode(e.data));
          }
          rn.advance(rd);
        }
      }
      const q = this.queue;
      this.queue = [];
      for (const m of q) {
        progress = true;
        this.nodes.get(m.to)?.step(m);
      }
      if (!progress) return;
    }
    throw new Error("cluster did not settle");
  }

  leader(): NodeId | undefined {
    for (const [id, rn] of this.nodes) if (rn.status().raftState === StateType.Leader) return id;
    return undefined;
  }
}

test("three nodes elect a leader and replicate proposals", () => {
  const c = new Cluster([1n, 2n, 3n]);
  c.nodes.get(1n)!.campaign();
  c.pump();
  assert.equal(c.leader(), 1n);
  c.nodes.get(1n)!.propose(new TextEncoder().encode("a"));
  c.nodes.get(2n)!.propose(new TextEncoder().encode("b"));
  c.pump();
  for (const id of [1n, 2n, 3n]) assert.deepEqual(c.applied.get(id), ["a", "b"]);
});

test("ticks alone elect exactly one leader", () => {
  const c = new Cluster([1n, 2n, 3n], 7);
  for (let i = 0; i < 40 && c.leader() === undefined; i++) {
    for (const rn of c.nodes.values()) rn.tick();
    c.pump();
  }
  assert.notEqual(c.leader(), undefined);
});

test("a single node commits on its own", () => {
  const c = new Cluster([1n]);
  c.nodes.get(1n)!.campaign();
  c.pump();
  c.nodes.get(1n)!.propose(new TextEncoder().encode("x"));
  c.pump();
  assert.deepEqual(c.applied.get(1n), ["x"]);
});

test("a fourth node added by conf change catches up from a snapshot", () => {
  const c = new Cluster([1n, 2n, 3n]);
  c.nodes.get(1n)!.campaign();
  c.pump();
  c.nodes.get(1n)!.propose(new TextEncoder().encode("a"));
  c.pump();
  c.nodes.get(1n)!.proposeConfChange({
    transition: ConfChangeTransition.Auto,
    changes: [{ type: ConfChangeType.AddNode, nodeId: 4n }],
    context: new Uint8Array(),
  });
  c.pump();
  // A new member has no log at all: it starts from a snapshot that includes its own membership.
  const st = c.stores.get(1n)!;
  const applied = c.nodes.get(1n)!.status().applied;
  st.createSnapshot(
    applied,
    c.nodes.get(1n)!.status().config,
    new TextEncoder().encode(JSON.stringify(c.applied.get(1n))),
  );
  st.compact(applied);
  // Node 4 comes up only now, so the entries it would need were compacted away.
  c.addNode(4n, []);
  for (let i = 0; i < 3; i++) {
    c.nodes.get(1n)!.tick();
    c.pump();
  }
  c.nodes.get(1n)!.reportSnapshot(4n, true);
  for (let i = 0; i < 3; i++) {
    c.nodes.get(1n)!.tick();
    c.pump();
  }
  c.nodes.get(1n)!.propose(new TextEncoder().encode("b"));
  c.pump();
  assert.deepEqual(c.applied.get(4n), ["a", "b"]);
  assert.deepEqual(c.nodes.get(4n)!.status().config.voters, [1n, 2n, 3n, 4n]);
});
