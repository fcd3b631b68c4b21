// The etcdutl command line: etcd 3.5's commands and flags (plus 3.6's `hashkv`), cobra's help and errors.

import { ETCD_SERVER_VERSION } from "../../server/config.js";
import { backup } from "./backup.js";
import { type CommandDef, type FlagDef, type RunContext, resolve } from "./command.js";
import { defrag } from "./defrag.js";
import { EtcdutlError, ExitCode } from "./errors.js";
import { hashKV } from "./hashkv.js";
import { consoleLog } from "./log.js";
import { RESTORE_DEFAULTS, snapshotRestore } from "./restore.js";
import { snapshotStatus } from "./status.js";

export interface MainIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const WRITE_OUT: FlagDef = {
  name: "write-out",
  shorthand: "w",
  type: "string",
  def: "simple",
  usage: "set the output format (fields, json, protobuf, simple, table)",
};

/** backend.InitialMmapSize: accepted for compatibility (LMDB grows its map with the file). */
const INITIAL_MMAP_SIZE = String(10 * 1024 * 1024 * 1024);

const str = (ctx: RunContext, name: string) => ctx.flags.get(name) as string;
const bool = (ctx: RunContext, name: string) => ctx.flags.get(name) as boolean;
const num = (ctx: RunContext, name: string) => ctx.flags.get(name) as number;

function tree(io: MainIO): CommandDef {
  const log = consoleLog(io.stderr);
  return {
    use: "etcdutl",
    short: "An administrative command line tool for etcd3.",
    persistentFlags: [WRITE_OUT],
    subcommands: [
      {
        use: "backup",
        short: "[legacy] offline backup of etcd directory",
        flags: [
          { name: "data-dir", type: "string", def: "", usage: "Path to the etcd data dir", required: true },
          { name: "wal-dir", type: "string", def: "", usage: "Path to the etcd wal dir" },
          { name: "backup-dir", type: "string", def: "", usage: "Path to the backup dir", required: true },
          { name: "backup-wal-dir", type: "string", def: "", usage: "Path to the backup wal dir" },
          { name: "with-v3", type: "bool", def: "true", usage: "Backup v3 backend data" },
        ],
        run: (ctx) =>
          backup({
            dataDir: str(ctx, "data-dir"),
            backupDir: str(ctx, "backup-dir"),
            walDir: str(ctx, "wal-dir"),
            backupWalDir: str(ctx, "backup-wal-dir"),
            withV3: bool(ctx, "with-v3"),
            log,
          }),
      },
      {
        use: "defrag",
        short: "Defragments the storage of the etcd",
        flags: [
          {
            name: "data-dir",
            type: "string",
            def: "",
            usage: "Required. Defragments a data directory not in use by etcd.",
            required: true,
          },
        ],
        run: (ctx) => defrag({ dataDir: str(ctx, "data-dir"), notice: io.stderr }),
      },
      {
        use: "hashkv <filename>",
        short: "Prints the KV history hash of a given file",
        flags: [
          {
            name: "rev",
            type: "int64",
            def: "0",
            usage: "maximum revision to hash (default: latest revision)",
          },
        ],
        run: (ctx) => {
          if (ctx.args.length !== 1) {
            throw new UsageError(`accepts 1 arg(s), received ${ctx.args.length}`, ctx.usage);
          }
          return hashKV({ args: ctx.args, rev: num(ctx, "rev"), writeOut: str(ctx, "write-out") });
        },
      },
      {
        use: "snapshot <subcommand>",
        short: "Manages etcd node snapshots",
        subcommands: [
          {
            use: "restore <filename> --data-dir {output dir} [options]",
            short: "Restores an etcd member snapshot to an etcd directory",
            flags: [
              { name: "data-dir", type: "string", def: "", usage: "Path to the output data directory" },
              {
                name: "wal-dir",
                type: "string",
                def: "",
                usage: "Path to the WAL directory (use --data-dir if none given)",
              },
              {
                name: "initial-cluster",
                type: "string",
                def: RESTORE_DEFAULTS.initialCluster,
                usage: "Initial cluster configuration for restore bootstrap",
              },
              {
                name: "initial-cluster-token",
                type: "string",
                def: RESTORE_DEFAULTS.initialClusterToken,
                usage: "Initial cluster token for the etcd cluster during restore bootstrap",
              },
              {
                name: "initial-advertise-peer-urls",
                type: "string",
                def: RESTORE_DEFAULTS.initialAdvertisePeerUrls,
                usage: "List of this member's peer URLs to advertise to the rest of the cluster",
              },
              {
                name: "name",
                type: "string",
                def: RESTORE_DEFAULTS.name,
                usage: "Human-readable name for this member",
              },
              {
                name: "skip-hash-check",
                type: "bool",
                def: "false",
                usage: "Ignore snapshot integrity hash value (required if copied from data directory)",
              },
              {
                name: "initial-memory-map-size",
                type: "uint64",
                def: INITIAL_MMAP_SIZE,
                usage:
                  "Initial memory map size of the database in bytes. It uses the default value if not defined or defined to 0",
              },
              {
                name: "bump-revision",
                type: "uint64",
                def: "0",
                usage: "How much to increase the latest revision after restore",
              },
              {
                name: "mark-compacted",
                type: "bool",
                def: "false",
                usage:
                  "Mark the latest revision after restore as the point of scheduled compaction (required if --bump-revision > 0, disallowed otherwise)",
              },
            ],
            run: (ctx) =>
              snapshotRestore({
                args: ctx.args,
                dataDir: str(ctx, "data-dir"),
                walDir: str(ctx, "wal-dir"),
                name: str(ctx, "name"),
                initialCluster: str(ctx, "initial-cluster"),
                initialClusterToken: str(ctx, "initial-cluster-token"),
                initialAdvertisePeerUrls: str(ctx, "initial-advertise-peer-urls"),
                skipHashCheck: bool(ctx, "skip-hash-check"),
                bumpRevision: num(ctx, "bump-revision"),
                markCompacted: bool(ctx, "mark-compacted"),
                log,
              }),
          },
          {
            use: "save <filename>",
            short: "Stores an etcd node backend snapshot to a given file",
            hidden: true,
            run: () => {
              throw new EtcdutlError(
                "In order to download snapshot use: `etcdctl snapshot save ...`",
                ExitCode.BadArgs,
              );
            },
          },
          {
            use: "status <filename>",
            short: "Gets backend snapshot status of a given file",
            run: (ctx) => snapshotStatus({ args: ctx.args, writeOut: str(ctx, "write-out") }),
          },
        ],
      },
      {
        use: "version",
        short: "Prints the version of etcdutl",
        run: () =>
          `etcdutl version: ${ETCD_SERVER_VERSION}\nAPI version: ${ETCD_SERVER_VERSION.split(".").slice(0, 2).join(".")}\n`,
      },
    ],
  };
}

/** An argument error found by a command: cobra prints it with the usage. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

const processIO: MainIO = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

/** Runs one etcdutl command line; resolves with the exit code. */
export async function etcdutlMain(argv: string[], io: MainIO = processIO): Promise<number> {
  const outcome = resolve(tree(io), argv);
  switch (outcome.kind) {
    case "help":
      io.stdout(outcome.text);
      return ExitCode.Success;
    case "usageError":
      io.stderr(`Error: ${outcome.message}\n${outcome.usage}`);
      return ExitCode.Error;
  }
  const { cmd, ctx } = outcome;
  if (cmd.use.startsWith("save "))
    io.stderr('Command "save" is deprecated, Use `etcdctl snapshot save` to download snapshot\n');
  try {
    io.stdout(await cmd.run!(ctx));
    return ExitCode.Success;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`Error: ${e.message}\n${e.usage}`);
      return ExitCode.Error;
    }
    io.stderr(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof EtcdutlError ? e.exitCode : ExitCode.Error;
  }
}
