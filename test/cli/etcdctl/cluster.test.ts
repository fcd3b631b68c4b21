// Cluster commands (member, endpoint, move-leader, alarm, defrag, snapshot save) on two 3-member clusters,
// our bin/etcd and the real etcd 3.4: on each, the real etcdctl and ours run the same command and must
// print the same (harness.ts's `pair`, modulo IDs, ports, terms, indexes, sizes and times).
//
// 3.4 vs 3.5 differences met here: `member list -w json --hex` prints hex IDs in 3.5 only (checked on its
// own); `endpoint health` lists endpoints in the order the answers arrive (sorted before comparing).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Cluster, freePorts, makeTempDir, removeTempDir, until } from "../../e2e/cluster.js";
import { CtlChild, norm, pair, runCtl, skipWithoutReal } from "./harness.js";

describe("etcdctl cluster commands, ours vs the real etcdctl, on bin/etcd and on etcd 3.4", {
  skip: skipWithoutReal,
  concurrency: 1,
}, () => {
  let clusters: Cluster[] = [];
  let dir = "";
  before(async () => {
    clusters = await Promise.all([Cluster.start({ size: 3 }), Cluster.start({ size: 3, real: true })]);
    dir = makeTempDir("etcdctl-snap-");
  });
  after(async () => {
    await Promise.all(clusters.map((c) => c.destroy()));
    if (dir) removeTempDir(dir);
  });

  const each = async (fn: (c: Cluster, name: string) => Promise<void>) => {
    for (const [i, c] of clusters.entries()) await fn(c, i === 0 ? "bin/etcd" : "etcd 3.4");
  };

  test("member list and endpoint status/hashkv/health in every format, --cluster", async () => {
    await each(async (c, name) => {
      const eps = c.endpoints();
      // Every format on bin/etcd; on etcd 3.4 one of each command (the formats are the client's).
      const full = name === "bin/etcd";
      const all = [
        ["member", "list"],
        ["member", "list", "-w", "json"],
        ["member", "list", "-w", "table"],
        ["member", "list", "-w", "fields"],
        ["endpoint", "status"],
        ["endpoint", "status", "-w", "json"],
        ["endpoint", "status", "-w", "json", "--cluster"],
        ["endpoint", "status", "-w", "fields"],
        ["endpoint", "hashkv", "-w", "json"],
        ["endpoint", "hashkv", "--cluster", "-w", "table"],
        ["endpoint", "hashkv", "-w", "fields", "--rev=1"],
      ];
      const cases = full ? all : [all[1]!, all[6]!, all[9]!];
      await Promise.all(cases.map((args) => pair(eps, args, { norm: { anyMember: true } })));
      // Raft indexes move between the two runs: compare the table loosely.
      await pair(eps, ["endpoint", "status", "-w", "table", "--cluster"], { norm: { looseTable: true } });
      // 3.4 prints healthy endpoints on stderr, 3.5 on stdout.
      const health = { sortLines: true, mergeStreams: true };
      await pair(eps, ["endpoint", "health", "--cluster"], health);
      if (full) {
        await Promise.all([
          pair(eps, ["endpoint", "health"], health),
          pair([eps[0]!], ["endpoint", "health", "-w", "json"]),
          pair([eps[1]!], ["endpoint", "health", "-w", "table"], { norm: { looseTable: true } }),
          pair([eps[2]!], ["endpoint", "health", "-w", "fields"]),
        ]);
      }
    });
    // An unreachable endpoint beside a live one (on bin/etcd only: the client's behaviour).
    const live = clusters[0]!.endpoints()[0]!;
    const health = { sortLines: true, mergeStreams: true };
    await Promise.all([
      pair([live, "127.0.0.1:1"], ["endpoint", "health", "--command-timeout=1s"], health),
      pair([live, "127.0.0.1:1"], ["endpoint", "status", "--command-timeout=1s"]),
      pair([live, "127.0.0.1:1"], ["endpoint", "hashkv", "--command-timeout=1s"]),
    ]);
    // 3.5's member list -w json --hex: IDs as hex strings, the client URLs under "clientURLS".
    const hex = await runCtl("ours", ["member", "list", "-w", "json", "--hex"], {
      endpoints: clusters[0]!.endpoints(),
    });
    assert.match(
      hex.stdout,
      /^\{"header":\{"cluster_id":"[0-9a-f]+","member_id":"[0-9a-f]+","raft_term":\d+\},"members":\[\{"ID":"[0-9a-f]+","name":"m\d","peerURLs":\["http:\/\/127\.0\.0\.1:\d+"\],"clientURLS":\["http:\/\/127\.0\.0\.1:\d+"\]\}/,
    );
  });

  test("member add (learner), update, promote, remove; argument errors", async () => {
    await each(async (c) => {
      const eps = c.endpoints();
      const added: Record<string, string> = {};
      for (const tool of ["real", "ours"] as const) {
        const [p1, p2] = await freePorts(2);
        // A new cluster refuses configuration changes until its members have been connected for a while.
        const add = await until(
          async () => {
            const r = await runCtl(
              tool,
              ["member", "add", "newbie", "--learner", `--peer-urls=http://127.0.0.1:${p1}`],
              {
                endpoints: eps,
              },
            );
            return r.stderr.includes("unhealthy cluster") ? undefined : r;
          },
          "the cluster to accept a member",
          20_000,
          500,
        );
        assert.equal(add.code, 0, add.stderr);
        added[tool] = add.stdout;
        const id = /^Member +([0-9a-f]+) added/.exec(add.stdout)![1]!;
        assert.match(
          add.stdout,
          new RegExp(
            `^Member ${id.padStart(16)} added to cluster [ 0-9a-f]{16}\n\nETCD_NAME="newbie"\n` +
              `ETCD_INITIAL_CLUSTER="((m\\d|newbie)=http://127\\.0\\.0\\.1:\\d+,?){4}"\n` +
              `ETCD_INITIAL_ADVERTISE_PEER_URLS="http://127\\.0\\.0\\.1:${p1}"\nETCD_INITIAL_CLUSTER_STATE="existing"\n$`,
          ),
        );
        await pair(eps, ["member", "list", "-w", "table"], { norm: { anyMember: true } });
        await pair(eps, ["member", "update", id, `--peer-urls=http://127.0.0.1:${p2}`], { sequential: true });
        await pair(eps, ["member", "promote", id], { sequential: true });
        const rm = await runCtl(tool === "real" ? "ours" : "real", ["member", "remove", id], {
          endpoints: eps,
        });
        assert.match(
          rm.stdout,
          new RegExp(`^Member ${id.padStart(16)} removed from cluster [ 0-9a-f]{16}\n$`),
        );
        await pair(eps, ["member", "remove", id]);
      }
      // The members come in the server's order (by ID, and the new ID is random): compare them as sets.
      // %16x pads an ID that has fewer than 16 hex digits: the two added IDs differ, so may their padding.
      const sorted = (out: string) =>
        norm(out.replace(/^Member +/, "Member ")).replace(
          /ETCD_INITIAL_CLUSTER="([^"]*)"/,
          (_m, v: string) => `ETCD_INITIAL_CLUSTER="${v.split(",").sort().join(",")}"`,
        );
      assert.equal(sorted(added.ours!), sorted(added.real!));
    });
    const eps = clusters[0]!.endpoints();
    await Promise.all(
      [
        ["member", "add"],
        ["member", "add", "a", "b", "http://x:1"],
        ["member", "add", "a"],
        ["member", "add", "a", "--peer-urls=ftp://x:1"],
        ["member", "add", "a", "--peer-urls=http://x"],
        ["member", "remove"],
        ["member", "remove", "zz"],
        ["member", "update", "12"],
        ["member", "promote"],
      ].map((args) => pair(eps, args)),
    );
  });

  test("move-leader, alarm, defrag, snapshot save", async () => {
    await each(async (c, name) => {
      const eps = c.endpoints();
      // move-leader: from the current leader to a follower, once with each etcdctl.
      for (const tool of ["ours", "real"] as const) {
        const leader = await c.leaderIndex();
        const target = (leader + 1) % 3;
        const st = await runCtl("real", ["endpoint", "status", "-w", "fields"], {
          endpoints: [eps[target]!],
        });
        const targetId = BigInt(/"MemberID" : (\d+)/.exec(st.stdout)![1]!).toString(16);
        const mv = await runCtl(tool, ["move-leader", targetId], { endpoints: eps });
        assert.equal(mv.code, 0, `${name} ${tool}: ${mv.stderr}`);
        assert.match(mv.stdout, new RegExp(`^Leadership transferred from [0-9a-f]+ to ${targetId}\\n$`));
        await until(async () => ((await c.leaderIndex()) === target ? true : undefined), "the new leader");
      }
      const follower = ((await c.leaderIndex()) + 1) % 3;
      await pair([eps[follower]!], ["move-leader", "1"]);
      await pair(eps, ["move-leader", "zz"]);
      await pair(eps, ["move-leader"]);

      await pair(eps, ["alarm", "list"]);
      await pair(eps, ["alarm", "disarm", "-w", "json"]);
      await pair(eps, ["defrag"], { sortLines: true });
      await pair(eps, ["defrag", "--cluster"], { sortLines: true });

      // snapshot save: one endpoint only; the file ends with the SHA-256 of what precedes it.
      const files = ["real", "ours"].map((tool) => join(dir, `${name.replace(/\W/g, "")}-${tool}.db`));
      const [r, o] = await Promise.all(
        (["real", "ours"] as const).map((tool, i) =>
          runCtl(tool, ["snapshot", "save", files[i]!], { endpoints: [eps[0]!] }),
        ),
      );
      assert.equal(o!.code, 0, o!.stderr);
      assert.equal(r!.code, 0, r!.stderr);
      assert.equal(o!.stdout, `Snapshot saved at ${files[1]}\n`);
      for (const f of files) {
        const b = readFileSync(f);
        assert.equal(b.length % 512, 32);
        assert.deepEqual(
          createHash("sha256")
            .update(b.subarray(0, b.length - 32))
            .digest(),
          b.subarray(b.length - 32),
        );
        assert.equal(statSync(f).mode & 0o777, 0o600);
      }
      await pair(eps, ["snapshot", "save", join(dir, "x.db")]);
      await pair([eps[0]!], ["snapshot", "save", join(dir, "no-such-dir", "x.db")]);
      await pair([eps[0]!], ["snapshot", "save"]);
    });
  });
  test("a member dies: watch and lease keep-alive go on through another endpoint (last: kills a member)", async () => {
    const c = clusters[0]!;
    const eps = c.endpoints();
    const grant = await runCtl("ours", ["lease", "grant", "3"], { endpoints: eps });
    const id = /^lease ([0-9a-f]+) granted/.exec(grant.stdout)![1]!;
    const children = (["real", "ours"] as const).flatMap((tool) => [
      new CtlChild(tool, ["watch", "fo/k", "--rev", "1"], { endpoints: eps }),
      new CtlChild(tool, ["lease", "keep-alive", id], { endpoints: eps }),
    ]);
    try {
      await runCtl("real", ["put", "fo/k", "1"], { endpoints: eps });
      for (const ch of children)
        await ch.waitFor((o) => o.includes("1\n") || o.includes("keepalived"), "a first answer");
      await c.members[0]!.kill("SIGKILL");
      // If the killed member led, a put made before the survivors noticed is lost with it and answered
      // "request timed out, possibly due to previous leader failure": retried, as a client does.
      await until(
        async () =>
          (await runCtl("real", ["put", "fo/k", "2"], { endpoints: [eps[1]!] })).code === 0
            ? true
            : undefined,
        "a put through a survivor",
      );
      const kas = children.filter((_, i) => i % 2 === 1);
      const before = kas.map((k) => k.stdout.length);
      // Renewals through the other members outlive the 3 s lease.
      await Promise.all(
        kas.map((k, i) =>
          k.waitFor((o) => o.slice(before[i]).split("keepalived").length > 3, "renewals", 10_000),
        ),
      );
      for (const w of children.filter((_, i) => i % 2 === 0)) {
        await w.waitFor((o) => o === "PUT\nfo/k\n1\nPUT\nfo/k\n2\n", "the event after the member died");
      }
      const ttl = await runCtl("ours", ["lease", "timetolive", id], { endpoints: [eps[1]!] });
      assert.match(ttl.stdout, /granted with TTL\(3s\)/);
    } finally {
      await Promise.all(children.map((ch) => ch.stop()));
    }
  });
});
