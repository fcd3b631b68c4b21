// get, put, del, txn, compaction and the global behaviour (flags, ETCDCTL_* variables, errors, exit
// codes, help), compared with the real etcdctl 3.4 (see harness.ts for the three servers and the
// normalisation).
//
// 3.4 vs 3.5 differences met here (we print 3.5's; harness.ts's v35 rewrites 3.4's output): txn's JSON
// oneof keys (`response_put`, not `ResponsePut`); `get --count-only` (3.5 only, in the help texts too);
// `del <key> <range_end>` without `--range` warns on stderr (3.5.x); 3.4 logs warnings with capnslog where
// 3.5 logs zap JSON lines; the root help lists 3.5's commands.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RangeResponse } from "../../../src/api/gen/etcdserverpb/rpc.js";
import { runCtl, same, sameAll, skipWithoutReal, Trio } from "./harness.js";

describe("etcdctl get/put/del/txn/compaction, ours vs the real etcdctl", {
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

  test("put, then get with every option and format", async () => {
    const put = await same(t, ["put", "foo", "bar"]);
    assert.equal(put.ours.stdout, "OK\n");
    // The other keys in one transaction (one command, same revisions everywhere).
    await same(t, ["txn"], {
      stdin: '\nput foo1 bar1\nput foo2 bar2\nput foo3 "a<b>&c\u00e9\\x01"\nput zoo "z z"\n\n\n',
    });
    const rs = await sameAll(t, [
      ["get", "foo"],
      ["get", "nope", "-w", "json"],
      ["get", "--prefix", "foo", "-w", "json"],
      ["get", "--prefix", "foo", "-w", "fields"],
      ["get", "--prefix", "foo", "--limit=2", "-w", "json"],
      ["get", "--from-key", "foo2"],
      ["get", "--prefix", ""],
      ["get", "foo1", "foo3"],
      ["get", "--prefix", "foo", "--sort-by=MODIFY", "--order=DESCEND"],
      ["get", "--prefix", "foo", "--sort-by=value", "--order=descend", "--limit=3"],
      ["get", "--prefix", "foo", "--order=ASCEND", "--sort-by=CREATE"],
      ["get", "--prefix", "foo", "--keys-only", "-w", "json"],
      ["get", "--prefix", "foo", "--print-value-only"],
      ["get", "foo", "--rev", "2", "-w", "json"],
      ["get", "--hex", "--prefix", "foo"],
      ["get", "zoo", "--consistency=s", "-w", "fields"],
      ["-wjson", "get", "foo"],
      ["get", "-w=fields", "foo"],
    ]);
    assert.equal(rs[0]!.ours.stdout, "foo\nbar\n");
    // -w protobuf: the RangeResponse's wire encoding (equal once the header's IDs are zeroed).
    const pb = await Promise.all([
      runCtl("real", ["get", "foo", "--prefix", "-w", "protobuf"], { endpoints: t.realA.endpoints() }),
      runCtl("ours", ["get", "foo", "--prefix", "-w", "protobuf"], { endpoints: t.ours.endpoints() }),
    ]);
    const [a, b] = pb.map((r) => {
      const m = RangeResponse.decode(Buffer.from(r.stdout, "latin1"));
      m.header = { ...m.header!, clusterId: 0n, memberId: 0n, raftTerm: 0n };
      return Buffer.from(RangeResponse.encode(m).finish()).toString("hex");
    });
    assert.equal(b, a);
  });

  test("get: errors and exit codes", async () => {
    const cases: [string[], number, string][] = [
      [["get"], 128, "get command needs one argument as key and an optional argument as range_end"],
      [
        ["get", "a", "--prefix", "--from-key"],
        128,
        "`--prefix` and `--from-key` cannot be set at the same time, choose one",
      ],
      [
        ["get", "a", "b", "--prefix"],
        128,
        "too many arguments, only accept one argument when `--prefix` or `--from-key` is set",
      ],
      [["get", "a", "--consistency=x"], 4, 'unknown consistency flag "x"'],
      [["get", "a", "--order=sideways"], 4, "bad sort order sideways"],
      [["get", "a", "--sort-by=size"], 4, "bad sort target size"],
      [["get", "a", "--rev=1000"], 1, "etcdserver: mvcc: required revision is a future revision"],
      [
        ["get", "a", "--print-value-only", "-w", "json"],
        128,
        "print-value-only is only for `--write-out=simple`",
      ],
      [["get", "a", "-w", "table"], 4, "table not supported as output format"],
      [["get", "a", "--write-out=bogus"], 4, "unsupported output format"],
      [
        ["get", "a", "--limit=x"],
        1,
        'invalid argument "x" for "--limit" flag: strconv.ParseInt: parsing "x": invalid syntax',
      ],
      [["get", "a", "--limit"], 1, "flag needs an argument: --limit"],
      [["get", "a", "-x"], 1, "unknown shorthand flag: 'x' in -x"],
      [["get", "a", "-w"], 1, "flag needs an argument: 'w' in -w"],
      [
        ["--dial-timeout=x", "get", "a"],
        1,
        'invalid argument "x" for "--dial-timeout" flag: time: invalid duration "x"',
      ],
      [
        ["--hex=maybe", "get", "a"],
        1,
        'invalid argument "maybe" for "--hex" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
      ],
    ];
    const rs = await sameAll(
      t,
      cases.map((c) => c[0]),
      { realOnly: true },
    );
    rs.forEach((r, i) => {
      const [args, code, line] = cases[i]!;
      assert.equal(r.ours.code, code, args.join(" "));
      assert.ok(r.ours.stderr.includes(`Error: ${line}\n`), `${args.join(" ")}: ${r.ours.stderr}`);
    });
  });

  test("put: prev-kv, ignore-value, value from stdin, `--`, leases, errors", async () => {
    await same(t, ["put", "foo", "bar2", "--prev-kv"]);
    await same(t, ["put", "foo", "bar3", "--prev-kv", "-w", "json"]);
    await same(t, ["put", "foo", "--ignore-value", "-w", "fields"]);
    await same(t, ["put", "foo", "--ignore-lease", "--prev-kv"], { stdin: "from stdin\nline 2\n" });
    await same(t, ["put", "--", "dash", "-value"]);
    await same(t, ["get", "--prefix", "dash", "-w", "json"]);
    const errs: [string[], number][] = [
      [["put"], 128],
      [["put", "k"], 128],
      [["put", "k", "v", "--ignore-value"], 128],
      [["put", "k", "v", "--lease=xyz"], 128],
      [["put", "k", "v", "--lease=1234abcd"], 1],
      [["put", "", "v"], 1],
    ];
    const rs = await sameAll(
      t,
      errs.map((e) => e[0]),
      { realOnly: true },
    );
    rs.forEach((r, i) => {
      assert.equal(r.ours.code, errs[i]![1], `${errs[i]![0].join(" ")}: ${r.ours.stderr}`);
    });
  });

  test("del: single, prefix, from-key, range, prev-kv, formats, errors", async () => {
    for (const k of ["d1", "d2", "d3", "e1", "e2"]) await same(t, ["put", k, `v-${k}`]);
    await same(t, ["del", "d1"]);
    await same(t, ["del", "d2", "--prev-kv", "-w", "json"]);
    await same(t, ["del", "d", "--prefix", "--prev-kv", "-w", "fields"]);
    // 3.5 warns about a range delete without --range (on stderr); 3.4 does not know the flag.
    const r = await same(t, ["del", "e1", "e3"], { ignoreStderr: true });
    assert.equal(r.ours.stdout, "2\n");
    assert.equal(
      r.ours.stderr,
      "In etcd v3.6, the operation will be suspended for a few seconds to provide the user time to verify range.\n",
    );
    const quiet = await runCtl("ours", ["del", "e1", "e3", "--range"], { endpoints: t.ours.endpoints() });
    assert.deepEqual([quiet.stdout, quiet.stderr], ["0\n", ""]);
    const errs = await sameAll(
      t,
      [
        ["del"],
        ["del", "a", "b", "c"],
        ["del", "a", "--prefix", "--from-key"],
        ["del", "a", "b", "--prefix"],
      ],
      { realOnly: true },
    );
    for (const e of errs) assert.equal(e.ours.code, 128);
  });

  test("txn: stdin, interactive, every format, input errors", async () => {
    await same(t, ["put", "t1", "v1"]);
    const input =
      'value("t1") = "v1"\nmod("t1") > "0"\nver("t1") < "10"\ncreate("t1") != "0"\n\nput t2 "two words"\nget t1\ndel t9\nget t --prefix --keys-only\n\nget t1\n\n';
    for (const w of ["simple", "json", "fields"]) await same(t, ["txn", "-w", w], { stdin: input });
    await same(t, ["txn", "-i"], { stdin: 'value("t1") = "nope"\n\nput t3 x\n\nput t4 y\ndel t2\n\n' });
    await same(t, ["txn", "--interactive", "-w", "json"], { stdin: "\n\n\n" });
    await same(t, ["txn"], { stdin: "c(\"t1\") = \"0\"\n\n'put' 't5' 'single quoted'\n\n\n" });
    const errs: [string, number, string][] = [
      ["bogus\n", 3, "malformed comparison: bogus"],
      ['mod("t1") > 0\n', 3, 'malformed comparison: mod("t1") > 0; got mod("t1") > ""'],
      ['foo("t1") = "1"\n', 3, 'malformed comparison: foo("t1") = "1" (unknown target foo)'],
      ['ver("t1") = "x"\n', 3, 'invalid txn compare request: ver("t1") = "x"'],
      ['mod("t1") > "0"', 3, "EOF"],
      ["\nput\n", 3, "invalid txn compare request: put"],
      ["\nput k\n\n", 128, "put command needs 1 argument and input from stdin or 2 arguments"],
      ["\nnope a b\n", 3, "invalid txn request: nope a b"],
      ["\nget a --bogus\n", 3, "invalid txn request: get a --bogus"],
    ];
    await Promise.all(
      errs.map(async ([stdin, code, line]) => {
        const r = await same(t, ["txn"], { stdin, realOnly: code !== 1 });
        assert.equal(r.ours.code, code, stdin);
        assert.ok(r.ours.stderr.endsWith(`Error: ${line}\n`), `${stdin}: ${r.ours.stderr}`);
      }),
    );
    assert.equal((await same(t, ["txn", "extra"], { realOnly: true })).ours.code, 128);
  });

  test("compaction", async () => {
    const r = await same(t, ["compaction", "3"]);
    assert.equal(r.ours.stdout, "compacted revision 3\n");
    await same(t, ["compaction", "--physical", "4"]);
    await sameAll(t, [["get", "foo", "--rev=2"], ["compaction", "2"], ["compaction"], ["compaction", "x"]]);
  });

  test("commands: lookup by prefix, unknown commands and flags, help texts", async () => {
    await sameAll(
      t,
      [
        ["gte", "a"],
        ["x"],
        ["--bogus", "get", "a"],
        ["ge", "foo"],
        ["lease"],
        ["--help"],
        ["get", "foo", "--help"],
        ["put", "-h"],
        ["help", "del"],
        ["help", "nope"],
        ["member", "add", "--help"],
      ],
      { realOnly: true },
    );
    // check perf / datascale: their refusals (a full run takes a minute).
    await sameAll(
      t,
      [
        ["check", "perf", "--load=huge"],
        ["check", "datascale", "--load=x"],
      ],
      { realOnly: true },
    );
    const busy = await same(t, ["check", "perf", "--prefix=foo"]);
    assert.equal(busy.ours.code, 3);
    const v = await runCtl("ours", ["version"]);
    assert.match(v.stdout, /^etcdctl version: 3\.5\.\d+\nAPI version: 3\.5\n$/);
    const api2 = await runCtl("ours", ["version"], { env: { ETCDCTL_API: "4" } });
    assert.deepEqual([api2.code, api2.stderr], [1, "unsupported API version: 4\n"]);
  });

  test("ETCDCTL_* variables, fail-over, unreachable endpoints", async () => {
    await same(t, ["get", "foo"], { env: { ETCDCTL_WRITE_OUT: "json", ETCDCTL_NOPE: "1" } });
    const shadow = await same(t, ["get", "foo", "-w", "json"], { env: { ETCDCTL_WRITE_OUT: "fields" } });
    assert.equal(shadow.ours.code, 1);
    // A dead endpoint first: the next one answers.
    const live = [t.realA.endpoints()[0]!, t.realB.endpoints()[0]!, t.ours.endpoints()[0]!];
    const fo = await Promise.all([
      runCtl("real", ["--endpoints", `127.0.0.1:1,${live[0]}`, "get", "foo", "--print-value-only"]),
      runCtl("ours", ["--endpoints", `127.0.0.1:1,${live[1]}`, "get", "foo", "--print-value-only"]),
      runCtl("ours", ["--endpoints", `127.0.0.1:1,${live[2]}`, "get", "foo", "--print-value-only"]),
    ]);
    for (const r of fo) assert.deepEqual([r.code, r.stdout], [0, fo[0]!.stdout]);
    // Nothing listening: the command times out as clientv3 does.
    const [real, mine] = await Promise.all(
      (["real", "ours"] as const).map((tool) =>
        runCtl(tool, [
          "--endpoints=127.0.0.1:1",
          "--command-timeout=1s",
          "--dial-timeout=300ms",
          "put",
          "foo",
          "x",
        ]),
      ),
    );
    assert.equal(mine!.code, real!.code);
    assert.equal(mine!.stdout, "");
    assert.equal(mine!.stderr, "Error: context deadline exceeded\n");
  });
});
