// watch, lease keep-alive, lock and elect: long-running etcdctl processes, ours and the real one side by
// side (harness.ts). Watches start from an explicit revision so that no event can be missed whatever
// moment the watch is registered at, and the outputs are compared once the expected events arrived.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { until } from "../../e2e/cluster.js";
import {
  ChildTrio,
  CtlChild,
  onAll,
  revision,
  runCtl,
  same,
  sameAll,
  skipWithoutReal,
  Trio,
} from "./harness.js";

describe("etcdctl watch, lease keep-alive, lock, elect: ours vs the real etcdctl", {
  skip: skipWithoutReal,
  concurrency: 1,
}, () => {
  let t: Trio;
  before(async () => {
    t = await Trio.start(1);
  });
  after(async () => {
    await t?.destroy();
  });

  test("watch: key, prefix, range, prev-kv, json, fields; history (--rev) and live events", async () => {
    const rev = await revision(t);
    const from = String(rev + 1);
    // History first: each watch gets the past events in one catch-up response, whatever its timing.
    await onAll(t, ["put", "w1", "a"]);
    await onAll(t, ["put", "w2", "b b"]);
    await onAll(t, ["put", "w1", "c"]);
    await onAll(t, ["txn"], { stdin: "\nput w1 d\nput w2 e\nput w3 f\n\n\n" });
    await onAll(t, ["del", "w", "--prefix"]);
    const history = [
      new ChildTrio(t, ["watch", "w1", "--rev", from]),
      new ChildTrio(t, ["watch", "w", "--prefix", "--prev-kv", "--rev", from, "-w", "json"]),
      new ChildTrio(t, ["watch", "w1", "w3", "--rev", from, "-w", "json"]),
      new ChildTrio(t, ["watch", "w2", "--rev", from, "-w", "fields", "--prev-kv"]),
    ];
    const count = [/^(PUT|DELETE)$/gm, /"kv"/g, /"kv"/g, /"Type"/g];
    const want = [4, 9, 4, 3];
    await Promise.all(
      history.map((c, i) => c.waitFor((o) => (o.match(count[i]!)?.length ?? 0) >= want[i]!, "events")),
    );
    // Then live events, printed as they happen.
    const live = new ChildTrio(t, [
      "watch",
      "w",
      "--prefix",
      "--prev-kv",
      "--rev",
      String((await revision(t)) + 1),
    ]);
    await onAll(t, ["put", "w5", "x"]);
    await onAll(t, ["put", "w5", "y"]);
    await live.waitFor((o) => o.includes("y\n"), "live events");
    for (const c of [...history, live]) {
      await c.stop();
      c.assertSame();
    }
    assert.equal(history[0]!.ours.stdout, "PUT\nw1\na\nPUT\nw1\nc\nPUT\nw1\nd\nDELETE\nw1\n\n");
    assert.equal(live.ours.stdout, "PUT\nw5\nx\nPUT\nw5\nx\nw5\ny\n");
  });

  test("watch: command per event with ETCD_WATCH_* variables, interactive, progress, errors", async () => {
    const rev = await revision(t);
    // Both events happen first: every watch gets them in one catch-up response (the output interleaves
    // the printing of a response and the commands run for its events).
    await onAll(t, ["put", "x", 'v "1"']);
    await onAll(t, ["del", "x"]);
    const exec = new ChildTrio(t, [
      "watch",
      "x",
      "--rev",
      String(rev + 1),
      "--",
      "sh",
      "-c",
      'echo "$ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $(test -n "$ETCD_WATCH_REVISION" && echo rev)"',
    ]);
    const inter = new ChildTrio(t, ["watch", "-i"]);
    inter.write(`bogus\nwatch\nwatch --prefix --rev ${rev + 2} x -- echo hi\n`);
    await exec.waitFor((o) => o.includes('"DELETE" "x"'), "both commands ran");
    await inter.waitFor((o) => o.includes("hi\n"), "the interactive watch's event");
    inter.write("progress\n");
    await inter.waitFor((o) => o.includes("progress notify:"), "a progress notification");
    await exec.stop();
    await inter.stop();
    assert.equal(
      exec.assertSame(),
      'PUT\nx\nv "1"\nDELETE\nx\n\n"PUT" "x" "v \\"1\\"" rev\n"DELETE" "x" "" rev\n',
    );
    inter.assertSame({ norm: { revisions: true } });
    await sameAll(t, [["watch"], ["watch", "a", "--"], ["watch", "a", "b", "--prefix"]], {
      realOnly: true,
      timeoutMs: 5000,
    });
    await same(t, ["watch", "a"], { env: { ETCDCTL_WATCH_KEY: "b" }, realOnly: true });
    await same(t, ["watch"], { env: { ETCDCTL_WATCH_RANGE_END: "b" }, realOnly: true });
  });

  test("watch: a compacted start revision cancels the watch (exit 5)", async () => {
    const rev = await revision(t);
    await onAll(t, ["compaction", String(rev)]);
    for (const w of ["simple", "json"]) {
      const c = new ChildTrio(t, ["watch", "x", "--rev", "2", "-w", w]);
      const codes = await c.exited();
      assert.deepEqual(codes, [5, 5, 5]);
      // etcd leaves the header's revision out of a compaction cancel; our server sets it (a server
      // difference, not etcdctl's): compare without it.
      for (const x of c.all()) x.stdout = x.stdout.replace(/"revision":\d+,/, "");
      c.assertSame();
      assert.match(
        c.ours.stderr,
        /^watch was canceled \(etcdserver: mvcc: required revision has been compacted\)\nError: watch is canceled by the server\n$/,
      );
    }
  });

  test("lease keep-alive until the lease is revoked; --once", async () => {
    // TTL 3: keep-alives every second, so the revocation is noticed within a second.
    const r = await same(t, ["lease", "grant", "3"]);
    const ids = [r.real, r.oursReal, r.ours].map((x) => /lease ([0-9a-f]+) granted/.exec(x.stdout)![1]!);
    const servers = [t.realA, t.realB, t.ours];
    const tools = ["real", "ours", "ours"] as const;
    // Each side keeps its own lease alive.
    const kas = servers.map(
      (s, i) => new CtlChild(tools[i]!, ["lease", "keep-alive", ids[i]!], { endpoints: s.endpoints() }),
    );
    await Promise.all(kas.map((c) => c.waitFor((o) => o.includes("keepalived"), "a keep-alive")));
    await Promise.all(
      servers.map((s, i) => runCtl("real", ["lease", "revoke", ids[i]!], { endpoints: s.endpoints() })),
    );
    assert.deepEqual(await Promise.all(kas.map((c) => c.exited())), [0, 0, 0]);
    for (const [i, c] of kas.entries()) {
      assert.match(
        c.stdout,
        new RegExp(`^(lease ${ids[i]} keepalived with TTL\\(3\\)\n)+lease ${ids[i]} expired or revoked.\n$`),
      );
    }
    const once = await same(t, ["lease", "keep-alive", "--once", "1234"]);
    assert.equal(once.ours.code, 2);
  });

  test("make-mirror: the keys under a prefix, then every change, copied under another prefix", async () => {
    await onAll(t, ["put", "mir/a", "1"]);
    await onAll(t, ["put", "mir/b", "2"]);
    // Each side mirrors into its own server, under cp/.
    const servers = [t.realA, t.realB, t.ours];
    const tools = ["real", "ours", "ours"] as const;
    const mirrors = servers.map(
      (s, i) =>
        new CtlChild(tools[i]!, ["make-mirror", "--prefix=mir/", "--dest-prefix=cp/", s.endpoints()[0]!], {
          endpoints: s.endpoints(),
        }),
    );
    const copied = async (want: string) => {
      for (const s of servers) {
        await until(
          async () => {
            const r = await runCtl("real", ["get", "--prefix", "cp/"], { endpoints: s.endpoints() });
            return r.stdout === want ? true : undefined;
          },
          `cp/ to hold ${JSON.stringify(want)}`,
          10_000,
          100,
        );
      }
    };
    await copied("cp/a\n1\ncp/b\n2\n");
    await onAll(t, ["put", "mir/c", "3"]);
    await onAll(t, ["del", "mir/a"]);
    await copied("cp/b\n2\ncp/c\n3\n");
    await Promise.all(mirrors.map((m) => m.stop()));
    assert.deepEqual(
      mirrors.map((m) => [m.stdout, m.stderr]),
      [
        ["", ""],
        ["", ""],
        ["", ""],
      ],
    );
    await sameAll(
      t,
      [["make-mirror"], ["make-mirror", "--dest-prefix=x", "--no-dest-prefix", "127.0.0.1:1"]],
      {
        realOnly: true,
        timeoutMs: 5000,
      },
    );
  });

  test("lock: holders queue; ETCD_LOCK_KEY for a command; elect: campaign and observe", async () => {
    const first = new ChildTrio(t, ["lock", "mtx"]);
    await first.waitFor((o) => o.startsWith("mtx/"), "the lock");
    const second = new ChildTrio(t, ["lock", "mtx", "--", "sh", "-c", 'echo "got $ETCD_LOCK_KEY"; exit 3']);
    first.signal("SIGINT");
    assert.deepEqual(await first.exited(), [0, 0, 0]);
    // 3.5 exits with the command's status; 3.4 exits 1.
    assert.deepEqual(await second.exited(), [1, 3, 3]);
    first.assertSame();
    second.assertSame();
    assert.match(second.ours.stdout, /^got mtx\/[0-9a-f]+\n$/);
    assert.equal(second.ours.stderr, "Error: exit status 3\n");

    const leader = new ChildTrio(t, ["elect", "el", "alpha"]);
    await leader.waitFor((o) => o.includes("alpha"), "leadership");
    const observer = new ChildTrio(t, ["elect", "-l", "el"]);
    await observer.waitFor((o) => o.includes("alpha"), "the leader's value");
    const next = new ChildTrio(t, ["elect", "el", "beta"]);
    leader.signal("SIGINT");
    assert.deepEqual(await leader.exited(), [0, 0, 0]);
    await next.waitFor((o) => o.includes("beta"), "the next leader");
    await observer.waitFor((o) => o.includes("beta"), "the new leader's value");
    next.signal("SIGINT");
    observer.signal("SIGINT");
    assert.deepEqual(await next.exited(), [0, 0, 0]);
    assert.deepEqual(await observer.exited(), [0, 0, 0]);
    for (const c of [leader, observer, next]) c.assertSame();
    await sameAll(t, [["lock"], ["elect"], ["elect", "a"], ["elect", "-l", "a", "b"]], { realOnly: true });
  });
});
