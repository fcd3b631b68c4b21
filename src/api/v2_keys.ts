// The subset of etcd's v2 keys API that the discovery registry protocol (and a curl user) needs, served
// under /v2/keys when the member runs with --enable-v2 (otherwise 404, as etcd):
//   GET    /v2/keys/<key>[?recursive=true][&sorted=true][&quorum=true]   a key, or a directory's children
//   GET    /v2/keys/<key>?wait=true[&waitIndex=N][&recursive=true]      wait for the next (or Nth) change
//   PUT    /v2/keys/<key>  value=V [dir=true] [prevExist=true|false] [prevValue=V] [prevIndex=N]
//   POST   /v2/keys/<dir>  value=V                                       create with an in-order name
//   DELETE /v2/keys/<key>  [dir=true] [recursive=true] [prevValue=V] [prevIndex=N]
// Parameters come from the query and (PUT/POST) an application/x-www-form-urlencoded body, body first,
// as Go's ParseForm. Answers are etcd's JSON (action, node, prevNode; errors with errorCode, message,
// cause, index) with X-Etcd-Index, X-Raft-Index, X-Raft-Term and X-Etcd-Cluster-ID headers.
// Changes go through Raft (InternalRaftRequest.v2) and apply to the v2 store on every member.
// Not supported (answered with "Invalid field"): ttl, refresh, stream watches.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Backend } from "../backend/index.js";
import { toEtcdError } from "../server/errors.js";
import {
  cleanPath,
  type V2ApplyResult,
  V2Code,
  V2Error,
  type V2Event,
  type V2Store,
  v2StoreFor,
} from "../server/v2store/index.js";
import type { InternalRaftRequest } from "./gen/etcdserverpb/raft_internal.js";
import type * as pb from "./gen/etcdserverpb/rpc.js";
import type { V3Rpc } from "./v3rpc.js";

/** etcd's defaultWatchTimeout: a wait with no change ends (empty body) after this long. */
const WATCH_TIMEOUT_MS = 5 * 60 * 1000;

/** What the handler needs of the member (EtcdServer has all of it). */
interface V2Host {
  cfg: { enableV2: boolean };
  backend: Backend;
  propose(req: Partial<InternalRaftRequest>): Promise<unknown>;
  linearizableReadNotify(): Promise<void>;
  applied(): number;
  header(): pb.ResponseHeader;
}

function hostOf(rpc: V3Rpc): V2Host | undefined {
  const s = rpc.server as unknown as Partial<V2Host>;
  if (typeof s.propose !== "function" || s.backend === undefined || s.cfg?.enableV2 !== true)
    return undefined;
  return s as V2Host;
}

/** Whether this member serves /v2/keys (a member started with --enable-v2). */
export function servesV2Keys(rpc: V3Rpc): boolean {
  return hostOf(rpc) !== undefined;
}

type Form = Map<string, string[]>;

async function readForm(req: IncomingMessage, url: URL): Promise<Form> {
  const form: Form = new Map();
  const add = (params: URLSearchParams) => {
    for (const [k, v] of params) form.set(k, [...(form.get(k) ?? []), v]);
  };
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if ((req.method === "PUT" || req.method === "POST") && type === "application/x-www-form-urlencoded") {
    let body = "";
    req.setEncoding("utf8");
    for await (const c of req) body += c as string;
    add(new URLSearchParams(body));
  } else {
    req.resume();
  }
  add(url.searchParams);
  return form;
}

const first = (f: Form, k: string): string | undefined => f.get(k)?.[0];

/** Go's strconv.ParseBool on a present parameter; absent is false. */
function getBool(f: Form, k: string, message = `invalid value for "${k}"`): boolean {
  const v = first(f, k);
  if (v === undefined) return false;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new V2Error(V2Code.InvalidField, message);
}

function getUint64(f: Form, k: string): bigint {
  const v = first(f, k);
  if (v === undefined) return 0n;
  if (!/^\d+$/.test(v) || BigInt(v) > 0xffffffffffffffffn) {
    throw new V2Error(V2Code.IndexNaN, `invalid value for "${k}"`);
  }
  return BigInt(v);
}

interface Parsed {
  req: {
    Method: string;
    Path: string;
    Val: string;
    Dir: boolean;
    PrevValue: string;
    PrevIndex: bigint;
    PrevExist?: boolean;
    Recursive: boolean;
    Sorted: boolean;
    Quorum: boolean;
    Wait: boolean;
    Since: bigint;
  };
  noValueOnSuccess: boolean;
}

/** etcd's parseKeyRequest, for the supported subset. Throws V2Error. */
function parseKeyRequest(method: string, url: URL, f: Form): Parsed {
  let rawPath: string;
  try {
    rawPath = decodeURIComponent(url.pathname.slice("/v2/keys".length));
  } catch {
    throw new V2Error(V2Code.InvalidForm, "invalid URL escape in the key");
  }
  const PrevIndex = getUint64(f, "prevIndex");
  const Since = getUint64(f, "waitIndex");
  const Recursive = getBool(f, "recursive");
  const Sorted = getBool(f, "sorted");
  const Wait = getBool(f, "wait");
  const Dir = getBool(f, "dir");
  const Quorum = getBool(f, "quorum");
  const stream = getBool(f, "stream");
  if (Wait && method !== "GET") {
    throw new V2Error(V2Code.InvalidField, '"wait" can only be used with GET requests');
  }
  const PrevValue = first(f, "prevValue") ?? "";
  if (f.has("prevValue") && PrevValue === "") {
    throw new V2Error(V2Code.PrevValueRequired, '"prevValue" cannot be empty');
  }
  const noValueOnSuccess = getBool(f, "noValueOnSuccess");
  const ttl = first(f, "ttl");
  if (ttl !== undefined && ttl !== "") {
    if (!/^\d+$/.test(ttl)) throw new V2Error(V2Code.TTLNaN, 'invalid value for "ttl"');
    throw new V2Error(V2Code.InvalidField, "ttl is not supported by etcd-ts's /v2/keys");
  }
  if (f.has("refresh"))
    throw new V2Error(V2Code.InvalidField, "refresh is not supported by etcd-ts's /v2/keys");
  if (stream) throw new V2Error(V2Code.InvalidField, "stream is not supported by etcd-ts's /v2/keys");
  const req: Parsed["req"] = {
    Method: method,
    Path: cleanPath(rawPath),
    Val: first(f, "value") ?? "",
    Dir,
    PrevValue,
    PrevIndex,
    Recursive,
    Sorted,
    Quorum,
    Wait,
    Since,
  };
  if (f.has("prevExist")) req.PrevExist = getBool(f, "prevExist", "invalid value for prevExist");
  return { req, noValueOnSuccess };
}

function baseHeaders(host: V2Host, etcdIndex: number): Record<string, string> {
  return {
    "Content-Type": "application/json",
    "X-Etcd-Index": String(etcdIndex),
    "X-Raft-Index": String(host.applied()),
    "X-Raft-Term": String(host.header().raftTerm),
  };
}

/** etcd's writeKeyEvent: 201 for a creation, 200 otherwise. */
function writeEvent(
  host: V2Host,
  res: ServerResponse,
  e: V2Event,
  etcdIndex: number,
  noValue: boolean,
): void {
  const created = e.action === "create" || (e.action === "set" && e.prevNode === undefined);
  let out = e;
  if (noValue && ["set", "compareAndSwap", "create", "update"].includes(e.action))
    out = { action: e.action } as V2Event;
  res.writeHead(created ? 201 : 200, baseHeaders(host, etcdIndex));
  res.end(`${JSON.stringify(out)}\n`);
}

/** etcd's v2error WriteTo. Errors that are not v2 errors become "Raft Internal Error" (500). */
function writeError(res: ServerResponse, err: unknown): void {
  const e = err instanceof V2Error ? err : new V2Error(V2Code.RaftInternal, toEtcdError(err).message, 0);
  res.writeHead(e.status, { "X-Etcd-Index": String(e.index), "Content-Type": "application/json" });
  res.end(`${JSON.stringify(e.toJSON())}\n`);
}

export async function serveV2Keys(
  rpc: V3Rpc,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const host = hostOf(rpc);
  if (host === undefined) {
    req.resume();
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
    res.end("404 page not found\n");
    return;
  }
  const method = req.method ?? "GET";
  if (!["HEAD", "GET", "PUT", "POST", "DELETE"].includes(method)) {
    req.resume();
    res.writeHead(405, {
      Allow: "HEAD,GET,PUT,POST,DELETE",
      "Content-Type": "text/plain; charset=utf-8",
      "X-Content-Type-Options": "nosniff",
    });
    res.end("Method Not Allowed\n");
    return;
  }
  res.setHeader("X-Etcd-Cluster-ID", host.header().clusterId.toString(16));
  try {
    const f = await readForm(req, url);
    const { req: r, noValueOnSuccess } = parseKeyRequest(method === "HEAD" ? "GET" : method, url, f);
    if (method === "GET" || method === "HEAD") {
      if (r.Quorum) await host.linearizableReadNotify();
      const store = v2StoreFor(host.backend);
      if (r.Wait) return watch(host, store, res, r.Path, r.Recursive, Number(r.Since));
      const got = store.get(r.Path, r.Recursive);
      writeEvent(host, res, got.event, got.etcdIndex, false);
      return;
    }
    const result = (await host.propose({ v2: { ...emptyRequest(), ...r } })) as V2ApplyResult;
    if (!result.ok) return writeError(res, result.error);
    writeEvent(host, res, result.applied.event, result.applied.etcdIndex, noValueOnSuccess);
  } catch (e) {
    if (!res.headersSent) writeError(res, e);
    else res.destroy();
  }
}

function emptyRequest(): InternalRaftRequest["v2"] & object {
  return {
    ID: 0n,
    Method: "",
    Path: "",
    Val: "",
    Dir: false,
    PrevValue: "",
    PrevIndex: 0n,
    PrevExist: undefined,
    Expiration: 0n,
    Wait: false,
    Since: 0n,
    Recursive: false,
    Sorted: false,
    Quorum: false,
    Time: 0n,
    Stream: false,
    Refresh: undefined,
  };
}

/**
 * etcd's handleKeyWatch: headers (X-Etcd-Index = the store index when the watch started) go out at once,
 * the event follows when it happens; no change within the watch timeout ends the response empty.
 */
function watch(
  host: V2Host,
  store: V2Store,
  res: ServerResponse,
  key: string,
  recursive: boolean,
  since: number,
): void {
  const startIndex = store.index();
  let timer: NodeJS.Timeout | undefined;
  const finish = (body: string) => {
    clearTimeout(timer);
    if (!res.writableEnded) res.end(body);
  };
  const started = store.watch(key, recursive, since, {
    deliver: (e) => finish(`${JSON.stringify(e)}\n`),
    fail: (err) => finish(`${JSON.stringify(err.toJSON())}\n`),
  });
  res.writeHead(200, baseHeaders(host, startIndex));
  if ("event" in started) {
    res.end(`${JSON.stringify(started.event)}\n`);
    return;
  }
  res.flushHeaders();
  const w = started.pending;
  timer = setTimeout(() => {
    store.hub.remove(w);
    finish("");
  }, WATCH_TIMEOUT_MS);
  timer.unref();
  res.on("close", () => {
    clearTimeout(timer);
    v2StoreFor(host.backend).hub.remove(w);
  });
}
