// Bad configurations that only show once the member runs: a port already in use, and a data dir that
// belongs to another member of another cluster. Each exits non-zero with a clear message and leaves
// the data dir it found untouched.

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Cluster, freePorts, Member, makeTempDir, removeTempDir } from "./cluster.js";

let dir = "";
before(() => {
  dir = makeTempDir("etcd-badcfg-");
});
after(() => removeTempDir(dir));

/** A single-member cluster's flags on fresh ports. */
async function single(name: string, dataDir: string, token = "tok") {
  const [c, p] = await freePorts(2);
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=http://127.0.0.1:${c}`,
    `--advertise-client-urls=http://127.0.0.1:${c}`,
    `--listen-peer-urls=http://127.0.0.1:${p}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${p}`,
    `--initial-cluster=${name}=http://127.0.0.1:${p}`,
    `--initial-cluster-token=${token}`,
    "--initial-cluster-state=new",
  ];
  return new Member({
    name,
    args,
    cwd: dir,
    clientUrl: `http://127.0.0.1:${c}`,
    logPath: join(dir, `${name}-${c}.log`),
  });
}

describe("bad configuration found at run time", { concurrency: 1 }, () => {
  test("a client port already in use: exit 1, and no half-made data dir", async () => {
    const m = await single("busy", join(dir, "busy.etcd"));
    const port = Number(new URL(m.spec.clientUrl).port);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, "127.0.0.1", r));
    try {
      m.start();
      const st = await m.exited();
      assert.equal(st.code, 1, m.logTail());
      assert.match(m.log(), /address already in use/);
      assert.ok(
        !existsSync(join(dir, "busy.etcd", "member")),
        "the failed first start removed its member dir",
      );
    } finally {
      blocker.close();
    }
  });

  test("another member's data dir under another cluster's flags: refused, data dir untouched", async () => {
    const a = await single("alpha", join(dir, "alpha.etcd"), "cluster-a");
    a.start();
    await a.waitHealthy();
    await a.kill("SIGTERM");
    const before = readdirSync(join(dir, "alpha.etcd", "member", "wal")).sort();

    const b = await single("beta", join(dir, "alpha.etcd"), "cluster-b");
    b.start();
    const st = await b.exited();
    assert.equal(st.code, 1, b.logTail());
    assert.match(
      b.log(),
      /data dir .*alpha\.etcd belongs to member alpha \([0-9a-f]+\) of cluster [0-9a-f]+, not to member beta/,
    );
    assert.deepEqual(readdirSync(join(dir, "alpha.etcd", "member", "wal")).sort(), before);

    // Its own member restarts from it as before (the bootstrap flags are ignored on a restart).
    a.start();
    await a.waitHealthy();
    await a.kill("SIGTERM");
  });

  test("a member whose peers answer for another cluster stops with a clear error instead of retrying forever", async () => {
    const layout = await Cluster.makeLayout({ token: "cluster-a" });
    const a = await Cluster.start({ layout });
    let b: Cluster | undefined;
    try {
      await Promise.all(a.members.map((m) => m.kill("SIGTERM")));
      // Cluster B takes over the same peer URLs under another token (so another cluster ID).
      b = await Cluster.start({ layout: { ...layout, token: "cluster-b" } });
      await b.members[0]!.kill("SIGKILL");
      const stray = a.members[0]!;
      stray.start();
      const st = await stray.exited();
      assert.equal(st.code, 1, stray.logTail());
      assert.match(
        stray.log(),
        /belongs to cluster [0-9a-f]+, but every other member answers for cluster [0-9a-f]+/,
      );
    } finally {
      await Promise.all([a.destroy(), b?.destroy()]);
    }
  });
});
