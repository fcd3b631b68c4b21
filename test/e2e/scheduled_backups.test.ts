// Scheduled backups end to end (--backup-interval, --backup-retention; etcd-ts only): a member configured
// through ETCD_* variables saves its data by itself, keeps only the newest backups, reports them in
// /metrics, and the newest file restores with bin/etcdutl into a new member serving every key written
// before it was taken.

import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseBackupFileName } from "../../src/server/backup/index.js";
import { etcdutlOk, membersOf, restoreMember } from "../cli/etcdutl/helpers.js";
import {
  Cluster,
  ctlOk,
  httpGet,
  type Member,
  makeTempDir,
  parseJsonBig,
  removeTempDir,
  skipWithoutEtcdctl,
  until,
} from "./cluster.js";

describe("scheduled backups", { skip: skipWithoutEtcdctl }, () => {
  let c: Cluster;
  let restored: { members: Member[]; dir: string } | undefined;

  before(async () => {
    c = await Cluster.start({
      size: 1,
      via: "env",
      names: ["infra0"],
      extraArgs: ["--backup-interval", "300ms", "--backup-retention", "2"],
    });
  });
  after(async () => {
    await Promise.all(restored?.members.filter((m) => m.running()).map((m) => m.kill("SIGKILL")) ?? []);
    if (restored) removeTempDir(restored.dir);
    await c?.destroy();
  });

  const backups = () =>
    readdirSync(join(c.dataDir(0), "backups"))
      .map((n) => parseBackupFileName("infra0", n))
      .filter((b) => b !== undefined)
      .sort((a, b) => a.time - b.time);

  test("backs up after each change, keeps the newest 2, and the newest restores into a working member", async () => {
    const eps = c.endpoints();
    let rev = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 5; i++)
        await ctlOk(["put", `k/${round}/${i}`, `v${round}.${i}`], { endpoints: eps });
      rev = Number(
        parseJsonBig(await ctlOk(["get", "k/", "--prefix", "-w", "json"], { endpoints: eps })).header
          .revision,
      );
      await until(
        () => (backups().some((b) => b.revision === rev) ? true : undefined),
        `a backup at revision ${rev}`,
      );
    }
    const kept = backups();
    assert.equal(kept.length, 2, JSON.stringify(kept));
    assert.equal(kept[1]!.revision, rev);
    assert.match(c.members[0]!.logTail(1000), /saved scheduled backup/);
    const metrics = (await httpGet(`${c.members[0]!.spec.clientUrl}/metrics`)).body;
    const last = /^etcd_server_backup_last_success_timestamp_seconds (\S+)$/m.exec(metrics);
    assert.ok(last && Number(last[1]) * 1000 >= kept[1]!.time - 1, metrics.slice(0, 200));
    assert.match(metrics, /^etcd_server_backup_failures_total 0$/m);

    const newest = join(c.dataDir(0), "backups", kept[1]!.name);
    const status = JSON.parse(await etcdutlOk(["snapshot", "status", newest, "-w", "json"], c.dir));
    assert.equal(status.revision, rev);

    const layout = await Cluster.makeLayout({ size: 1, names: ["restored0"] });
    const dir = makeTempDir("etcd-backup-restore-");
    const m = layout.members[0]!;
    await restoreMember(newest, layout, m, dir);
    const members = membersOf(layout, dir);
    restored = { members, dir };
    members[0]!.start();
    await members[0]!.waitHealthy();
    const out = await ctlOk(["get", "k/", "--prefix", "--keys-only"], { endpoints: [members[0]!.endpoint] });
    assert.equal(out.split("\n").filter((l) => l !== "").length, 20);
  });
});
