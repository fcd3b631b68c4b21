// Snapshot save / status / restore end to end: the real etcdctl 3.4 saves a snapshot from a bin/etcd
// member, bin/etcdutl reads it and restores it into the data dirs of a NEW 3-member cluster on other
// ports, bin/etcd serves the data there and takes writes. Plus --bump-revision, and the refusals
// (missing file, damaged file, existing data dir, etcd's own bbolt snapshots).

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { computeClusterId, computeMemberId } from "../../../src/server/ids.js";
import {
  Cluster,
  type ClusterLayout,
  ctlOk,
  etcdctl,
  haveRealEtcd,
  type Member,
  makeTempDir,
  parseJsonBig,
  removeTempDir,
  skipWithoutEtcdctl,
  startRealEtcd,
} from "../../e2e/cluster.js";
import {
  BIN_ETCDCTL,
  etcdutl,
  etcdutlOk,
  memberList,
  membersOf,
  readPrefix,
  restoreMember,
} from "./helpers.js";

const KEYS = 40;

describe("etcdutl snapshot status and restore", { skip: skipWithoutEtcdctl }, () => {
  let src: Cluster;
  let work: string;
  let snap: string;
  /** Revision of the source key space when the snapshot was taken. */
  let rev: number;
  const started: { members: Member[]; dir: string }[] = [];

  before(async () => {
    src = await Cluster.start({ size: 3 });
    work = makeTempDir("etcdutl-snap-");
    const ep = src.endpoints();
    for (let i = 0; i < KEYS; i++) await ctlOk(["put", `k/${i}`, `v${i}`], { endpoints: ep });
    await ctlOk(["del", "k/0"], { endpoints: ep });
    const out = await ctlOk(["get", "k/1", "-w", "json"], { endpoints: ep });
    rev = Number(parseJsonBig(out).header.revision);
    snap = join(work, "snap.db");
    // Snapshots are requested from one selected member (etcdctl refuses several endpoints).
    const r = await etcdctl(["snapshot", "save", snap], { endpoints: src.endpoints([1]) });
    assert.equal(r.code, 0, `etcdctl snapshot save failed: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /Snapshot saved at /);
  });

  after(async () => {
    await Promise.all(
      started.flatMap((s) => s.members.filter((m) => m.running()).map((m) => m.kill("SIGKILL"))),
    );
    for (const s of started) removeTempDir(s.dir);
    await src?.destroy();
    if (work) removeTempDir(work);
  });

  /** Restores `snap` for every member of `layout` into `<dir>/<name>.etcd`, then starts them. */
  async function restoreAndStart(
    layout: ClusterLayout,
    extra: string[] = [],
    memberArgs: (dir: string) => string[] = () => [],
  ): Promise<Member[]> {
    const dir = makeTempDir("etcdutl-restored-");
    for (const m of layout.members) await restoreMember(snap, layout, m, dir, extra);
    const members = membersOf(layout, dir, memberArgs(dir));
    started.push({ members, dir });
    for (const m of members) m.start();
    await Promise.all(members.map((m) => m.waitHealthy()));
    return members;
  }

  test("the snapshot etcdctl 3.4 saved from bin/etcd has etcd's checksum and a status", async () => {
    const size = readFileSync(snap).length;
    assert.equal(size % 512, 32, "etcd's tools find the SHA-256 by size % 512 == 32");
    const simple = await etcdutlOk(["snapshot", "status", snap], work);
    const m = /^([0-9a-f]+), (\d+), (\d+), (\d+(?:\.\d)? [kM]?B)\n$/.exec(simple);
    assert.ok(m, simple);
    assert.equal(Number(m[2]), rev);
    const json = JSON.parse(await etcdutlOk(["snapshot", "status", snap, "-w", "json"], work));
    assert.equal(json.revision, rev);
    assert.equal(json.hash.toString(16), m[1]);
    // The key bucket holds every revision (39 live keys, their 40 puts and one tombstone), plus meta,
    // membership and the rest.
    assert.ok(json.totalKey > KEYS + 1, `totalKey ${json.totalKey}`);
    assert.equal(json.totalSize, size - 32);
    const table = await etcdutlOk(["snapshot", "status", snap, "-w", "table"], work);
    assert.match(table, /^\+-+\+-+\+-+\+-+\+\n\| +HASH +\| REVISION \| TOTAL KEYS \| TOTAL SIZE \|\n/);
  });

  test("etcdctl's deprecated snapshot status and restore run etcdutl's code", async () => {
    for (const w of ["simple", "json", "table"]) {
      const ours = await etcdutl(["snapshot", "status", snap, "-w", w], work, 30_000, BIN_ETCDCTL);
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, await etcdutlOk(["snapshot", "status", snap, "-w", w], work));
      assert.match(ours.stderr, /^Deprecated: Use `etcdutl snapshot status` instead\.\n\n/);
    }
    const dir = join(work, "ctl-restore");
    const r = await etcdutl(["snapshot", "restore", snap, "--data-dir", dir], work, 30_000, BIN_ETCDCTL);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, "member", "wal")) && existsSync(join(dir, "member", "snap", "db")));
    const again = await etcdutl(["snapshot", "restore", snap, "--data-dir", dir], work, 30_000, BIN_ETCDCTL);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Error: /m);
  });

  test("restored into a new 3-member cluster: the data is there, IDs as the flags give, writes work", async () => {
    const layout = await Cluster.makeLayout({ size: 3, names: ["r0", "r1", "r2"], token: "restored-token" });
    const members = await restoreAndStart(layout);
    const ep = members.map((m) => m.endpoint);
    const kv = await readPrefix(ep, "k/");
    assert.equal(kv.size, KEYS - 1);
    for (let i = 1; i < KEYS; i++) assert.equal(kv.get(`k/${i}`), `v${i}`);
    // The key space keeps its revisions.
    const got = parseJsonBig(await ctlOk(["get", "k/5", "-w", "json"], { endpoints: ep }));
    assert.equal(Number(got.kvs[0].mod_revision), 7); // k/i was put at revision i + 2
    assert.ok(Number(got.header.revision) >= rev);
    // Member and cluster IDs are those a static bootstrap derives from the same flags.
    const ids = layout.members.map((m) => computeMemberId([m.peerUrl], layout.token));
    const list = await memberList(ep);
    assert.deepEqual(
      list.map((m) => [m.name, m.id, m.peer[0]]),
      layout.members.map((m, i) => [m.name, ids[i]!.toString(16), m.peerUrl]),
    );
    assert.equal(BigInt(got.header.cluster_id), computeClusterId(ids));
    // Writes through every member, read back everywhere; the members agree on the key space.
    for (const [i, e] of ep.entries()) await ctlOk(["put", `new/${i}`, `n${i}`], { endpoints: [e] });
    for (const e of ep) assert.equal((await readPrefix([e], "new/")).size, 3);
    const hashes = parseJsonBig(await ctlOk(["endpoint", "hashkv", "-w", "json"], { endpoints: ep })) as {
      HashKV: { hash: number };
    }[];
    assert.equal(new Set(hashes.map((h) => h.HashKV.hash)).size, 1);
  });

  test("--bump-revision with --mark-compacted (and --wal-dir): revisions continue above the old ones", async () => {
    const layout = await Cluster.makeLayout({ size: 1, names: ["b0"] });
    const walParent = makeTempDir("etcdutl-waldir-");
    started.push({ members: [], dir: walParent });
    const walDir = join(walParent, "wal"); // restore refuses an existing --wal-dir
    const [m] = await restoreAndStart(
      layout,
      ["--bump-revision", "1000", "--mark-compacted", "--wal-dir", walDir],
      () => ["--wal-dir", walDir],
    );
    assert.ok(readdirSync(walDir).some((n) => n.endsWith(".wal")));
    const ep = [m!.endpoint];
    assert.equal((await readPrefix(ep, "k/")).size, KEYS - 1);
    const put = parseJsonBig(await ctlOk(["put", "after", "bump", "-w", "json"], { endpoints: ep }));
    assert.equal(Number(put.header.revision), rev + 1000 + 1);
    const old = await etcdctl(["get", "k/1", `--rev=${rev}`], { endpoints: ep });
    assert.notEqual(old.code, 0);
    assert.match(old.stderr, /required revision has been compacted/);
  });

  test("refusals: a missing file, an existing data dir, a damaged file (with and without the hash check)", async () => {
    const dir = makeTempDir("etcdutl-refusals-");
    try {
      let r = await etcdutl(["snapshot", "restore", join(dir, "nope.db"), "--data-dir", join(dir, "a")], dir);
      assert.deepEqual(
        [r.code, r.stderr.trim().split("\n").at(-1)],
        [1, `Error: open ${join(dir, "nope.db")}: no such file or directory`],
      );
      // A data dir with something in it is never overwritten.
      writeFileSync(join(dir, "keep"), "x");
      r = await etcdutl(["snapshot", "restore", snap, "--data-dir", dir], dir);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `Error: data-dir ${JSON.stringify(dir)} not empty or could not be read\n`);
      assert.equal(readFileSync(join(dir, "keep"), "utf8"), "x");
      // One flipped byte: the file's SHA-256 no longer matches, nothing is left behind.
      const bad = readFileSync(snap);
      bad[100] = (bad[100] ?? 0) ^ 0xff;
      writeFileSync(join(dir, "bad.db"), bad);
      r = await etcdutl(["snapshot", "restore", join(dir, "bad.db"), "--data-dir", join(dir, "b")], dir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\nError: expected sha256 \[(\d+ ){31}\d+\], got \[(\d+ ){31}\d+\]\n$/);
      assert.equal((await etcdutl(["snapshot", "status", join(dir, "b")], dir)).code, 1, "no data dir made");
      // Skipping the file's hash still finds the damage through the backend stream's own checksum.
      r = await etcdutl(
        ["snapshot", "restore", join(dir, "bad.db"), "--data-dir", join(dir, "c"), "--skip-hash-check"],
        dir,
      );
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Error: snapshot file is damaged or not an etcd-ts snapshot: /);
      // Cut short: no checksum where etcd looks for one.
      writeFileSync(join(dir, "short.db"), readFileSync(snap).subarray(0, 300));
      r = await etcdutl(["snapshot", "restore", join(dir, "short.db"), "--data-dir", join(dir, "d")], dir);
      assert.match(r.stderr, /Error: snapshot missing hash but --skip-hash-check=false\n$/);
    } finally {
      removeTempDir(dir);
    }
  });

  test("migration: a snapshot of a real etcd 3.4 has etcd's status and restores into bin/etcd", {
    skip: !haveRealEtcd,
  }, async () => {
    const real = await startRealEtcd();
    const dir = makeTempDir("etcdutl-migrate-");
    let member: Member | undefined;
    try {
      const ep = real.endpoints();
      for (let i = 0; i < 300; i++) await ctlOk(["put", `app/${i % 50}`, `v${i}`], { endpoints: ep });
      await ctlOk(["del", "app/7"], { endpoints: ep });
      const lease = (await ctlOk(["lease", "grant", "600"], { endpoints: ep })).split(" ")[1]!;
      await ctlOk(["put", "session", "held", "--lease", lease], { endpoints: ep });
      const rev = Number(
        parseJsonBig(await ctlOk(["get", "app/1", "-w", "json"], { endpoints: ep })).header.revision,
      );
      await ctlOk(["compaction", String(rev - 100)], { endpoints: ep });
      const file = join(real.dir, "real.db");
      await ctlOk(["snapshot", "save", file], { endpoints: ep });

      // Our status of etcd's file is what etcd's own tool says of it.
      const theirs = JSON.parse(await ctlOk(["snapshot", "status", file, "-w", "json"], { endpoints: ep }));
      const ours = JSON.parse(await etcdutlOk(["snapshot", "status", file, "-w", "json"], dir));
      assert.deepEqual(ours, theirs);
      assert.equal(ours.revision, rev);

      const layout = await Cluster.makeLayout({ size: 1, names: ["migrated"] });
      const m = layout.members[0]!;
      await restoreMember(file, layout, m, dir);
      [member] = membersOf(layout, dir);
      member!.start();
      await member!.waitHealthy();
      const at = [member!.endpoint];
      const kvs = parseJsonBig(await ctlOk(["get", "app/", "--prefix", "-w", "json"], { endpoints: at }));
      assert.equal(Number(kvs.header.revision), rev);
      assert.equal(kvs.kvs.length, 49);
      const v = (k: string) => ctlOk(["get", k, "--print-value-only"], { endpoints: at });
      assert.equal((await v("app/49")).trim(), "v299");
      assert.equal((await v("app/7")).trim(), "");
      // The lease came along with its key; history before the compaction is gone, after it kept.
      assert.match(await ctlOk(["lease", "list"], { endpoints: at }), new RegExp(lease));
      assert.equal((await v("session")).trim(), "held");
      const old = await etcdctl(["get", "app/1", "--rev", String(rev - 101)], { endpoints: at });
      assert.match(old.stderr, /required revision has been compacted/);
      assert.equal(
        (
          await ctlOk(["get", "app/1", "--rev", String(rev - 50), "--print-value-only"], { endpoints: at })
        ).trim() !== "",
        true,
      );
      await ctlOk(["put", "after", "migration"], { endpoints: at });
    } finally {
      await member?.kill("SIGKILL");
      removeTempDir(dir);
      await real.destroy();
    }
  });
});
