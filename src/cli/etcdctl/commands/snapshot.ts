// snapshot save: streams one member's backend to `<path>.part`, checks the trailing SHA-256 (the stream's
// length must be a multiple of 512 plus 32, as etcd checks; we also check the digest itself), fsyncs,
// then renames it to <path>. The deprecated `snapshot status|restore` and `backup` run etcdutl's code.

import { createHash } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { MaintenanceService, type SnapshotResponse } from "../../../api/gen/etcdserverpb/rpc.js";
import { backup, consoleLog, EtcdutlError, snapshotRestore, snapshotStatus } from "../../etcdutl/index.js";
import type { CommandSpec, RunContext } from "../command.js";
import { initDisplay } from "../display.js";
import { fromGrpc } from "../errors.js";
import { ExitBadArgs, ExitError, ExitInterrupted, exitWithError } from "../exit.js";
import type { FlagDef } from "../flags.js";
import { applyEnv, connConfig, newConn } from "../globals.js";
import { humanizeBytes } from "../goformat.js";
import { out, outln, zlog } from "../out.js";

const CHECKSUM = 32;

/** go-humanize's Time for a moment in the past: "now", "1 second ago", "5 seconds ago", ... */
function humanizeSince(startMs: number): string {
  const s = Math.floor((Date.now() - startMs) / 1000);
  if (s < 1) return "now";
  if (s < 2) return "1 second ago";
  if (s < 60) return `${s} seconds ago`;
  if (s < 120) return "1 minute ago";
  return `${Math.floor(s / 60)} minutes ago`;
}

/** Go's *PathError text for a failed open: `open <path>: <reason>`. */
function pathError(op: string, path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EISDIR: "is a directory",
    ENOTDIR: "not a directory",
    EROFS: "read-only file system",
  };
  return `${op} ${path}: ${(code && reasons[code]) ?? String((e as Error).message)}`;
}

/**
 * On a terminal, the download's progress on stderr, redrawn in place (at most 10 times a second):
 * received / total bytes as the server's remaining_bytes tells, and a bar. Never on pipes or files, so
 * scripted output stays etcdctl's.
 */
function progressBar(): (received: number, total: number) => void {
  let last = 0;
  return (received, total) => {
    const now = Date.now();
    if (now - last < 100 && received < total) return;
    last = now;
    const frac = total > 0 ? Math.min(1, received / total) : 0;
    const w = 30;
    const done = Math.round(frac * w);
    process.stderr.write(
      `\r${humanizeBytes(received)} / ${humanizeBytes(total)} [${"=".repeat(done)}${" ".repeat(w - done)}] ${(frac * 100).toFixed(0)}%`,
    );
  };
}

async function save(ctx: RunContext, dbPath: string): Promise<void> {
  applyEnv(ctx);
  const cfg = await connConfig(ctx);
  initDisplay(ctx);
  if (cfg.endpoints.length !== 1) {
    exitWithError(
      ExitInterrupted,
      `snapshot must be requested to one selected node, not multiple [${cfg.endpoints.join(" ")}]`,
    );
  }
  const ep = cfg.endpoints[0]!;
  const conn = await newConn(cfg);
  // Without --command-timeout the download has no deadline.
  const deadline = ctx.flags.changed.has("command-timeout")
    ? Date.now() + ctx.flags.ms("command-timeout")
    : undefined;
  const part = `${dbPath}.part`;
  let fd: number;
  try {
    fd = openSync(part, "w", 0o600);
  } catch (e) {
    exitWithError(ExitInterrupted, `could not open ${part} (${pathError("open", part, e)})`);
  }
  try {
    zlog("info", "snapshot/v3_snapshot.go:65", "created temporary db file", { path: part });
    const started = Date.now();
    const stream = await conn.serverStream(MaintenanceService.snapshot, {}, deadline);
    if (stream === undefined) exitWithError(ExitInterrupted, "context deadline exceeded");
    zlog("info", "v3/maintenance.go:220", "opened snapshot stream; downloading", {}, "client");
    zlog("info", "snapshot/v3_snapshot.go:73", "fetching snapshot", { endpoint: ep });
    const progress = process.stderr.isTTY ? progressBar() : undefined;
    const hash = createHash("sha256");
    let held = Buffer.alloc(0);
    let size = 0;
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (r: SnapshotResponse) => {
        const blob = Buffer.from(r.blob.buffer, r.blob.byteOffset, r.blob.byteLength);
        writeSync(fd, blob);
        size += blob.length;
        progress?.(size, size + Number(r.remainingBytes));
        // The last 32 bytes are the digest: hash everything before them.
        const all = Buffer.concat([held, blob]);
        const keep = Math.min(CHECKSUM, all.length);
        hash.update(all.subarray(0, all.length - keep));
        held = Buffer.from(all.subarray(all.length - keep));
      });
      stream.on("error", (e) => reject(fromGrpc(e)));
      stream.on("end", () => resolve());
    }).catch((e: Error) => exitWithError(ExitInterrupted, e.message));
    if (progress) process.stderr.write("\r\x1b[K");
    zlog("info", "v3/maintenance.go:228", "completed snapshot read; closing", {}, "client");
    if (size % 512 !== CHECKSUM) exitWithError(ExitInterrupted, `sha256 checksum not found [bytes: ${size}]`);
    if (!hash.digest().equals(held)) {
      exitWithError(ExitInterrupted, `sha256 checksum mismatch [bytes: ${size}]`);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    zlog("info", "snapshot/v3_snapshot.go:88", "fetched snapshot", {
      endpoint: ep,
      size: humanizeBytes(size),
      took: humanizeSince(started),
    });
    try {
      renameSync(part, dbPath);
    } catch (e) {
      exitWithError(
        ExitInterrupted,
        `could not rename ${part} to ${dbPath} (${pathError("rename", part, e)})`,
      );
    }
    zlog("info", "snapshot/v3_snapshot.go:97", "saved", { path: dbPath });
  } finally {
    if (fd >= 0) closeSync(fd);
    rmSync(part, { force: true });
    conn.close();
  }
  outln(`Snapshot saved at ${dbPath}`);
}

async function saveRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1) exitWithError(ExitBadArgs, "snapshot save expects one argument");
  await save(ctx, ctx.args[0]!);
}

/**
 * The deprecated offline commands run etcdutl's code, after 3.5's deprecation line on stderr. etcdutl's
 * errors keep their message and exit code.
 */
function viaEtcdutl(deprecated: string, run: (ctx: RunContext) => Promise<string>) {
  return async (ctx: RunContext): Promise<void> => {
    process.stderr.write(`Deprecated: Use \`${deprecated}\` instead.\n\n`);
    let text: string;
    try {
      text = await run(ctx);
    } catch (e) {
      exitWithError(
        e instanceof EtcdutlError ? e.exitCode : ExitError,
        e instanceof Error ? e.message : String(e),
      );
    }
    if (text !== "") out(text);
  };
}

const log = consoleLog((line) => process.stderr.write(line));

const RESTORE_FLAGS: FlagDef[] = [
  { name: "data-dir", kind: "string", def: "", usage: "Path to the data directory" },
  {
    name: "wal-dir",
    kind: "string",
    def: "",
    usage: "Path to the WAL directory (use --data-dir if none given)",
  },
  {
    name: "initial-cluster",
    kind: "string",
    def: "default=http://localhost:2380",
    usage: "Initial cluster configuration for restore bootstrap",
  },
  {
    name: "initial-cluster-token",
    kind: "string",
    def: "etcd-cluster",
    usage: "Initial cluster token for the etcd cluster during restore bootstrap",
  },
  {
    name: "initial-advertise-peer-urls",
    kind: "string",
    def: "http://localhost:2380",
    usage: "List of this member's peer URLs to advertise to the rest of the cluster",
  },
  { name: "name", kind: "string", def: "default", usage: "Human-readable name for this member" },
  {
    name: "skip-hash-check",
    kind: "bool",
    def: false,
    usage: "Ignore snapshot integrity hash value (required if copied from data directory)",
  },
  {
    name: "bump-revision",
    kind: "uint64",
    def: 0n,
    usage: "How much to increase the latest revision after restore",
  },
  {
    name: "mark-compacted",
    kind: "bool",
    def: false,
    usage:
      "Mark the latest revision after restore as the point of scheduled compaction (required if --bump-revision > 0, disallowed otherwise)",
  },
  {
    name: "initial-memory-map-size",
    kind: "uint64",
    def: 0n,
    usage:
      "Initial memory map size of the database in bytes. It uses the default value if not defined or defined to 0",
  },
];

export function snapshotSpec(): CommandSpec {
  return {
    use: "snapshot <subcommand>",
    short: "Manages etcd node snapshots",
    subcommands: [
      { use: "save <filename>", short: "Stores an etcd node backend snapshot to a given file", run: saveRun },
      {
        use: "restore <filename> [options]",
        short: "Restores an etcd member snapshot to an etcd directory",
        long: "Moved to `etcdutl snapshot restore ...`\n",
        flags: RESTORE_FLAGS,
        run: viaEtcdutl("etcdutl snapshot restore", (ctx) =>
          snapshotRestore({
            args: ctx.args,
            dataDir: ctx.flags.str("data-dir") || undefined,
            walDir: ctx.flags.str("wal-dir") || undefined,
            name: ctx.flags.str("name"),
            initialCluster: ctx.flags.str("initial-cluster"),
            initialClusterToken: ctx.flags.str("initial-cluster-token"),
            initialAdvertisePeerUrls: ctx.flags.str("initial-advertise-peer-urls"),
            skipHashCheck: ctx.flags.bool("skip-hash-check"),
            bumpRevision: Number(ctx.flags.int("bump-revision")),
            markCompacted: ctx.flags.bool("mark-compacted"),
            log,
          }),
        ),
      },
      {
        use: "status <filename>",
        short: "[deprecated] Gets backend snapshot status of a given file",
        long: `When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.
The items in the lists are hash, revision, total keys, total size.

Moved to 'etcdutl snapshot status ...'
`,
        run: viaEtcdutl("etcdutl snapshot status", (ctx) =>
          snapshotStatus({ args: ctx.args, writeOut: ctx.flags.str("write-out") }),
        ),
      },
    ],
  };
}

/** etcdctl v2's `backup` (etcdutl backup in 3.5; hidden, as etcdctl v3 has no such command). */
export function backupSpec(): CommandSpec {
  return {
    use: "backup",
    short: "[legacy] offline backup of an etcd directory",
    hidden: true,
    flags: [
      { name: "data-dir", kind: "string", def: "", usage: "Path to the etcd data dir" },
      { name: "wal-dir", kind: "string", def: "", usage: "Path to the etcd wal dir" },
      { name: "backup-dir", kind: "string", def: "", usage: "Path to the backup dir" },
      { name: "backup-wal-dir", kind: "string", def: "", usage: "Path to the backup wal dir" },
      { name: "with-v3", kind: "bool", def: true, usage: "Backup v3 backend data" },
    ],
    run: viaEtcdutl("etcdutl backup", (ctx) =>
      backup({
        dataDir: ctx.flags.str("data-dir"),
        walDir: ctx.flags.str("wal-dir") || undefined,
        backupDir: ctx.flags.str("backup-dir"),
        backupWalDir: ctx.flags.str("backup-wal-dir") || undefined,
        withV3: ctx.flags.bool("with-v3"),
        log,
      }),
    ),
  };
}
