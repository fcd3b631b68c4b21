// Entries committed per second through a 3-node in-memory cluster: no disk, no network, one core.
// The leader takes proposals in batches (as the server's request loop does), every node runs the Ready
// loop, and messages are delivered in rounds. The log is compacted as it grows, as a server would.
//
//   npm run bench:raft -- [--seconds 5] [--batch 256] [--size 256]

import { decodeConfChange } from "../src/raft/codec.js";
import { seededRand } from "../src/raft/rand.js";
import { RawNode, StateType } from "../src/raft/rawnode.js";
import { MemoryStorage } from "../src/raft/storage.js";
import { EntryType, type Message, type NodeId } from "../src/raft/types.js";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const seconds = arg("seconds", 5);
const batch = arg("batch", 256);
const size = arg("size", 256);
const ids: NodeId[] = [1n, 2n, 3n];
const stores = new Map<NodeId, MemoryStorage>();
const nodes = new Map<NodeId, RawNode>();
const appliedCount = new Map<NodeId, number>();
for (const id of ids) {
  const storage = MemoryStorage.withMembers(ids);
  stores.set(id, storage);
  appliedCount.set(id, 0);
  nodes.set(
    id,
    new RawNode({
      id,
      electionTick: 10,
      heartbeatTick: 1,
      storage,
      rand: seededRand(Number(id)),
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      preVote: true,
      checkQuorum: true,
    }),
  );
}

let queue: Message[] = [];
function pump(): void {
  for (;;) {
    let progress = false;
    for (const [id, rn] of nodes) {
      if (!rn.hasReady()) continue;
      progress = true;
      const rd = rn.ready();
      const st = stores.get(id)!;
      if (rd.snapshot) st.applySnapshot(rd.snapshot);
      st.append(rd.entries);
      if (rd.hardState) st.setHardState(rd.hardState);
      for (const m of rd.messages) queue.push(m);
      let n = 0;
      for (const e of rd.committedEntries) {
        if (e.type === EntryType.ConfChange) rn.applyConfChange(decodeConfChange(e.data));
        else if (e.data.length > 0) n++;
      }
      appliedCount.set(id, appliedCount.get(id)! + n);
      rn.advance(rd);
      const applied = rn.raft.raftLog.applied;
      // Keep the in-memory log short, as a server's snapshot-count does.
      if (applied - st.firstIndex() > 50_000) st.compact(applied - 10_000);
    }
    if (queue.length > 0) {
      progress = true;
      const q = queue;
      queue = [];
      for (const m of q) nodes.get(m.to)!.step(m);
    }
    if (!progress) return;
  }
}

nodes.get(1n)!.campaign();
pump();
if (nodes.get(1n)!.status().raftState !== StateType.Leader) throw new Error("node 1 did not become leader");

const payload = new Uint8Array(size).fill(120);
const leader = nodes.get(1n)!;
const start = process.hrtime.bigint();
const deadline = start + BigInt(seconds * 1e9);
let proposed = 0;
while (process.hrtime.bigint() < deadline) {
  for (let i = 0; i < batch; i++) leader.propose(payload);
  proposed += batch;
  pump();
}
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
const committed = Math.min(...ids.map((id) => appliedCount.get(id)!));
const rate = committed / elapsed;
console.log(
  JSON.stringify({
    bench: "raft-3-node-in-memory",
    batch,
    entryBytes: size,
    seconds: Number(elapsed.toFixed(2)),
    proposed,
    appliedOnAllNodes: committed,
    entriesPerSecond: Math.round(rate),
    goal: 200_000,
    met: rate >= 200_000,
  }),
);
