// The HTTP/1.1 side of the client port, with etcd's paths, status codes and bodies:
//   GET /health            {"health":"true","reason":""} (503 and "false" with a reason: alarm, no leader, failed read)
//   GET /livez, /readyz    "ok" (etcd 3.5.11+ checks; ?verbose lists them, ?exclude=<check> skips one)
//   GET /version           {"etcdserver":"3.5.x","etcdcluster":"3.5.0"}
//   GET /metrics           Prometheus text from the member's registry
//   /v2/keys               the v2 keys subset, with --enable-v2 (src/api/v2_keys.ts)
//   GET /v2/members        {"members":[{"id":"<hex>","name":...,"peerURLs":[...],"clientURLs":[...]}]}
//   POST /v3/...           the JSON gateway (src/api/gateway.ts)
//   GET /dashboard         the dashboard page and its cluster view (src/api/dashboard/, etcd-ts only)
// The --listen-metrics-urls ports serve /metrics, /health, /livez and /readyz only.

import type { IncomingMessage, ServerResponse } from "node:http";
import { toEtcdError } from "../server/errors.js";
import { isDashboardPath, serveDashboard } from "./dashboard/routes.js";
import { handleGateway } from "./gateway.js";
import type * as pb from "./gen/etcdserverpb/rpc.js";
import { AlarmRequest_AlarmAction, AlarmType, alarmTypeToJSON } from "./gen/etcdserverpb/rpc.js";
import { type ApiLogger, noopLogger } from "./types.js";
import { serveV2Keys } from "./v2_keys.js";
import { serveV2Members } from "./v2_members.js";
import type { V3Rpc } from "./v3rpc.js";

/** How long a health check's read may take before it counts as failed (etcd: its request timeout). */
const HEALTH_READ_TIMEOUT_MS = 7000;

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** A node:http request listener for the client port's HTTP/1.1 traffic. */
export function createHttpHandler(rpc: V3Rpc, logger: ApiLogger = noopLogger): HttpHandler {
  return (req, res) => {
    route(rpc, logger, req, res).catch((err: unknown) => {
      logger.warn({ path: req.url, err: String(err) }, "HTTP request failed");
      if (!res.headersSent) httpError(res, 500, "Internal Server Error");
      else res.destroy();
    });
  };
}

async function route(
  rpc: V3Rpc,
  logger: ApiLogger,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname;
  if (path.startsWith("/v3/")) return handleGateway(rpc, logger, req, res, path);
  if (isDashboardPath(path)) return serveDashboard(rpc, req, res, path);
  if (path === "/health") return health(rpc, logger, req, res, url);
  if (path === "/livez" || path.startsWith("/livez/")) return checks(rpc, req, res, url, "livez", LIVEZ);
  if (path === "/readyz" || path.startsWith("/readyz/")) return checks(rpc, req, res, url, "readyz", READYZ);
  if (path === "/version") return version(rpc, req, res);
  if (path === "/metrics") return metrics(rpc, res);
  if (path === "/v2/members" || path.startsWith("/v2/members/")) return serveV2Members(rpc, req, res, path);
  if (path === "/v2/keys" || path.startsWith("/v2/keys/")) return serveV2Keys(rpc, req, res, url);
  httpError(res, 404, "404 page not found");
}

/**
 * The request listener of the --listen-metrics-urls ports: /metrics and the health checks only (what
 * Prometheus and the kubelet's probes read), nothing that touches keys.
 */
export function createMetricsHttpHandler(rpc: V3Rpc, logger: ApiLogger = noopLogger): HttpHandler {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const served =
      path === "/metrics" ||
      path === "/health" ||
      path === "/livez" ||
      path.startsWith("/livez/") ||
      path === "/readyz" ||
      path.startsWith("/readyz/");
    if (!served) {
      httpError(res, 404, "404 page not found");
      return;
    }
    createHttpHandler(rpc, logger)(req, res);
  };
}

/** Go's http.Error: text/plain, nosniff, the message and a newline. */
export function httpError(res: ServerResponse, status: number, msg: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
  res.end(`${msg}\n`);
}

function allowGet(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === "GET") return true;
  res.setHeader("Allow", "GET");
  httpError(res, 405, "Method Not Allowed");
  return false;
}

// ---- /health, /livez, /readyz ---------------------------------------------------------------------------

async function activeAlarms(rpc: V3Rpc): Promise<pb.AlarmMember[]> {
  // etcd's health checks read the member's own alarm store: they must answer without a leader.
  if (rpc.server.activeAlarms !== undefined) return rpc.server.activeAlarms();
  const r = await rpc.server.alarm({
    action: AlarmRequest_AlarmAction.GET,
    memberID: 0n,
    alarm: AlarmType.NONE,
  });
  return r.alarms.filter((a) => a.alarm !== AlarmType.NONE);
}

/** The read etcd's health checks make; resolves with the error message, or undefined if it worked. */
async function readCheck(rpc: V3Rpc, serializable: boolean): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const read = rpc.server.range({
      key: Buffer.from("health"),
      rangeEnd: new Uint8Array(0),
      limit: 1n,
      revision: 0n,
      sortOrder: 0,
      sortTarget: 0,
      serializable,
      keysOnly: true,
      countOnly: false,
      minModRevision: 0n,
      maxModRevision: 0n,
      minCreateRevision: 0n,
      maxCreateRevision: 0n,
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("etcdserver: request timed out")), HEALTH_READ_TIMEOUT_MS);
    });
    await Promise.race([read, timeout]);
    return undefined;
  } catch (err) {
    return toEtcdError(err).message;
  } finally {
    clearTimeout(timer);
  }
}

async function health(
  rpc: V3Rpc,
  logger: ApiLogger,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  if (!allowGet(req, res)) return;
  const excluded = new Set(url.searchParams.getAll("exclude").filter((s) => s !== ""));
  const serializable = url.searchParams.get("serializable") === "true";
  const h = await healthOf(rpc, excluded, serializable);
  const body = JSON.stringify(h);
  if (h.health !== "true") {
    logger.warn({ output: body }, "/health error");
    httpError(res, 503, body);
    return;
  }
  // etcd writes no Content-Type: Go sniffs this JSON as text/plain.
  res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(body);
}

async function healthOf(
  rpc: V3Rpc,
  excluded: Set<string>,
  serializable: boolean,
): Promise<{ health: string; reason: string }> {
  for (const a of await activeAlarms(rpc)) {
    if (excluded.has(alarmTypeToJSON(a.alarm))) continue;
    const reason =
      a.alarm === AlarmType.NOSPACE
        ? "ALARM NOSPACE"
        : a.alarm === AlarmType.CORRUPT
          ? "ALARM CORRUPT"
          : "ALARM UNKNOWN";
    return { health: "false", reason };
  }
  if (!serializable && rpc.server.leader() === 0n) return { health: "false", reason: "RAFT NO LEADER" };
  const err = await readCheck(rpc, serializable);
  if (err !== undefined) return { health: "false", reason: `RANGE ERROR:${err}` };
  return { health: "true", reason: "" };
}

type Check = (rpc: V3Rpc) => Promise<string | undefined>;

const serializableRead: Check = (rpc) => readCheck(rpc, true);
const linearizableRead: Check = (rpc) => readCheck(rpc, false);
const dataCorruption: Check = async (rpc) =>
  (await activeAlarms(rpc)).some((a) => a.alarm === AlarmType.CORRUPT)
    ? "alarm activated: CORRUPT"
    : undefined;
const nonLearner: Check = async (rpc) =>
  (await rpc.server.status()).isLearner ? "not supported for learner" : undefined;

const LIVEZ: [string, Check][] = [["serializable_read", serializableRead]];
const READYZ: [string, Check][] = [
  ["data_corruption", dataCorruption],
  ["serializable_read", serializableRead],
  ["linearizable_read", linearizableRead],
  ["non_learner", nonLearner],
];

/** etcd's /livez and /readyz: "[+]name ok" / "[-]name failed: reason" lines, then "ok" when all pass. */
async function checks(
  rpc: V3Rpc,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  kind: string,
  all: [string, Check][],
): Promise<void> {
  if (!allowGet(req, res)) return;
  const sub = url.pathname.slice(kind.length + 2);
  let selected: [string, Check][];
  if (sub !== "") {
    const one = all.find(([name]) => name === sub);
    if (one === undefined) {
      httpError(res, 404, "404 page not found");
      return;
    }
    selected = [one];
  } else {
    const excluded = new Set(url.searchParams.getAll("exclude"));
    selected = all.filter(([name]) => !excluded.has(name));
  }
  let out = "";
  let ok = true;
  for (const [name, check] of selected) {
    let err: string | undefined;
    try {
      err = await check(rpc);
    } catch (e) {
      err = toEtcdError(e).message;
    }
    if (err === undefined) out += `[+]${name} ok\n`;
    else {
      ok = false;
      out += `[-]${name} failed: ${err}\n`;
    }
  }
  if (!ok) {
    httpError(res, 503, out);
    return;
  }
  res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
  res.end(`${url.searchParams.has("verbose") ? out : ""}ok\n`);
}

// ---- /version, /metrics ---------------------------------------------------------------------------------

function version(rpc: V3Rpc, req: IncomingMessage, res: ServerResponse): void {
  if (!allowGet(req, res)) return;
  const v = rpc.server.versions();
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ etcdserver: v.server, etcdcluster: v.cluster ?? "not_decided" }));
}

async function metrics(rpc: V3Rpc, res: ServerResponse): Promise<void> {
  const reg = rpc.server.metrics;
  const text = await reg.metrics();
  res.writeHead(200, { "Content-Type": reg.contentType });
  res.end(text);
}
