// `backup` and `--force-new-cluster` end to end, and the offline tools on a stopped member: a backup of a
// live member's data dir (taken while writes go on) starts as a one-member cluster holding the data; so
// does the one the guide's daily backup script makes; `defrag --data-dir` waits for a running member to
// stop; `hashkv` of a stopped member's files equals what the member answered; and a lone survivor of a
// 3-member cluster recovers as a one-member cluster with --force-new-cluster, which it stays after a
// plain restart.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  BIN_ETCD,
  Cluster,
  ctlOk,
  freePorts,
  Member,
  makeTempDir,
  parseJsonBig,
  ROOT,
  removeTempDir,
  skipWithoutEtcdctl,
  until,
} from "../../e2e/cluster.js";
import { BIN_ETCDUTL, etcdutl, etcdutlOk, memberList, readPrefix } from "./helpers.js";

const KEYS = 30;

/** A bin/etcd member on `dataDir` with fresh ports and `extra` flags; started, healthy. */
async function startOn(dir: string, dataDir: string, name: string, extra: string[]): Promise<Member> {
  const [peer, client] = (await freePorts(2)).map((p) => `http://127.0.0.1:${p}`);
  const m = new Member({
    name,
    command: [process.execPath, BIN_ETCD],
    args: [
      "--name",
      name,
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      client!,
      "--advertise-client-urls",
      client!,
      "--listen-peer-urls",
      peer!,
      "--initial-advertise-peer-urls",
      peer!,
      ...extra,
    ],
    cwd: dir,
    clientUrl: client!,
    logPath: join(dir, `${name}-${Date.now()}.log`),
  });
  m.start();
  await m.waitHealthy();
  return m;
}

/** Endpoint hashkv of one member: [hash, revision]. */
async function hashKvOf(endpoint: string): Promise<[number, number]> {
  const r = parseJsonBig(await ctlOk(["endpoint", "hashkv", "-w", "json"], { endpoints: [endpoint] }));
  return [Number(r[0].HashKV.hash), Number(r[0].HashKV.header.revision)];
}

describe("etcdutl backup and etcd --force-new-cluster", { skip: skipWithoutEtcdctl }, () => {
  let c: Cluster;
  let work: string;
  const extra: Member[] = [];

  before(async () => {
    c = await Cluster.start({ size: 3 });
    work = makeTempDir("etcdutl-backup-");
    for (let i = 0; i < KEYS; i++) await ctlOk(["put", `k/${i}`, `v${i}`], { endpoints: c.endpoints() });
  });

  after(async () => {
    await Promise.all(extra.filter((m) => m.running()).map((m) => m.kill("SIGKILL")));
    await c?.destroy();
    if (work) removeTempDir(work);
  });

  async function checkBackup(backupDir: string, name: string, writesSeen?: number): Promise<void> {
    const m = await startOn(work, backupDir, name, ["--force-new-cluster"]);
    extra.push(m);
    const ep = [m.endpoint];
    const kv = await readPrefix(ep, "k/");
    assert.equal(kv.size, KEYS);
    for (let i = 0; i < KEYS; i++) assert.equal(kv.get(`k/${i}`), `v${i}`);
    if (writesSeen !== undefined) {
      // Writes acknowledged before the backup started are in it; those made meanwhile form a prefix.
      const w = await readPrefix(ep, "w/");
      for (let i = 0; i < w.size; i++) assert.ok(w.has(`w/${i}`), `w/${i} missing of ${w.size}`);
      assert.ok(w.size >= writesSeen, `${w.size} < ${writesSeen}`);
    }
    const members = await memberList(ep);
    assert.equal(members.length, 1);
    assert.equal(members[0]!.name, name);
    await ctlOk(["put", "after-backup", "yes"], { endpoints: ep });
    assert.equal((await readPrefix(ep, "after-backup")).get("after-backup"), "yes");
    await m.kill("SIGTERM");
  }

  test("a backup of a live member's data dir, taken during writes, starts with --force-new-cluster", async () => {
    let stop = false;
    let acked = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        await ctlOk(["put", `w/${i}`, "x"], { endpoints: c.endpoints([0]) });
        acked = i + 1;
      }
    })();
    await until(() => (acked >= 3 ? true : undefined), "writes before the backup");
    const before = acked;
    // Member 1 (the one backed up) has applied them: serializable reads answer from its own state.
    await until(async () => {
      const out = await ctlOk(["get", `w/${before - 1}`, "--consistency=s"], { endpoints: c.endpoints([1]) });
      return out.includes("x") ? true : undefined;
    }, "member 1 applying the first writes");
    const backupDir = join(work, "live-backup");
    await etcdutlOk(["backup", "--data-dir", c.dataDir(1), "--backup-dir", backupDir], work);
    stop = true;
    await writer;
    assert.deepEqual(readdirSync(join(backupDir, "member")).sort(), ["snap", "wal"]);
    await checkBackup(backupDir, "from-backup", before);
    // A second backup into the same dir is refused rather than mixed in.
    const again = await etcdutl(["backup", "--data-dir", c.dataDir(1), "--backup-dir", backupDir], work);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds a member's data/);
  });

  test("the guide's daily backup script makes a usable dated backup and keeps it", async () => {
    // The script as operators install it from cron; `etcdctl` on its PATH is our bin/etcdctl.
    const bin = join(work, "bin");
    mkdirSync(bin, { recursive: true });
    const ctl = join(ROOT, "bin", "etcdctl");
    writeFileSync(join(bin, "etcdctl"), `#!/bin/sh\nexec "${process.execPath}" "${ctl}" "$@"\n`);
    chmodSync(join(bin, "etcdctl"), 0o755);
    const script = join(work, "etcd-backup.sh");
    writeFileSync(
      script,
      `#!/bin/sh
# Daily etcd backup: one dated directory per day, seven days kept.
set -e
ETCD_DATA_DIR="$1"
BACKUP_ROOT="$2"
DATE=$(date +%Y-%m-%d)
ETCDCTL_API=2 etcdctl backup --data-dir "$ETCD_DATA_DIR" --backup-dir "$BACKUP_ROOT/$DATE"
find "$BACKUP_ROOT" -mindepth 1 -ctime +7 -delete
`,
    );
    const root = join(work, "backups");
    const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const p = spawn("/bin/sh", [script, c.dataDir(2), root], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let err = "";
      p.stderr.setEncoding("utf8").on("data", (s: string) => {
        err += s;
      });
      p.once("close", (code) => resolve({ code, err }));
    });
    assert.equal(r.code, 0, r.err);
    const days = readdirSync(root);
    assert.equal(days.length, 1);
    assert.match(days[0]!, /^\d{4}-\d{2}-\d{2}$/);
    await checkBackup(join(root, days[0]!), "from-cron-backup");
  });

  test("defrag --data-dir waits for the member to stop; hashkv of its files equals the member's; its db restores", async () => {
    const [hash, rev] = await hashKvOf(c.members[0]!.endpoint);
    const p = spawn(process.execPath, [BIN_ETCDUTL, "defrag", "--data-dir", c.dataDir(0)], {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    p.stderr.setEncoding("utf8").on("data", (s: string) => {
      err += s;
    });
    const exited = new Promise<number | null>((resolve) => p.once("close", resolve));
    await until(() => (err.includes("waiting for etcd to close") ? true : undefined), "defrag's notice");
    assert.match(err, /To defrag a running etcd instance, omit --data-dir\./);
    await c.members[0]!.kill("SIGTERM");
    assert.equal(await exited, 0, err);
    const out = await etcdutlOk(["hashkv", c.dataDir(0)], work);
    assert.equal(out, `${hash}, ${rev}, -1\n`);
    const db = join(c.dataDir(0), "member", "snap", "db");
    const json = JSON.parse(await etcdutlOk(["hashkv", db, "-w", "json"], work));
    assert.deepEqual(json, { hash, hashRevision: rev, compactRevision: -1 });
    // The backend file itself restores too: it has no checksum, so only with --skip-hash-check.
    const out2 = join(work, "from-db");
    const r = await etcdutl(["snapshot", "restore", db, "--data-dir", out2], work);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\nError: snapshot missing hash but --skip-hash-check=false\n$/);
    await etcdutlOk(["snapshot", "restore", db, "--data-dir", out2, "--skip-hash-check"], work);
    const m = await startOn(work, out2, "default", []);
    extra.push(m);
    assert.equal((await readPrefix([m.endpoint], "k/")).size, KEYS);
    assert.equal((await hashKvOf(m.endpoint))[0], hash);
    await m.kill("SIGTERM");
  });

  test("the last member of a lost cluster recovers alone with --force-new-cluster, and stays alone", async () => {
    const before = await memberList(c.endpoints([2]));
    const self = before.find((m) => m.name === c.members[2]!.name)!;
    await Promise.all(c.members.filter((m) => m.running()).map((m) => m.kill("SIGTERM")));
    const m = await startOn(c.dir, c.dataDir(2), c.members[2]!.name, ["--force-new-cluster"]);
    extra.push(m);
    const ep = [m.endpoint];
    assert.deepEqual(
      (await memberList(ep)).map((x) => x.id),
      [self.id],
    );
    assert.equal((await readPrefix(ep, "k/")).size, KEYS);
    await ctlOk(["put", "recovered", "1"], { endpoints: ep });
    await m.kill("SIGTERM");
    // A plain restart: the removals were committed, so it is still a one-member cluster with a leader.
    const again = await startOn(c.dir, c.dataDir(2), c.members[2]!.name, []);
    extra.push(again);
    assert.equal((await memberList([again.endpoint])).length, 1);
    assert.equal((await readPrefix([again.endpoint], "recovered")).get("recovered"), "1");
    assert.ok(existsSync(join(c.dataDir(2), "member", "wal")));
  });
});
