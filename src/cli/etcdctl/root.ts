// The command tree: etcdctl 3.5's commands, in ctl.go's terms.

import type { CommandSpec } from "./command.js";
import { authSpec, roleSpec, userSpec } from "./commands/auth.js";
import { checkSpec } from "./commands/check.js";
import { compactionSpec } from "./commands/compaction.js";
import { completionSpec } from "./commands/completion.js";
import { endpointSpec } from "./commands/endpoint.js";
import { delSpec, getSpec, putSpec } from "./commands/kv.js";
import { leaseSpec } from "./commands/lease.js";
import { electSpec, lockSpec } from "./commands/lock.js";
import { alarmSpec, defragSpec, moveLeaderSpec } from "./commands/maintenance.js";
import { memberSpec } from "./commands/member.js";
import { makeMirrorSpec } from "./commands/mirror.js";
import { backupSpec, snapshotSpec } from "./commands/snapshot.js";
import { txnSpec } from "./commands/txn.js";
import { versionSpec } from "./commands/version.js";
import { watchSpec } from "./commands/watch.js";
import { GLOBAL_FLAGS } from "./globals.js";

export function rootSpec(): CommandSpec {
  return {
    use: "etcdctl",
    short: "A simple command line client for etcd3.",
    suggestFor: ["etcdctl"],
    persistentFlags: GLOBAL_FLAGS,
    subcommands: [
      getSpec(),
      putSpec(),
      delSpec(),
      txnSpec(),
      compactionSpec(),
      alarmSpec(),
      defragSpec(),
      endpointSpec(),
      moveLeaderSpec(),
      watchSpec(),
      versionSpec(),
      leaseSpec(),
      memberSpec(),
      snapshotSpec(),
      makeMirrorSpec(),
      lockSpec(),
      electSpec(),
      authSpec(),
      userSpec(),
      roleSpec(),
      checkSpec(),
      completionSpec(),
      backupSpec(),
    ],
  };
}
