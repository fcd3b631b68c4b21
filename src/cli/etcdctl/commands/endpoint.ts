// endpoint health/status/hashkv: one answer per endpoint (the --endpoints list, or with --cluster the
// client URLs of every member), each endpoint asked directly.

import {
  AlarmRequest_AlarmAction,
  AlarmType,
  ClusterService,
  KVService,
  MaintenanceService,
} from "../../../api/gen/etcdserverpb/rpc.js";
import type { CommandSpec, RunContext } from "../command.js";
import { display, initDisplay } from "../display.js";
import { RpcError } from "../errors.js";
import { ExitError, exitQuietly, exitWithError } from "../exit.js";
import type { FlagDef } from "../flags.js";
import {
  applyEnv,
  commandDeadline,
  connConfig,
  endpointsFromFlags,
  mustClient,
  newConn,
} from "../globals.js";
import { formatGoDuration } from "../goformat.js";
import { keyBytes } from "../keys.js";
import { errln } from "../out.js";
import type { EpHashKV, EpHealth, EpStatus } from "../printer.js";
import { rangeRequest } from "./kv.js";

export const CLUSTER_FLAG: FlagDef = {
  name: "cluster",
  kind: "bool",
  def: false,
  usage: "use all endpoints from the cluster member list",
};

/** endpointsFromCluster: --endpoints, or with --cluster the client URLs of the members. */
export async function endpointsFromCluster(ctx: RunContext): Promise<string[]> {
  if (!ctx.flags.bool("cluster")) return ctx.flags.strs("endpoints");
  const conn = await newConn(await connConfig(ctx, await endpointsFromFlags(ctx.flags)));
  try {
    const membs = await conn.unary(
      ClusterService.memberList,
      { linearizable: true },
      { deadline: commandDeadline(ctx), idempotent: true },
    );
    return membs.members.flatMap((m) => m.clientURLs);
  } catch (e) {
    if (e instanceof RpcError) {
      exitWithError(ExitError, `failed to fetch endpoints from etcd cluster member list: ${e.message}`);
    }
    throw e;
  } finally {
    conn.close();
  }
}

async function healthOf(ctx: RunContext, ep: string): Promise<EpHealth> {
  const conn = await newConn(await connConfig(ctx, [ep])).catch((e: Error) => e);
  if (conn instanceof Error) return { ep, health: false, took: "", error: conn.message };
  const deadline = commandDeadline(ctx);
  const st = process.hrtime.bigint();
  const h: EpHealth = { ep, health: false, took: "", error: "" };
  try {
    await conn.unary(KVService.range, rangeRequest(keyBytes("health")), { deadline, idempotent: true });
    h.health = true;
  } catch (e) {
    if (e instanceof RpcError && e.is("etcdserver: permission denied")) h.health = true;
    else h.error = e instanceof Error ? e.message : String(e);
  }
  h.took = formatGoDuration(Number(process.hrtime.bigint() - st));
  if (h.health) {
    try {
      const resp = await conn.unary(
        MaintenanceService.alarm,
        { action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE },
        { deadline, idempotent: true },
      );
      if (resp.alarms.length > 0) {
        h.health = false;
        h.error = "Active Alarm(s): ";
        for (const a of resp.alarms) {
          h.error +=
            a.alarm === AlarmType.NOSPACE
              ? "NOSPACE "
              : a.alarm === AlarmType.CORRUPT
                ? "CORRUPT "
                : "UNKNOWN ";
        }
      }
    } catch {
      h.health = false;
      h.error = "Unable to fetch the alarm list";
    }
  }
  conn.close();
  return h;
}

async function healthRun(ctx: RunContext): Promise<void> {
  applyEnv(ctx);
  initDisplay(ctx);
  const eps = await endpointsFromCluster(ctx);
  const list: EpHealth[] = [];
  // Reported in the order the answers arrive, as etcdctl's channel collects them.
  await Promise.all(eps.map((ep) => healthOf(ctx, ep).then((h) => list.push(h))));
  display().endpointHealth(list);
  if (list.some((h) => h.error !== "")) exitWithError(ExitError, "unhealthy cluster");
}

async function statusRun(ctx: RunContext): Promise<void> {
  const conn = await mustClient(ctx);
  const list: EpStatus[] = [];
  let failed = false;
  for (const ep of await endpointsFromCluster(ctx)) {
    try {
      const resp = await conn.unary(
        MaintenanceService.status,
        {},
        { deadline: commandDeadline(ctx), endpoint: ep },
      );
      list.push({ ep, resp });
    } catch (e) {
      failed = true;
      errln(`Failed to get the status of endpoint ${ep} (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  display().endpointStatus(list);
  conn.close();
  if (failed) exitQuietly(ExitError);
}

async function hashKVRun(ctx: RunContext): Promise<void> {
  const conn = await mustClient(ctx);
  const list: EpHashKV[] = [];
  let err: string | undefined;
  const rev = ctx.flags.int("rev");
  for (const ep of await endpointsFromCluster(ctx)) {
    try {
      const resp = await conn.unary(
        MaintenanceService.hashKv,
        { revision: rev },
        { deadline: commandDeadline(ctx), endpoint: ep },
      );
      list.push({ ep, resp });
    } catch (e) {
      err = e instanceof Error ? e.message : String(e);
      errln(`Failed to get the hash of endpoint ${ep} (${err})`);
    }
  }
  display().endpointHashKV(list);
  conn.close();
  if (err !== undefined) exitWithError(ExitError, err);
}

export function endpointSpec(): CommandSpec {
  return {
    use: "endpoint <subcommand>",
    short: "Endpoint related commands",
    persistentFlags: [CLUSTER_FLAG],
    subcommands: [
      {
        use: "health",
        short: "Checks the healthiness of endpoints specified in `--endpoints` flag",
        run: healthRun,
      },
      {
        use: "status",
        short: "Prints out the status of endpoints specified in `--endpoints` flag",
        long: `When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.
The items in the lists are endpoint, ID, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors.
`,
        run: statusRun,
      },
      {
        use: "hashkv",
        short: "Prints the KV history hash for each endpoint in --endpoints",
        persistentFlags: [
          { name: "rev", kind: "int64", def: 0n, usage: "maximum revision to hash (default: all revisions)" },
        ],
        run: hashKVRun,
      },
    ],
  };
}
