// Shared helpers of the transport tests: members on 127.0.0.1 with ephemeral ports, a capturing logger,
// condition waits, raw HTTP requests.

import http from "node:http";
import type { LogFields, RaftLogger } from "../../src/raft/logger.js";
import { EntryType, type Message, MessageType, msg } from "../../src/raft/types.js";
import { PeerTransport } from "../../src/transport/index.js";
import type { PeerTransportOptions } from "../../src/transport/types.js";

export interface LogLine {
  level: string;
  msg: string;
  fields?: LogFields;
}

export function captureLogger(
  echo = process.env.TRANSPORT_TEST_LOG === "1",
): RaftLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) =>
    (m: string, fields?: LogFields): void => {
      lines.push({ level, msg: m, fields });
      if (echo) console.error(level, m, fields);
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/**
 * Waits until `cond()` holds, checking every few milliseconds, or fails after `timeoutMs` naming `what`.
 * This waits for a condition; it never stands in for one.
 */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A transport on an ephemeral port of 127.0.0.1 that records what it receives. */
export interface TestNode {
  id: bigint;
  t: PeerTransport;
  url: string;
  log: RaftLogger & { lines: LogLine[] };
  received: Message[];
  removed: Set<bigint>;
  unreachable: bigint[];
  snapshotStatus: { id: bigint; ok: boolean }[];
  removedCalls: number;
}

export type NodeOptions = Partial<Omit<PeerTransportOptions, "handlers" | "memberId">> & {
  handlers?: Partial<PeerTransportOptions["handlers"]>;
};

/** Fast timers for tests: quick backoff, short dial timeout, no probing unless asked. */
export const fastTimers = {
  dialTimeoutMs: 500,
  backoff: { initialMs: 10, maxMs: 100 },
  probeIntervalMs: 0,
};

export async function startNode(id: bigint, opts: NodeOptions = {}): Promise<TestNode> {
  const log = captureLogger();
  const received: Message[] = [];
  const removed = new Set<bigint>();
  const node: TestNode = {
    id,
    t: undefined as unknown as PeerTransport,
    url: "",
    log,
    received,
    removed,
    unreachable: [],
    snapshotStatus: [],
    removedCalls: 0,
  };
  const { handlers, ...rest } = opts;
  const t = new PeerTransport({
    memberId: id,
    clusterId: 0x1000n,
    listenUrls: [new URL("http://127.0.0.1:0")],
    logger: log,
    ...fastTimers,
    ...rest,
    handlers: {
      onMessage: (m) => received.push(m),
      onSnapshot: async (_m, data) => {
        for await (const _c of data) {
          // discard
        }
      },
      isRemoved: (x) => removed.has(x),
      ...handlers,
    },
  });
  t.onUnreachable = (x) => node.unreachable.push(x);
  t.onSnapshotStatus = (x, ok) => node.snapshotStatus.push({ id: x, ok });
  t.onRemoved = () => node.removedCalls++;
  await t.start();
  node.t = t;
  node.url = t.listenUrls()[0].href.replace(/\/$/, "");
  return node;
}

/** Connects every node to every other. */
export function mesh(nodes: TestNode[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b) a.t.addPeer(b.id, [b.url]);
}

export async function allActive(nodes: TestNode[]): Promise<void> {
  await until(
    () => nodes.every((a) => nodes.every((b) => a === b || a.t.activeSince(b.id) !== undefined)),
    "all streams active",
  );
}

/** A MsgApp carrying one entry whose data (of `size` bytes) is derived from `index`. */
export function app(from: bigint, to: bigint, index: number, size = 200): Message {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (index + i) & 0xff;
  return msg({
    type: MessageType.MsgApp,
    from,
    to,
    term: 3,
    logTerm: 3,
    index: index - 1,
    commit: index - 1,
    entries: [{ term: 3, index, type: EntryType.Normal, data }],
  });
}

export function checkApp(m: Message, index: number, size = 200): boolean {
  const e = m.entries[0];
  if (m.type !== MessageType.MsgApp || e === undefined || e.index !== index || e.data.length !== size)
    return false;
  for (let i = 0; i < size; i++) if (e.data[i] !== ((index + i) & 0xff)) return false;
  return true;
}

/** Sends `msgs` through `t` in batches, yielding to the event loop whenever a peer's queue is half full. */
export async function sendPaced(t: PeerTransport, msgs: Message[], batch = 256): Promise<void> {
  for (let i = 0; i < msgs.length; i += batch) {
    t.send(msgs.slice(i, i + batch));
    const limit = 2048;
    while (t.stats().some((s) => s.queuedMessages > limit)) await turn();
  }
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One plain HTTP request. */
export function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { host: u.hostname, port: u.port, method, path, headers, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts).toString(),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
