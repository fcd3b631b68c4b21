// etcd's /v3/* JSON gateway (grpc-gateway v1 as etcd 3.5 serves it): POST a request message as JSON,
// get the response message as JSON. Field names are the proto names (snake_case; the lowerCamel JSON
// names are accepted too), bytes are base64, 64-bit integers are strings, default values are left out.
// Errors: {"error":msg,"code":grpcCode,"message":msg} with the HTTP status grpc-gateway maps the code to.
// Streams (/v3/watch, /v3/lease/keepalive, /v3/maintenance/snapshot): one {"result":{...}} line per
// message; requests are read from the body as a sequence of JSON values.

import type { IncomingMessage, ServerResponse } from "node:http";
import { type CallCredentials, callCredentials } from "../auth/call_context.js";
import { GRPC_OVERHEAD_BYTES } from "../server/convert.js";
import { EtcdError, Status, toEtcdError } from "../server/errors.js";
import { campaign, leader, observe, proclaim, resign } from "./concurrency/election.js";
import { lock } from "./concurrency/lock.js";
import * as pb from "./gen/etcdserverpb/rpc.js";
import {
  CampaignRequest,
  CampaignResponse,
  LeaderRequest,
  LeaderResponse,
  ProclaimRequest,
  ProclaimResponse,
  ResignRequest,
  ResignResponse,
} from "./gen/v3electionpb/v3election.js";
import { LockRequest, LockResponse, UnlockRequest, UnlockResponse } from "./gen/v3lockpb/v3lock.js";
import { AuthRpc } from "./grpc/auth.js";
import type { ApiLogger } from "./types.js";
import type { V3Rpc } from "./v3rpc.js";
import { WatchSession } from "./watch.js";

interface Codec<T> {
  fromJSON(o: unknown): T;
  toJSON(m: T): unknown;
  encode(m: T): { finish(): Uint8Array };
}

interface UnaryRoute<Req, Res> {
  kind: "unary";
  req: Codec<Req>;
  res: Codec<Res>;
  /** `signal` aborts when the HTTP client goes away (Lock and Campaign wait for their turn). */
  call: (rpc: V3Rpc, r: Req, signal: AbortSignal) => Promise<Res>;
}

type Route =
  | UnaryRoute<unknown, unknown>
  | { kind: "watch" }
  | { kind: "keepalive" }
  | { kind: "snapshot" }
  | { kind: "observe" };

function unaryRoute<Req, Res>(
  req: Codec<Req>,
  res: Codec<Res>,
  call: (rpc: V3Rpc, r: Req, signal: AbortSignal) => Promise<Res>,
): Route {
  return { kind: "unary", req, res, call } as unknown as Route;
}

const leaseRevoke = unaryRoute(pb.LeaseRevokeRequest, pb.LeaseRevokeResponse, (a, r) => a.leaseRevoke(r));
const leaseTimeToLive = unaryRoute(pb.LeaseTimeToLiveRequest, pb.LeaseTimeToLiveResponse, (a, r) =>
  a.leaseTimeToLive(r),
);
const leaseLeases = unaryRoute(pb.LeaseLeasesRequest, pb.LeaseLeasesResponse, (a) => a.leaseLeases());

const ROUTES: Record<string, Route> = {
  "/v3/kv/range": unaryRoute(pb.RangeRequest, pb.RangeResponse, (a, r) => a.range(r)),
  "/v3/kv/put": unaryRoute(pb.PutRequest, pb.PutResponse, (a, r) => a.put(r)),
  "/v3/kv/deleterange": unaryRoute(pb.DeleteRangeRequest, pb.DeleteRangeResponse, (a, r) => a.deleteRange(r)),
  "/v3/kv/txn": unaryRoute(pb.TxnRequest, pb.TxnResponse, (a, r) => a.txn(r)),
  "/v3/kv/compaction": unaryRoute(pb.CompactionRequest, pb.CompactionResponse, (a, r) => a.compact(r)),
  "/v3/watch": { kind: "watch" },
  "/v3/lease/grant": unaryRoute(pb.LeaseGrantRequest, pb.LeaseGrantResponse, (a, r) => a.leaseGrant(r)),
  "/v3/lease/revoke": leaseRevoke,
  "/v3/kv/lease/revoke": leaseRevoke,
  "/v3/lease/keepalive": { kind: "keepalive" },
  "/v3/lease/timetolive": leaseTimeToLive,
  "/v3/kv/lease/timetolive": leaseTimeToLive,
  "/v3/lease/leases": leaseLeases,
  "/v3/kv/lease/leases": leaseLeases,
  "/v3/cluster/member/add": unaryRoute(pb.MemberAddRequest, pb.MemberAddResponse, (a, r) => a.memberAdd(r)),
  "/v3/cluster/member/remove": unaryRoute(pb.MemberRemoveRequest, pb.MemberRemoveResponse, (a, r) =>
    a.memberRemove(r),
  ),
  "/v3/cluster/member/update": unaryRoute(pb.MemberUpdateRequest, pb.MemberUpdateResponse, (a, r) =>
    a.memberUpdate(r),
  ),
  "/v3/cluster/member/list": unaryRoute(pb.MemberListRequest, pb.MemberListResponse, (a, r) =>
    a.memberList(r),
  ),
  "/v3/cluster/member/promote": unaryRoute(pb.MemberPromoteRequest, pb.MemberPromoteResponse, (a, r) =>
    a.memberPromote(r),
  ),
  "/v3/maintenance/alarm": unaryRoute(pb.AlarmRequest, pb.AlarmResponse, (a, r) => a.alarm(r)),
  "/v3/maintenance/status": unaryRoute(pb.StatusRequest, pb.StatusResponse, (a) => a.status()),
  "/v3/maintenance/defragment": unaryRoute(pb.DefragmentRequest, pb.DefragmentResponse, (a) =>
    a.defragment(),
  ),
  "/v3/maintenance/hash": unaryRoute(pb.HashRequest, pb.HashResponse, (a) => a.hash()),
  "/v3/maintenance/hashkv": unaryRoute(pb.HashKVRequest, pb.HashKVResponse, (a, r) => a.hashKV(r)),
  "/v3/maintenance/snapshot": { kind: "snapshot" },
  "/v3/maintenance/transfer-leadership": unaryRoute(pb.MoveLeaderRequest, pb.MoveLeaderResponse, (a, r) =>
    a.moveLeader(r),
  ),
  "/v3/maintenance/downgrade": unaryRoute(pb.DowngradeRequest, pb.DowngradeResponse, (a, r) =>
    a.downgrade(r),
  ),
};

const auth = (a: V3Rpc) => new AuthRpc(a);
Object.assign(ROUTES, {
  "/v3/auth/enable": unaryRoute(pb.AuthEnableRequest, pb.AuthEnableResponse, (a, r) => auth(a).authEnable(r)),
  "/v3/auth/disable": unaryRoute(pb.AuthDisableRequest, pb.AuthDisableResponse, (a, r) =>
    auth(a).authDisable(r),
  ),
  "/v3/auth/status": unaryRoute(pb.AuthStatusRequest, pb.AuthStatusResponse, (a, r) => auth(a).authStatus(r)),
  "/v3/auth/authenticate": unaryRoute(pb.AuthenticateRequest, pb.AuthenticateResponse, (a, r) =>
    auth(a).authenticate(r),
  ),
  "/v3/auth/user/add": unaryRoute(pb.AuthUserAddRequest, pb.AuthUserAddResponse, (a, r) =>
    auth(a).userAdd(r),
  ),
  "/v3/auth/user/get": unaryRoute(pb.AuthUserGetRequest, pb.AuthUserGetResponse, (a, r) =>
    auth(a).userGet(r),
  ),
  "/v3/auth/user/list": unaryRoute(pb.AuthUserListRequest, pb.AuthUserListResponse, (a, r) =>
    auth(a).userList(r),
  ),
  "/v3/auth/user/delete": unaryRoute(pb.AuthUserDeleteRequest, pb.AuthUserDeleteResponse, (a, r) =>
    auth(a).userDelete(r),
  ),
  "/v3/auth/user/changepw": unaryRoute(
    pb.AuthUserChangePasswordRequest,
    pb.AuthUserChangePasswordResponse,
    (a, r) => auth(a).userChangePassword(r),
  ),
  "/v3/auth/user/grant": unaryRoute(pb.AuthUserGrantRoleRequest, pb.AuthUserGrantRoleResponse, (a, r) =>
    auth(a).userGrantRole(r),
  ),
  "/v3/auth/user/revoke": unaryRoute(pb.AuthUserRevokeRoleRequest, pb.AuthUserRevokeRoleResponse, (a, r) =>
    auth(a).userRevokeRole(r),
  ),
  "/v3/auth/role/add": unaryRoute(pb.AuthRoleAddRequest, pb.AuthRoleAddResponse, (a, r) =>
    auth(a).roleAdd(r),
  ),
  "/v3/auth/role/get": unaryRoute(pb.AuthRoleGetRequest, pb.AuthRoleGetResponse, (a, r) =>
    auth(a).roleGet(r),
  ),
  "/v3/auth/role/list": unaryRoute(pb.AuthRoleListRequest, pb.AuthRoleListResponse, (a, r) =>
    auth(a).roleList(r),
  ),
  "/v3/auth/role/delete": unaryRoute(pb.AuthRoleDeleteRequest, pb.AuthRoleDeleteResponse, (a, r) =>
    auth(a).roleDelete(r),
  ),
  "/v3/auth/role/grant": unaryRoute(
    pb.AuthRoleGrantPermissionRequest,
    pb.AuthRoleGrantPermissionResponse,
    (a, r) => auth(a).roleGrantPermission(r),
  ),
  "/v3/auth/role/revoke": unaryRoute(
    pb.AuthRoleRevokePermissionRequest,
    pb.AuthRoleRevokePermissionResponse,
    (a, r) => auth(a).roleRevokePermission(r),
  ),
} satisfies Record<string, Route>);
Object.assign(ROUTES, {
  "/v3/lock/lock": unaryRoute(LockRequest, LockResponse, (a, r, signal) => lock(a, r.name, r.lease, signal)),
  "/v3/lock/unlock": unaryRoute(UnlockRequest, UnlockResponse, async (a, r) => ({
    header: (await a.deleteRange({ key: r.key, rangeEnd: new Uint8Array(), prevKv: false })).header,
  })),
  "/v3/election/campaign": unaryRoute(CampaignRequest, CampaignResponse, (a, r, signal) =>
    campaign(a, r.name, r.lease, r.value, signal),
  ),
  "/v3/election/proclaim": unaryRoute(ProclaimRequest, ProclaimResponse, (a, r) =>
    proclaim(a, r.leader, r.value),
  ),
  "/v3/election/leader": unaryRoute(LeaderRequest, LeaderResponse, (a, r) => leader(a, r.name)),
  "/v3/election/observe": { kind: "observe" },
  "/v3/election/resign": unaryRoute(ResignRequest, ResignResponse, (a, r) => resign(a, r.leader)),
} satisfies Record<string, Route>);

/** grpc-gateway v1's HTTPStatusFromCode. */
export function httpStatusOf(code: number): number {
  switch (code) {
    case Status.OK:
      return 200;
    case Status.CANCELLED:
      return 408;
    case Status.UNKNOWN:
      return 500;
    case Status.INVALID_ARGUMENT:
      return 400;
    case Status.DEADLINE_EXCEEDED:
      return 504;
    case Status.NOT_FOUND:
      return 404;
    case Status.ALREADY_EXISTS:
      return 409;
    case Status.PERMISSION_DENIED:
      return 403;
    case Status.UNAUTHENTICATED:
      return 401;
    case Status.RESOURCE_EXHAUSTED:
      return 429;
    case Status.FAILED_PRECONDITION:
      return 400;
    case Status.ABORTED:
      return 409;
    case Status.OUT_OF_RANGE:
      return 400;
    case Status.UNIMPLEMENTED:
      return 501;
    case Status.INTERNAL:
      return 500;
    case Status.UNAVAILABLE:
      return 503;
    case Status.DATA_LOSS:
      return 500;
    default:
      return 500;
  }
}

const JSON_TYPE = "application/json";

/** grpc-gateway's error body for a unary call. */
function writeError(res: ServerResponse, err: unknown): void {
  const e = toEtcdError(err);
  const body = JSON.stringify({ error: e.message, code: e.code, message: e.message });
  res.writeHead(httpStatusOf(e.code), { "Content-Type": JSON_TYPE });
  res.end(body);
}

/** grpc-gateway's in-stream error chunk. */
function streamErrorChunk(err: unknown): string {
  const e = toEtcdError(err);
  const http = httpStatusOf(e.code);
  return `${JSON.stringify({
    error: { grpc_code: e.code, http_code: http, message: e.message, http_status: HTTP_TEXT[http] ?? "" },
  })}\n`;
}

const HTTP_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * The credentials of a gateway request: the token in the Authorization header ("Bearer " optional), as
 * grpc-gateway forwards it, or in Grpc-Metadata-Token. A client certificate does not name a user here
 * (etcd's gateway reaches the server with its own certificate, whose name it ignores).
 */
export function gatewayCredentials(req: IncomingMessage): CallCredentials {
  const h = req.headers.authorization ?? req.headers["grpc-metadata-token"];
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined) return {};
  return { token: v.startsWith("Bearer ") ? v.slice("Bearer ".length) : v };
}

export function handleGateway(
  rpc: V3Rpc,
  logger: ApiLogger,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  return callCredentials.run(gatewayCredentials(req), () => serveGateway(rpc, logger, req, res, path));
}

async function serveGateway(
  rpc: V3Rpc,
  logger: ApiLogger,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const route = ROUTES[path.replace(/\/+$/, "")];
  if (route === undefined) {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
    res.end("Not Found\n");
    return;
  }
  if (req.method !== "POST") {
    res.writeHead(405, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
    res.end("Method Not Allowed\n");
    return;
  }
  switch (route.kind) {
    case "unary":
      return unaryCall(rpc, req, res, route);
    case "observe":
      return observeCall(rpc, req, res);
    case "watch":
      return watchCall(rpc, logger, req, res);
    case "keepalive":
      return keepAliveCall(rpc, req, res);
    case "snapshot":
      await drainBody(req);
      return snapshotCall(rpc, req, res);
  }
}

async function unaryCall(
  rpc: V3Rpc,
  req: IncomingMessage,
  res: ServerResponse,
  route: UnaryRoute<unknown, unknown>,
): Promise<void> {
  try {
    const max = rpc.maxRequestBytes + GRPC_OVERHEAD_BYTES;
    const text = await readBody(req, 4 * max);
    let msg: unknown;
    try {
      msg = route.req.fromJSON(text.trim() === "" ? {} : normalizeNames(JSON.parse(text)));
    } catch (err) {
      throw new EtcdError(Status.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err));
    }
    const size = route.req.encode(msg as never).finish().length;
    if (size > max) {
      throw new EtcdError(
        Status.RESOURCE_EXHAUSTED,
        `grpc: received message larger than max (${size} vs. ${max})`,
      );
    }
    const out = await route.call(rpc, msg as never, clientGone(res));
    res.writeHead(200, { "Content-Type": JSON_TYPE });
    res.end(JSON.stringify(route.res.toJSON(out as never)));
  } catch (err) {
    writeError(res, err);
  }
}

/** Starts a chunked JSON stream response once. */
function streamHead(res: ServerResponse): void {
  if (!res.headersSent) res.writeHead(200, { "Content-Type": JSON_TYPE, "Transfer-Encoding": "chunked" });
}

function writeResult(res: ServerResponse, json: unknown): boolean {
  streamHead(res);
  return res.write(`${JSON.stringify({ result: json })}\n`);
}

function resDrained(res: ServerResponse): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.removeListener("drain", done);
      res.removeListener("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}

function endWithError(res: ServerResponse, err: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  if (!res.headersSent) {
    const http = httpStatusOf(toEtcdError(err).code);
    res.writeHead(http, { "Content-Type": JSON_TYPE, "Transfer-Encoding": "chunked" });
  }
  res.end(streamErrorChunk(err));
}

/** /v3/watch: WatchRequests from the body; responses until the client goes away (as over gRPC). */
async function watchCall(
  rpc: V3Rpc,
  logger: ApiLogger,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const session = new WatchSession(rpc, {
    write: (r) => (res.destroyed ? true : writeResult(res, pb.WatchResponse.toJSON(r))),
    drained: () => resDrained(res),
  });
  const close = () => session.close();
  res.on("close", close);
  const running = session.run();
  streamHead(res);
  try {
    for await (const value of jsonValues(req))
      session.handle(pb.WatchRequest.fromJSON(normalizeNames(value)));
  } catch (err) {
    logger.debug({ err: String(err) }, "gateway watch: bad request body");
    session.close();
    await running;
    endWithError(
      res,
      new EtcdError(Status.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err)),
    );
    return;
  }
  await running;
  if (!res.writableEnded) res.end();
}

/** /v3/lease/keepalive: one renewal per request in the body; the stream ends with the body. */
async function keepAliveCall(rpc: V3Rpc, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    for await (const value of jsonValues(req)) {
      let r: pb.LeaseKeepAliveRequest;
      try {
        r = pb.LeaseKeepAliveRequest.fromJSON(normalizeNames(value));
      } catch (err) {
        throw new EtcdError(Status.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err));
      }
      const out = await rpc.leaseKeepAlive(r);
      if (res.destroyed) return;
      if (!writeResult(res, pb.LeaseKeepAliveResponse.toJSON(out))) await resDrained(res);
    }
    streamHead(res);
    res.end();
  } catch (err) {
    endWithError(res, err);
  }
}

async function snapshotCall(rpc: V3Rpc, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const it = rpc.snapshot();
  try {
    for await (const msg of it) {
      if (res.destroyed) return;
      if (!writeResult(res, pb.SnapshotResponse.toJSON(msg))) await resDrained(res);
    }
    streamHead(res);
    res.end();
  } catch (err) {
    endWithError(res, err);
  } finally {
    await it.return(undefined);
  }
}

/** Election.Observe: the leader now and at each change, as a stream of {"result": ...} objects. */
async function observeCall(rpc: V3Rpc, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const text = await readBody(req, rpc.maxRequestBytes + GRPC_OVERHEAD_BYTES);
    let r: LeaderRequest;
    try {
      r = LeaderRequest.fromJSON(text.trim() === "" ? {} : normalizeNames(JSON.parse(text)));
    } catch (err) {
      throw new EtcdError(Status.INVALID_ARGUMENT, err instanceof Error ? err.message : String(err));
    }
    await observe(rpc, r.name, clientGone(res), async (msg) => {
      if (!writeResult(res, LeaderResponse.toJSON(msg))) await resDrained(res);
    });
  } catch (err) {
    if (!res.destroyed) endWithError(res, err);
  }
}

/** Aborts when the HTTP response is closed before it was finished (the client went away). */
function clientGone(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) ac.abort(new EtcdError(Status.CANCELLED, "context canceled"));
  });
  return ac.signal;
}

// ---- request bodies -------------------------------------------------------------------------------------

async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      throw new EtcdError(
        Status.RESOURCE_EXHAUSTED,
        `grpc: received message larger than max (${n} vs. ${max})`,
      );
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function drainBody(req: IncomingMessage): Promise<void> {
  for await (const _ of req as AsyncIterable<Buffer>) {
    // discard
  }
}

/**
 * The top-level JSON values of a body read as a stream (what Go's json.Decoder reads one by one), each
 * parsed as soon as it is complete.
 */
export async function* jsonValues(body: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  let buf = "";
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for await (const chunk of body) {
    const text = typeof chunk === "string" ? chunk : chunk.toString("utf8");
    const base = buf.length;
    buf += text;
    for (let i = base; i < buf.length; i++) {
      const ch = buf[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === "\\") escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') {
        inString = true;
        if (start < 0) start = i;
        continue;
      }
      if (ch === "{" || ch === "[") {
        if (start < 0) start = i;
        depth++;
      } else if (ch === "}" || ch === "]") {
        depth--;
        if (depth === 0 && start >= 0) {
          yield JSON.parse(buf.slice(start, i + 1));
          buf = buf.slice(i + 1);
          i = -1;
          start = -1;
        } else if (depth < 0) {
          throw new SyntaxError("invalid character '}' looking for beginning of value");
        }
      } else if (depth === 0 && start < 0 && !/\s/.test(ch)) {
        start = i;
      }
    }
    if (depth === 0 && start < 0) buf = "";
  }
  const rest = buf.trim();
  if (depth !== 0 || inString) throw new SyntaxError("unexpected EOF");
  if (rest !== "") yield JSON.parse(rest);
}

// ---- field names --------------------------------------------------------------------------------------

/** The proto field names with underscores (what toJSON/fromJSON use), keyed by their lowerCamel JSON name. */
const SNAKE_NAMES = [
  "cancel_reason",
  "cancel_request",
  "cluster_id",
  "compact_revision",
  "count_only",
  "create_request",
  "create_revision",
  "hash_revision",
  "ignore_lease",
  "ignore_value",
  "keys_only",
  "max_create_revision",
  "max_mod_revision",
  "member_id",
  "min_create_revision",
  "min_mod_revision",
  "mod_revision",
  "no_password",
  "prev_kv",
  "prev_kvs",
  "progress_notify",
  "progress_request",
  "raft_term",
  "range_end",
  "remaining_TTL",
  "remaining_bytes",
  "request_delete_range",
  "request_put",
  "request_range",
  "request_txn",
  "response_delete_range",
  "response_put",
  "response_range",
  "response_txn",
  "sort_order",
  "sort_target",
  "start_revision",
  "watch_id",
];
const CAMEL_TO_SNAKE = new Map(
  SNAKE_NAMES.map((s) => [s.replace(/_([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase()), s]),
);

/** Accepts the lowerCamel JSON names too (as jsonpb does): renames them to the proto names, recursively. */
export function normalizeNames(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalizeNames);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) out[CAMEL_TO_SNAKE.get(k) ?? k] = normalizeNames(val);
  return out;
}
