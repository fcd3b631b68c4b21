// alarm list/disarm, defrag, move-leader.

import {
  type AlarmMember,
  AlarmRequest_AlarmAction,
  type AlarmResponse,
  AlarmType,
  MaintenanceService,
} from "../../../api/gen/etcdserverpb/rpc.js";
import { defrag, EtcdutlError } from "../../etcdutl/index.js";
import type { CommandSpec, RunContext } from "../command.js";
import type { Conn } from "../conn.js";
import { display, initDisplay } from "../display.js";
import { RpcError } from "../errors.js";
import { ExitBadArgs, ExitError, exitQuietly, exitWithError } from "../exit.js";
import { applyEnv, commandDeadline, connConfig, mustClient, newConn } from "../globals.js";
import { errln, outln } from "../out.js";
import { CLUSTER_FLAG, endpointsFromCluster } from "./endpoint.js";
import { parseHexU64 } from "./kv.js";

function rpcFail(e: unknown): never {
  if (e instanceof RpcError) exitWithError(ExitError, e.message);
  throw e;
}

async function alarmList(conn: Conn, deadline: number): Promise<AlarmResponse> {
  return conn.unary(
    MaintenanceService.alarm,
    { action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE },
    { deadline, idempotent: true },
  );
}

async function alarmListRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 0) exitWithError(ExitBadArgs, "alarm list command accepts no arguments");
  const conn = await mustClient(ctx);
  const resp = await alarmList(conn, commandDeadline(ctx)).catch(rpcFail);
  display().alarm(resp);
  conn.close();
}

/** clientv3's AlarmDisarm of every alarm: one DEACTIVATE per listed alarm, answers gathered (no header). */
async function alarmDisarmRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 0) exitWithError(ExitBadArgs, "alarm disarm command accepts no arguments");
  const conn = await mustClient(ctx);
  const deadline = commandDeadline(ctx);
  const listed = await alarmList(conn, deadline).catch(rpcFail);
  const alarms: AlarmMember[] = [];
  for (const a of listed.alarms) {
    const r = await conn
      .unary(
        MaintenanceService.alarm,
        { action: AlarmRequest_AlarmAction.DEACTIVATE, memberID: a.memberID, alarm: a.alarm },
        { deadline },
      )
      .catch(rpcFail);
    alarms.push(...r.alarms);
  }
  display().alarm({ header: undefined, alarms });
  conn.close();
}

async function defragRun(ctx: RunContext): Promise<void> {
  if (ctx.flags.str("data-dir").length > 0) {
    process.stderr.write(
      "Use `etcdutl defrag` instead. The --data-dir is going to be decomissioned in v3.6.\n\n",
    );
    try {
      await defrag({ dataDir: ctx.flags.str("data-dir"), notice: (line) => process.stderr.write(line) });
    } catch (e) {
      exitWithError(
        e instanceof EtcdutlError ? e.exitCode : ExitError,
        e instanceof Error ? e.message : String(e),
      );
    }
    return;
  }
  const conn = await mustClient(ctx);
  let failures = 0;
  for (const ep of await endpointsFromCluster(ctx)) {
    try {
      await conn.unary(MaintenanceService.defragment, {}, { deadline: commandDeadline(ctx), endpoint: ep });
      outln(`Finished defragmenting etcd member[${ep}]`);
    } catch (e) {
      errln(`Failed to defragment etcd member[${ep}] (${e instanceof Error ? e.message : String(e)})`);
      failures++;
    }
  }
  conn.close();
  if (failures !== 0) exitQuietly(ExitError);
}

async function moveLeaderRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1) exitWithError(ExitBadArgs, "move-leader command needs 1 argument");
  const target = parseHexU64(ctx.args[0]!);
  if (typeof target === "string") exitWithError(ExitBadArgs, target);
  applyEnv(ctx);
  const base = await connConfig(ctx);
  initDisplay(ctx);
  const eps = base.endpoints;
  const deadline = commandDeadline(ctx);
  let leader: Conn | undefined;
  let leaderId = 0n;
  for (const ep of eps) {
    const c = await newConn({ ...base, endpoints: [ep] });
    const resp = await c.unary(MaintenanceService.status, {}, { deadline, endpoint: ep }).catch(rpcFail);
    if (resp.header?.memberId === resp.leader) {
      leader = c;
      leaderId = resp.leader;
      break;
    }
    c.close();
  }
  if (leader === undefined) exitWithError(ExitBadArgs, `no leader endpoint given at [${eps.join(" ")}]`);
  const resp = await leader
    .unary(MaintenanceService.moveLeader, { targetID: target }, { deadline })
    .catch(rpcFail);
  display().moveLeader(leaderId, target, resp);
  leader.close();
}

export function alarmSpec(): CommandSpec {
  return {
    use: "alarm <subcommand>",
    short: "Alarm related commands",
    subcommands: [
      { use: "disarm", short: "Disarms all alarms", run: alarmDisarmRun },
      { use: "list", short: "Lists all alarms", run: alarmListRun },
    ],
  };
}

export function defragSpec(): CommandSpec {
  return {
    use: "defrag",
    short: "Defragments the storage of the etcd members with given endpoints",
    persistentFlags: [CLUSTER_FLAG],
    flags: [
      {
        name: "data-dir",
        kind: "string",
        def: "",
        usage: "Optional. If present, defragments a data directory not in use by etcd.",
      },
    ],
    run: defragRun,
  };
}

export function moveLeaderSpec(): CommandSpec {
  return {
    use: "move-leader <transferee-member-id>",
    short: "Transfers leadership to another etcd cluster member.",
    run: moveLeaderRun,
  };
}
