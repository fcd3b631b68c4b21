// lease grant/revoke/timetolive/list/keep-alive. Lease IDs are hexadecimal on the command line and in
// the simple output. keep-alive renews every TTL/3 (as clientv3 does) until the lease is gone.

import { type ClientDuplexStream, type ServiceError, status } from "@grpc/grpc-js";
import {
  type LeaseKeepAliveRequest,
  type LeaseKeepAliveResponse,
  LeaseService,
} from "../../../api/gen/etcdserverpb/rpc.js";
import type { CommandSpec, RunContext } from "../command.js";
import type { Conn } from "../conn.js";
import { display } from "../display.js";
import { canceledError, fromGrpc, RpcError } from "../errors.js";
import { ExitBadArgs, ExitBadConnection, ExitError, exitWithError } from "../exit.js";
import { commandDeadline, mustClient } from "../globals.js";
import { hex016 } from "../goformat.js";
import { outln } from "../out.js";
import { SimplePrinter } from "../printer_simple.js";
import { parseDec64, parseHex64 } from "./kv.js";

export function leaseFromArg(arg: string): bigint {
  const id = parseHex64(arg);
  if (typeof id === "string") exitWithError(ExitBadArgs, `bad lease ID arg (${id}), expecting ID in Hex`);
  return id;
}

function fail(code: number, wrap?: string): (e: unknown) => never {
  return (e) => {
    if (e instanceof RpcError) exitWithError(code, wrap ? `${wrap} (${e.message})` : e.message);
    throw e;
  };
}

async function grantRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1) exitWithError(ExitBadArgs, "lease grant command needs TTL argument");
  const ttl = parseDec64(ctx.args[0]!);
  if (typeof ttl === "string") exitWithError(ExitBadArgs, `bad TTL (${ttl})`);
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(LeaseService.leaseGrant, { TTL: ttl, ID: 0n }, { deadline: commandDeadline(ctx) })
    .catch(fail(ExitError, "failed to grant lease"));
  display().grant(resp);
  conn.close();
}

async function revokeRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1) exitWithError(ExitBadArgs, "lease revoke command needs 1 argument");
  const id = leaseFromArg(ctx.args[0]!);
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(LeaseService.leaseRevoke, { ID: id }, { deadline: commandDeadline(ctx) })
    .catch(fail(ExitError, "failed to revoke lease"));
  display().revoke(id, resp);
  conn.close();
}

async function timeToLiveRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1)
    exitWithError(ExitBadArgs, "lease timetolive command needs lease ID as argument");
  const keys = ctx.flags.bool("keys");
  const id = leaseFromArg(ctx.args[0]!);
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(LeaseService.leaseTimeToLive, { ID: id, keys }, { deadline: undefined, idempotent: true })
    .catch(fail(ExitBadConnection));
  display().timeToLive(resp, keys);
  conn.close();
}

async function listRun(ctx: RunContext): Promise<void> {
  const conn = await mustClient(ctx);
  const resp = await conn
    .unary(LeaseService.leaseLeases, {}, { deadline: undefined, idempotent: true })
    .catch(fail(ExitBadConnection));
  display().leases(resp);
  conn.close();
}

/**
 * clientv3's lease keep-alive loop for one lease: a keep-alive now, then each TTL/3 after the last answer;
 * `onResponse` sees every answer. When the stream breaks with UNAVAILABLE or INTERNAL, a new one is opened
 * (on the next endpoint) and the keep-alives go on. Resolves when the lease is gone: an answer with
 * TTL <= 0, or no answer before the lease would have expired (TTL after the last answer; dial timeout +
 * 1 s for the first). Rejects when the stream fails otherwise. `stop()` ends it.
 */
export class KeepAlive {
  private stream: ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly deadlineTimer: NodeJS.Timeout;
  private deadline: number;
  private stopped = false;
  readonly done: Promise<void>;
  private settle!: { resolve: () => void; reject: (e: unknown) => void };

  constructor(
    private readonly conn: Conn,
    private readonly id: bigint,
    private readonly onResponse: (r: LeaseKeepAliveResponse) => void,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.deadline = Date.now() + conn.cfg.dialTimeoutMs + 1000;
    this.deadlineTimer = setInterval(() => {
      if (Date.now() > this.deadline) this.finish();
    }, 500);
    this.start().catch((e) => this.finish(e));
  }

  private finish(e?: unknown): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    clearInterval(this.deadlineTimer);
    this.stopped = true;
    this.stream?.cancel();
    if (e === undefined) this.settle.resolve();
    else this.settle.reject(e);
  }

  private async start(): Promise<void> {
    const s = await this.conn.bidi<LeaseKeepAliveRequest, LeaseKeepAliveResponse>(
      LeaseService.leaseKeepAlive,
      undefined,
    );
    if (s === undefined || this.stopped) {
      s?.cancel();
      return;
    }
    this.stream = s;
    s.on("data", (r: LeaseKeepAliveResponse) => {
      if (this.stopped || this.stream !== s) return;
      if (r.TTL <= 0n) {
        this.finish();
        return;
      }
      this.deadline = Date.now() + Number(r.TTL) * 1000;
      this.onResponse(r);
      const next = Math.max((Number(r.TTL) * 1000) / 3, 500);
      this.timer = setTimeout(() => this.send(), next);
    });
    const broken = (e: ServiceError | undefined) => {
      if (this.stopped || this.stream !== s) return;
      this.stream = undefined;
      if (this.timer) clearTimeout(this.timer);
      const retry = e !== undefined && (e.code === status.UNAVAILABLE || e.code === status.INTERNAL);
      if (!retry) {
        this.finish(e === undefined ? canceledError() : fromGrpc(e));
        return;
      }
      // clientv3 waits 500 ms before opening a new stream.
      this.timer = setTimeout(() => this.start().catch((err) => this.finish(err)), 500);
    };
    s.on("error", (e: ServiceError) => broken(e));
    s.on("end", () => broken(undefined));
    this.send();
  }

  private send(): void {
    if (!this.stopped) this.stream?.write({ ID: this.id });
  }

  stop(): void {
    this.finish();
  }
}

async function keepAliveRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1)
    exitWithError(ExitBadArgs, "lease keep-alive command needs lease ID as argument");
  const id = leaseFromArg(ctx.args[0]!);
  const conn = await mustClient(ctx);
  if (ctx.flags.bool("once")) {
    let got: LeaseKeepAliveResponse | undefined;
    const ka = new KeepAlive(conn, id, (r) => {
      got = r;
      ka.stop();
    });
    await ka.done.catch(fail(ExitBadConnection));
    if (got === undefined) exitWithError(ExitBadConnection, "etcdserver: requested lease not found");
    display().keepAlive(got);
    conn.close();
    return;
  }
  const ka = new KeepAlive(conn, id, (r) => display().keepAlive(r));
  await ka.done.catch(() => undefined);
  if (display() instanceof SimplePrinter) outln(`lease ${hex016(id)} expired or revoked.`);
  conn.close();
}

export function leaseSpec(): CommandSpec {
  return {
    use: "lease <subcommand>",
    short: "Lease related commands",
    subcommands: [
      { use: "grant <ttl>", short: "Creates leases", run: grantRun },
      { use: "revoke <leaseID>", short: "Revokes leases", run: revokeRun },
      {
        use: "timetolive <leaseID> [options]",
        short: "Get lease information",
        flags: [{ name: "keys", kind: "bool", def: false, usage: "Get keys attached to this lease" }],
        run: timeToLiveRun,
      },
      { use: "list", short: "List all active leases", run: listRun },
      {
        use: "keep-alive [options] <leaseID>",
        short: "Keeps leases alive (renew)",
        flags: [
          {
            name: "once",
            kind: "bool",
            def: false,
            usage: "Resets the keep-alive time to its original value and cobrautl.Exits immediately",
          },
        ],
        run: keepAliveRun,
      },
    ],
  };
}
