// member add/remove/update/list/promote. `member add` also prints, in the simple format, the ETCD_*
// settings the new member needs to join.

import { ClusterService, type MemberAddResponse } from "../../../api/gen/etcdserverpb/rpc.js";
import type { CommandSpec, RunContext } from "../command.js";
import { display } from "../display.js";
import { RpcError } from "../errors.js";
import { ExitBadArgs, ExitError, exitWithError } from "../exit.js";
import { commandDeadline, mustClient } from "../globals.js";
import { goQuote } from "../goformat.js";
import { Buf } from "../out.js";
import { SimplePrinter } from "../printer_simple.js";
import { parseHexU64 } from "./kv.js";
import { checkURLs } from "./urls.js";

function rpcFail(e: unknown): never {
  if (e instanceof RpcError) exitWithError(ExitError, e.message);
  throw e;
}

function memberId(ctx: RunContext): bigint {
  if (ctx.args.length !== 1) exitWithError(ExitBadArgs, "member ID is not provided");
  const id = parseHexU64(ctx.args[0]!);
  if (typeof id === "string") exitWithError(ExitBadArgs, `bad member ID arg (${id}), expecting ID in Hex`);
  return id;
}

async function addRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length < 1) exitWithError(ExitBadArgs, "member name not provided");
  if (ctx.args.length > 1) {
    let ev = "too many arguments";
    for (const s of ctx.args) if (s.toLowerCase().startsWith("http")) ev += `, did you mean --peer-urls=${s}`;
    exitWithError(ExitBadArgs, ev);
  }
  const name = ctx.args[0]!;
  const peerURLs = ctx.flags.str("peer-urls");
  if (peerURLs.length === 0) exitWithError(ExitBadArgs, "member peer urls not provided");
  const urls = peerURLs.split(",");
  const deadline = commandDeadline(ctx);
  const conn = await mustClient(ctx);
  // clientv3 checks the URLs before sending (types.NewURLs).
  const bad = checkURLs(urls);
  if (bad !== undefined) exitWithError(ExitError, bad);
  const resp: MemberAddResponse = await conn
    .unary(ClusterService.memberAdd, { peerURLs: urls, isLearner: ctx.flags.bool("learner") }, { deadline })
    .catch(rpcFail);
  const newId = resp.member?.ID ?? 0n;
  display().memberAdd(resp);
  if (display() instanceof SimplePrinter) {
    const conf: string[] = [];
    for (const m of resp.members) {
      for (const u of m.peerURLs) conf.push(`${m.ID === newId ? name : m.name}=${u}`);
    }
    new Buf()
      .line()
      .line(`ETCD_NAME=${goQuote(name)}`)
      .line(`ETCD_INITIAL_CLUSTER=${goQuote(conf.join(","))}`)
      .line(`ETCD_INITIAL_ADVERTISE_PEER_URLS=${goQuote(peerURLs)}`)
      .line('ETCD_INITIAL_CLUSTER_STATE="existing"')
      .flush();
  }
  conn.close();
}

async function removeRun(ctx: RunContext): Promise<void> {
  const id = memberId(ctx);
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(ClusterService.memberRemove, { ID: id }, { deadline: commandDeadline(ctx) })
    .catch(rpcFail);
  display().memberRemove(id, resp);
  conn.close();
}

async function updateRun(ctx: RunContext): Promise<void> {
  const id = memberId(ctx);
  const peerURLs = ctx.flags.str("peer-urls");
  if (peerURLs.length === 0) exitWithError(ExitBadArgs, "member peer urls not provided");
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(
      ClusterService.memberUpdate,
      { ID: id, peerURLs: peerURLs.split(",") },
      { deadline: commandDeadline(ctx) },
    )
    .catch(rpcFail);
  display().memberUpdate(id, resp);
  conn.close();
}

async function listRun(ctx: RunContext): Promise<void> {
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(
      ClusterService.memberList,
      { linearizable: true },
      { deadline: commandDeadline(ctx), idempotent: true },
    )
    .catch(rpcFail);
  display().memberList(resp);
  conn.close();
}

async function promoteRun(ctx: RunContext): Promise<void> {
  const id = memberId(ctx);
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(ClusterService.memberPromote, { ID: id }, { deadline: commandDeadline(ctx) })
    .catch(rpcFail);
  display().memberPromote(id, resp);
  conn.close();
}

export function memberSpec(): CommandSpec {
  return {
    use: "member <subcommand>",
    short: "Membership related commands",
    subcommands: [
      {
        use: "add <memberName> [options]",
        short: "Adds a member into the cluster",
        flags: [
          {
            name: "peer-urls",
            kind: "string",
            def: "",
            usage: "comma separated peer URLs for the new member.",
          },
          { name: "learner", kind: "bool", def: false, usage: "indicates if the new member is raft learner" },
        ],
        run: addRun,
      },
      { use: "remove <memberID>", short: "Removes a member from the cluster", run: removeRun },
      {
        use: "update <memberID> [options]",
        short: "Updates a member in the cluster",
        flags: [
          {
            name: "peer-urls",
            kind: "string",
            def: "",
            usage: "comma separated peer URLs for the updated member.",
          },
        ],
        run: updateRun,
      },
      {
        use: "list",
        short: "Lists all members in the cluster",
        long: `When --write-out is set to simple, this command prints out comma-separated member lists for each endpoint.
The items in the lists are ID, Status, Name, Peer Addrs, Client Addrs, Is Learner.
`,
        run: listRun,
      },
      {
        use: "promote <memberID>",
        short: "Promotes a non-voting member in the cluster",
        long: "Promotes a non-voting learner member to a voting one in the cluster.\n",
        run: promoteRun,
      },
    ],
  };
}
