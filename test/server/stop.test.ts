// Stopping a member is idempotent and waits for the Ready in flight. Found by the robustness harness
// (churn): a removed leader is stopped twice (it applies its own removal, and a peer answers 410), the
// first stop() awaited the leadership hand-over before marking itself stopped, so the second one went
// through too and closed the backend a second time ("backend: closed", an unhandled rejection that
// crashed the process with status 1 instead of 0); and stop() closed the backend while the Raft loop
// was still applying the Ready it had in hand ("raft loop failed; stopping").

import assert from "node:assert/strict";
import { test } from "node:test";
import { clientApiListeners } from "../../src/embed/client_api.js";
import { startEtcd } from "../../src/embed/etcd.js";
import { seededRand } from "../../src/raft/rand.js";
import { RawNode } from "../../src/raft/rawnode.js";
import { MemoryStorage } from "../../src/raft/storage.js";
import type { Entry } from "../../src/raft/types.js";
import { RaftLoop } from "../../src/server/raft_loop.js";
import type { Snapshotter, WAL } from "../../src/wal/index.js";
import { makeTempDir, removeTempDir } from "../e2e/cluster.js";
import { singleMemberConfig } from "./member_config.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

test("RaftLoop.stop() resolves only once the Ready in flight is handled, and no Ready follows", async () => {
  const storage = MemoryStorage.withMembers([1n]);
  const rn = new RawNode({ id: 1n, electionTick: 10, heartbeatTick: 1, storage, rand: seededRand(1) });
  rn.campaign();
  let saves = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const wal = {
    save: () => {
      saves++;
      return gate;
    },
    saveSnapshot: async () => {},
  } as unknown as WAL;
  const applied: Entry[] = [];
  let readies = 0;
  const loop = new RaftLoop(rn, storage, wal, { save() {} } as unknown as Snapshotter, {
    send() {},
    onSoftState() {},
    onReadStates() {},
    applySnapshot() {},
    applyEntries: (ents) => applied.push(...ents),
    afterReady: () => readies++,
    onFatal: (e) => {
      throw e;
    },
  });
  loop.kick();
  while (saves === 0) await new Promise((r) => setImmediate(r));
  let stopped = false;
  const done = loop.stop().then(() => {
    stopped = true;
  });
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(stopped, false, "stop() waits while the Ready is being written");
  release();
  await done;
  assert.equal(readies, 1, "the Ready in hand was finished (persisted, applied, advanced)");
  assert.ok(storage.lastIndex() >= 1, "its entries reached the raft storage");
  loop.kick();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(saves, 1, "nothing is written after stop()");
});

test("EtcdServer.stop() twice at once: both resolve, storage closed once", { timeout: 60_000 }, async () => {
  const dir = makeTempDir("etcd-stop-");
  const { cfg } = await singleMemberConfig(dir, "s0");
  const etcd = await startEtcd(cfg, silent, clientApiListeners(silent));
  try {
    while (etcd.server.leader() === 0n) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([etcd.server.stop(), etcd.server.stop(), etcd.server.stop()]);
    await etcd.close();
  } finally {
    removeTempDir(dir);
  }
});
