// Databases received with the leader's snapshots (src/server/received_snapshots.ts). Found by the
// robustness harness (a member added by churn and caught up by snapshot): a follower received a second
// snapshot before applying the first; applying the first forgot every received database, so the
// second one was "not received" and the member stopped ('no database received for snapshot at index
// 175738'). Restarted, it took the raft snapshot (saved before the crash) as applied while its backend
// was 71 entries behind, and served a key space whose revisions were 61 lower than the other members':
// watchers on it got other events under the same revisions. Now a newer database waits for its turn,
// and a start with the backend behind the raft snapshot swaps the received database in (or refuses).

import assert from "node:assert/strict";
import { copyFileSync, existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Client } from "../../src/client/client.js";
import { clientApiListeners } from "../../src/embed/client_api.js";
import { type Etcd, startEtcd } from "../../src/embed/etcd.js";
import { memberDirs } from "../../src/server/raft_storage.js";
import {
  ReceivedSnapshots,
  snapshotDbPath,
  snapshotDbToRecover,
} from "../../src/server/received_snapshots.js";
import { parseSnapName } from "../../src/wal/index.js";
import { makeTempDir, removeTempDir } from "../e2e/cluster.js";
import { singleMemberConfig } from "./member_config.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe("received snapshot databases", () => {
  test("a newer database received before the older one is applied waits for its turn", () => {
    const dir = makeTempDir("received-snaps-");
    try {
      const r = new ReceivedSnapshots();
      const p = (i: number) => {
        const path = snapshotDbPath(dir, i);
        writeFileSync(path, "db");
        writeFileSync(`${path}-lock`, "");
        return path;
      };
      const [p5, p10, p20] = [p(5), p(10), p(20)];
      r.add(5, p5);
      r.add(10, p10);
      r.add(20, p20);
      assert.equal(r.take(10), p10);
      assert.deepEqual(r.indexes(), [20], "the newer one stays; the older one is gone");
      assert.equal(existsSync(p5), false, "the older database file was deleted");
      assert.equal(existsSync(`${p5}-lock`), false);
      assert.equal(existsSync(p20), true);
      assert.equal(r.take(20), p20);
      assert.equal(r.take(30), undefined);
      assert.equal(snapshotDbPath("/d", 175738), "/d/000000000002ae7a.snap.db");
    } finally {
      removeTempDir(dir);
    }
  });

  test("at start: recover only when the backend is behind the raft snapshot, refuse without its database", () => {
    const dir = makeTempDir("received-snaps-");
    try {
      assert.equal(snapshotDbToRecover(dir, 100, 100), undefined);
      assert.equal(snapshotDbToRecover(dir, 100, 150), undefined);
      assert.throws(
        () => snapshotDbToRecover(dir, 100, 50),
        /ahead of the backend \(consistent index 50\).*missing/,
      );
      writeFileSync(snapshotDbPath(dir, 100), "db");
      assert.equal(snapshotDbToRecover(dir, 100, 50), snapshotDbPath(dir, 100));
    } finally {
      removeTempDir(dir);
    }
  });
});

describe("a member whose backend is behind its raft snapshot", { timeout: 120_000 }, () => {
  test("restarts with the database received with the snapshot, not with a gap", async () => {
    const dir = makeTempDir("snap-recover-");
    const { cfg, clientUrl } = await singleMemberConfig(dir, "r0", { snapshotCount: 20 });
    const dirs = memberDirs(cfg.dataDir, "");
    const start = async (): Promise<{ etcd: Etcd; c: Client }> => {
      const etcd = await startEtcd({ ...cfg }, silent, clientApiListeners(silent));
      return { etcd, c: new Client({ endpoints: [clientUrl], requestTimeoutMs: 10_000 }) };
    };
    const stop = async (x: { etcd: Etcd; c: Client }) => {
      x.c.close();
      await x.etcd.close();
    };
    try {
      // An old backend: only a1..a5.
      let m = await start();
      for (let i = 1; i <= 5; i++) await m.c.put(`a${i}`, "x");
      await stop(m);
      const oldDb = join(dir, "old.db");
      copyFileSync(dirs.dbPath, oldDb);

      // Then b1..b60, with raft snapshots every 20 entries.
      m = await start();
      for (let i = 1; i <= 60; i++) await m.c.put(`b${i}`, "y");
      await stop(m);
      const snaps = readdirSync(dirs.snapDir)
        .map((n) => parseSnapName(n))
        .filter((s) => s !== undefined);
      const newest = Math.max(...snaps.map((s) => s!.index));
      assert.ok(newest > 20, `a raft snapshot was taken (newest at ${newest})`);

      // The state a crash leaves between saving a received snapshot and swapping its database in: the
      // database waits in the snap dir under the snapshot's index, the backend is the old one.
      copyFileSync(dirs.dbPath, snapshotDbPath(dirs.snapDir, newest));
      copyFileSync(oldDb, dirs.dbPath);
      rmSync(`${dirs.dbPath}-lock`, { force: true });
      m = await start();
      const r = await m.c.get("b", { prefix: true, countOnly: true });
      assert.equal(r.count, 60n, "every key up to the snapshot is there");
      assert.equal(
        existsSync(snapshotDbPath(dirs.snapDir, newest)),
        false,
        "the received database was moved in",
      );
      await m.c.put("after", "z");
      assert.equal((await m.c.get("after")).kvs.length, 1);
      await stop(m);

      // The same without the received database: the member refuses to start rather than diverge.
      copyFileSync(oldDb, dirs.dbPath);
      rmSync(`${dirs.dbPath}-lock`, { force: true });
      await assert.rejects(
        startEtcd({ ...cfg }, silent, clientApiListeners(silent)),
        /ahead of the backend .* is missing/,
      );
    } finally {
      removeTempDir(dir);
    }
  });
});
