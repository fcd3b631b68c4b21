// What etcdctl decides without a server: Go's formatting helpers (quoting, JSON strings, sizes, tab
// writer), flag parsing, and shell completion (compared with the real etcdctl's `__complete`, which
// Debian's 3.4 build has; `completion bash` checked by bash's parser).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { FlagSet } from "../../../src/cli/etcdctl/flags.js";
import { goJsonString, goQuote, hex16, hex016, humanizeBytes } from "../../../src/cli/etcdctl/goformat.js";
import { prefixRangeEnd } from "../../../src/cli/etcdctl/keys.js";
import { renderTable } from "../../../src/cli/etcdctl/table.js";
import { tabwrite } from "../../../src/cli/etcdctl/tabwriter.js";
import { runCtl, skipWithoutReal } from "./harness.js";

test("goQuote is strconv.Quote: escapes, invalid UTF-8 as \\x, printable runes kept", () => {
  assert.equal(goQuote('a"b\\c\n\t\x01'), '"a\\"b\\\\c\\n\\t\\x01"');
  assert.equal(goQuote(new Uint8Array([0x66, 0xff, 0xc3, 0xa9, 0x7f])), '"f\\xffé\\x7f"');
  assert.equal(goQuote("\u2028 \u{1f600}"), '"\\u2028 \u{1f600}"');
  assert.equal(goQuote(new Uint8Array([0xed, 0xa0, 0x80])), '"\\xed\\xa0\\x80"');
});

test("goJsonString is encoding/json's (HTML-safe)", () => {
  assert.equal(
    goJsonString('<a href="x">&\u2028\n\x01'),
    '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u2028\\n\\u0001"',
  );
});

test("IDs and sizes as etcdctl prints them", () => {
  assert.equal(hex016(0x694d7c1c3e2e4f0dn), "694d7c1c3e2e4f0d");
  assert.equal(hex016(0xabn), "00000000000000ab");
  assert.equal(hex16(0xabn), "              ab");
  assert.deepEqual([0, 9, 10, 999, 1000, 20480, 20500, 1_500_000, 1_234_567_890].map(humanizeBytes), [
    "0 B",
    "9 B",
    "10 B",
    "999 B",
    "1.0 kB",
    "20 kB",
    "20 kB",
    "1.5 MB",
    "1.2 GB",
  ]);
  assert.deepEqual([...prefixRangeEnd(new Uint8Array([0x61, 0xff]))], [0x62]);
  assert.deepEqual([...prefixRangeEnd(new Uint8Array([0xff]))], [0]);
});

test("tab writer and table as Go's text/tabwriter and tablewriter lay them out", () => {
  assert.equal(tabwrite("a\tx\nlonger name\ty\n\nz\t1\n"), "a\t\tx\nlonger name\ty\n\nz\t1\n");
  assert.equal(
    renderTable(["endpoint", "health"], [["127.0.0.1:2379", "true"]]),
    "+----------------+--------+\n|    ENDPOINT    | HEALTH |\n+----------------+--------+\n| 127.0.0.1:2379 |   true |\n+----------------+--------+\n",
  );
  // Cells over 30 columns wrap at spaces.
  const t = renderTable(["errors"], [["alarm:NOSPACE, alarm:CORRUPT, something else entirely"]]);
  assert.ok(
    t.split("\n").every((l) => l.length <= 36),
    t,
  );
});

test("flags: pflag's forms and messages", () => {
  const fs = new FlagSet([
    { name: "write-out", short: "w", kind: "string", def: "simple", usage: "" },
    { name: "hex", kind: "bool", def: false, usage: "" },
    { name: "limit", kind: "int64", def: 0n, usage: "" },
    { name: "endpoints", kind: "stringSlice", def: ["127.0.0.1:2379"], usage: "" },
  ]);
  assert.equal(
    fs.parse(["a", "-wjson", "--hex", "--limit", "0x10", "--endpoints=x,y", "--endpoints", "z", "--", "-b"]),
    undefined,
  );
  assert.deepEqual(
    [fs.str("write-out"), fs.bool("hex"), fs.int("limit"), fs.strs("endpoints")],
    ["json", true, 16n, ["x", "y", "z"]],
  );
  assert.deepEqual([fs.args, fs.argsLenAtDash], [["a", "-b"], 1]);
  assert.equal(new FlagSet([]).parse(["--x=1"]), "unknown flag: --x");
  assert.equal(fs.parse(["---x"]), "bad flag syntax: ---x");
});

test("completion: __complete answers as the real etcdctl's; the bash script parses", {
  skip: skipWithoutReal,
}, async () => {
  for (const words of [
    ["l"],
    ["lease", ""],
    ["-"],
    ["get", "--prefix", "--p"],
    ["--endpoints", "x", "get", "--l"],
    ["help", ""],
  ]) {
    const [real, ours] = await Promise.all([
      runCtl("real", ["__complete", ...words]),
      runCtl("ours", ["__complete", ...words]),
    ]);
    // 3.4 still has `migrate`.
    const real35 = real.stdout.replace("migrate\tMigrates keys in a v2 store to a mvcc store\n", "");
    assert.deepEqual(
      [ours.code, ours.stdout, ours.stderr],
      [real.code, real35, real.stderr],
      words.join(" "),
    );
  }
  for (const shell of ["bash", "zsh", "fish", "powershell"]) {
    const r = await runCtl("ours", ["completion", shell]);
    assert.equal(r.code, 0);
    assert.ok(r.stdout.length > 100);
  }
  const bash = await runCtl("ours", ["completion", "bash"]);
  execFileSync("bash", ["-n"], { input: bash.stdout });
});
