// compaction: discards the key history up to a revision (--physical: waits until it is removed from the
// backend).

import { KVService } from "../../../api/gen/etcdserverpb/rpc.js";
import type { CommandSpec, RunContext } from "../command.js";
import { ExitBadArgs, ExitError, exitWithError } from "../exit.js";
import { commandDeadline, mustClient } from "../globals.js";
import { outln } from "../out.js";
import { parseDec64, rpcExit } from "./kv.js";

async function compactionRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1) exitWithError(ExitBadArgs, "compaction command needs 1 argument");
  const rev = parseDec64(ctx.args[0]!);
  if (typeof rev === "string") exitWithError(ExitError, rev);
  const conn = await mustClient(ctx);
  await conn
    .unary(
      KVService.compact,
      { revision: rev, physical: ctx.flags.bool("physical") },
      { deadline: commandDeadline(ctx) },
    )
    .catch(rpcExit);
  outln(`compacted revision ${rev}`);
  conn.close();
}

export function compactionSpec(): CommandSpec {
  return {
    use: "compaction [options] <revision>",
    short: "Compacts the event history in etcd",
    flags: [
      {
        name: "physical",
        kind: "bool",
        def: false,
        usage: "'true' to wait for compaction to physically remove all old revisions",
      },
    ],
    run: compactionRun,
  };
}
