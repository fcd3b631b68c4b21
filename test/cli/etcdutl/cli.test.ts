// etcdutl's command line in process: help and usage texts (cobra's layout), flag and argument errors with
// etcd's messages and exit codes, output formats, and the snapshot file checks that need no member.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { etcdutlMain } from "../../../src/cli/etcdutl/index.js";
import { humanizeBytes, renderTable } from "../../../src/cli/etcdutl/print.js";
import { formatSnapshotStatus } from "../../../src/cli/etcdutl/status.js";

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await etcdutlMain(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), "etcdutl-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const GLOBAL_FLAGS = `Global Flags:
  -w, --write-out string   set the output format (fields, json, protobuf, simple, table) (default "simple")
`;

describe("etcdutl command line", () => {
  test("no arguments and --help print the root usage with commands grouped as cobra does", async () => {
    const expected = `Usage:
  etcdutl [command]

Available Commands:
  backup      [legacy] offline backup of etcd directory
  defrag      Defragments the storage of the etcd
  hashkv      Prints the KV history hash of a given file
  help        Help about any command
  snapshot    Manages etcd node snapshots
  version     Prints the version of etcdutl

Flags:
  -h, --help               help for etcdutl
  -w, --write-out string   set the output format (fields, json, protobuf, simple, table) (default "simple")

Use "etcdutl [command] --help" for more information about a command.
`;
    for (const argv of [[], ["--help"], ["-h"], ["help"]]) {
      const r = await run(argv);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, expected, argv.join(" "));
    }
  });

  test("snapshot restore --help lists its flags sorted and aligned, defaults shown", async () => {
    const r = await run(["snapshot", "restore", "--help"]);
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      `Usage:
  etcdutl snapshot restore <filename> --data-dir {output dir} [options] [flags]

Flags:
      --bump-revision uint                   How much to increase the latest revision after restore
      --data-dir string                      Path to the output data directory
  -h, --help                                 help for restore
      --initial-advertise-peer-urls string   List of this member's peer URLs to advertise to the rest of the cluster (default "http://localhost:2380")
      --initial-cluster string               Initial cluster configuration for restore bootstrap (default "default=http://localhost:2380")
      --initial-cluster-token string         Initial cluster token for the etcd cluster during restore bootstrap (default "etcd-cluster")
      --initial-memory-map-size uint         Initial memory map size of the database in bytes. It uses the default value if not defined or defined to 0 (default 10737418240)
      --mark-compacted                       Mark the latest revision after restore as the point of scheduled compaction (required if --bump-revision > 0, disallowed otherwise)
      --name string                          Human-readable name for this member (default "default")
      --skip-hash-check                      Ignore snapshot integrity hash value (required if copied from data directory)
      --wal-dir string                       Path to the WAL directory (use --data-dir if none given)

${GLOBAL_FLAGS}`,
    );
  });

  test("snapshot without a subcommand, and help snapshot, print the group's usage", async () => {
    const expected = `Usage:
  etcdutl snapshot [command]

Available Commands:
  restore     Restores an etcd member snapshot to an etcd directory
  status      Gets backend snapshot status of a given file

Flags:
  -h, --help   help for snapshot

${GLOBAL_FLAGS}
Use "etcdutl snapshot [command] --help" for more information about a command.
`;
    assert.equal((await run(["snapshot"])).stdout, expected);
    assert.equal((await run(["help", "snapshot"])).stdout, expected);
  });

  test("backup --help shows --with-v3 defaulting to true", async () => {
    const r = await run(["backup", "--help"]);
    assert.match(r.stdout, /^ {6}--with-v3 {17}Backup v3 backend data \(default true\)$/m);
    assert.match(r.stdout, /^ {2}etcdutl backup \[flags\]$/m);
  });

  test("version", async () => {
    const r = await run(["version"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^etcdutl version: 3\.5\.\d+\nAPI version: 3\.5\n$/);
  });

  test("unknown command, unknown flag, missing flag value, required flags: cobra's errors, exit 1", async () => {
    let r = await run(["bogus"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: unknown command "bogus" for "etcdutl"\nRun 'etcdutl --help' for usage.\n`);
    r = await run(["snapshot", "status", "--bogus", "x"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^Error: unknown flag: --bogus\nUsage:\n {2}etcdutl snapshot status <filename> \[flags\]\n/,
    );
    r = await run(["snapshot", "restore", "x", "--data-dir"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: flag needs an argument: --data-dir\n/);
    r = await run(["defrag"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: required flag\(s\) "data-dir" not set\nUsage:\n/);
    r = await run(["backup", "--wal-dir", "x"]);
    assert.match(r.stderr, /^Error: required flag\(s\) "backup-dir", "data-dir" not set\n/);
    r = await run(["snapshot", "restore", "x", "--bump-revision", "abc"]);
    assert.match(
      r.stderr,
      /^Error: invalid argument "abc" for "--bump-revision" flag: strconv.ParseUint: parsing "abc": invalid syntax\n/,
    );
    r = await run(["hashkv"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: accepts 1 arg\(s\), received 0\nUsage:\n/);
  });

  test("command errors: etcd's messages and exit codes, no usage", async () => {
    let r = await run(["snapshot", "status"]);
    assert.deepEqual([r.code, r.stderr], [128, "Error: snapshot status requires exactly one argument\n"]);
    r = await run(["snapshot", "status", join(dir, "missing.db")]);
    assert.deepEqual(
      [r.code, r.stderr],
      [1, `Error: stat ${join(dir, "missing.db")}: no such file or directory\n`],
    );
    r = await run(["snapshot", "restore", "a", "b"]);
    assert.deepEqual([r.code, r.stderr], [128, "Error: snapshot restore requires exactly one argument\n"]);
    r = await run(["snapshot", "restore", "a", "--mark-compacted"]);
    assert.deepEqual([r.code, r.stderr], [128, "Error: --mark-compacted required if --revision-bump > 0\n"]);
    r = await run(["snapshot", "restore", "a", "--bump-revision", "5"]);
    assert.deepEqual([r.code, r.stderr], [128, "Error: --mark-compacted required if --revision-bump > 0\n"]);
    r = await run(["snapshot", "restore", "a", "--name", "x"]);
    assert.equal(r.stderr, `Error: couldn't find local name "x" in the initial cluster configuration\n`);
    r = await run(["snapshot", "restore", "a", "--initial-advertise-peer-urls", "http://10.0.0.1:2380"]);
    assert.match(r.stderr, /^Error: --initial-cluster has default=http:\/\/localhost:2380 but missing from/);
    r = await run(["snapshot", "restore", "a", "--initial-cluster", "default=localhost:2380"]);
    assert.match(r.stderr, /^Error: URL scheme must be http, https, unix, or unixs: localhost:2380\n/);
    r = await run(["snapshot", "save", "x.db"]);
    assert.equal(r.code, 128);
    assert.match(r.stderr, /Error: In order to download snapshot use: `etcdctl snapshot save \.\.\.`\n$/);
    r = await run(["defrag", "--data-dir", join(dir, "nothing")]);
    assert.equal(
      r.stderr,
      `Error: stat ${join(dir, "nothing", "member", "snap", "db")}: no such file or directory\n`,
    );
  });

  test("damaged bbolt files and unknown files are refused with what is wrong", async () => {
    // bbolt's meta page: a 16-byte page header, then the magic 0xED0CDAED little-endian; here with no
    // page size and no valid checksum.
    const bolt = Buffer.alloc(4096 * 4);
    bolt.writeUInt32LE(0xed0cdaed, 16);
    writeFileSync(join(dir, "etcd.db"), Buffer.concat([bolt, Buffer.alloc(32, 7)]));
    let r = await run(["snapshot", "status", join(dir, "etcd.db")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /etcd\.db: bbolt file: bad page size 0\n$/);
    r = await run([
      "snapshot",
      "restore",
      join(dir, "etcd.db"),
      "--data-dir",
      join(dir, "out"),
      "--skip-hash-check",
    ]);
    assert.match(r.stderr, /bbolt file: bad page size 0/);
    assert.equal(existsSync(join(dir, "out")), false, "nothing left behind");
    writeFileSync(join(dir, "junk.db"), Buffer.alloc(1000, 1));
    r = await run(["snapshot", "status", join(dir, "junk.db")]);
    assert.match(r.stderr, /is not an etcd or etcd-ts snapshot or backend file \(unknown format\)/);
  });

  test("-w formats: unknown formats exit 4 before reading the file; protobuf is refused", async () => {
    const s = { hash: 0x97177e85, revision: 2, totalKey: 5, totalSize: 20480 };
    assert.equal(formatSnapshotStatus(s, "simple"), "97177e85, 2, 5, 20 kB\n");
    assert.equal(
      formatSnapshotStatus(s, "json"),
      '{"hash":2534899333,"revision":2,"totalKey":5,"totalSize":20480}\n',
    );
    assert.equal(
      formatSnapshotStatus(s, "fields"),
      '"Hash" : 2534899333\n"Revision" : 2\n"Keys" : 5\n"Size" : 20480\n',
    );
    // As etcdctl 3.4 prints the same status.
    assert.equal(
      formatSnapshotStatus(s, "table"),
      `+----------+----------+------------+------------+
|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |
+----------+----------+------------+------------+
| 97177e85 |        2 |          5 |      20 kB |
+----------+----------+------------+------------+
`,
    );
    writeFileSync(join(dir, "junk2.db"), Buffer.alloc(10, 1));
    const r = await run(["snapshot", "status", join(dir, "junk2.db"), "-w", "yaml"]);
    assert.deepEqual([r.code, r.stderr], [4, "Error: unsupported output format\n"]);
  });

  test("sizes as go-humanize prints them (SI units, Go's rounding)", () => {
    assert.equal(humanizeBytes(0), "0 B");
    assert.equal(humanizeBytes(9), "9 B");
    assert.equal(humanizeBytes(512), "512 B");
    assert.equal(humanizeBytes(20480), "20 kB");
    assert.equal(humanizeBytes(20500), "20 kB"); // 20.5 rounds to even under %.0f
    assert.equal(humanizeBytes(21500), "22 kB");
    assert.equal(humanizeBytes(1_500_000), "1.5 MB");
    assert.equal(humanizeBytes(2_147_483_648), "2.1 GB");
    assert.equal(renderTable(["a"], [["xyz"]]), "+-----+\n|  A  |\n+-----+\n| xyz |\n+-----+\n");
  });
});
