// Snapshot streaming to a member that fell behind compaction: POST /raft/snapshot whose body is one frame
// holding the MsgSnap (Raft's snapshot metadata) followed by the backend snapshot bytes, in chunked
// encoding (a cut connection cannot pass for a complete body). The receiver hands both to the member and
// answers 204 once it has saved the data, or an error status; the sender reports the outcome to Raft.
// The backend stream ends with its own SHA-256, checked when it is restored.

import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { decodeMessage, encodeMessage } from "../raft/codec.js";
import type { RaftLogger } from "../raft/logger.js";
import { type Message, MessageType } from "../raft/types.js";
import { encodeFrame, FRAME_HEADER_BYTES } from "./frame.js";
import type { Peer, PeerContext } from "./peer.js";
import { idToHex, PATH_SNAPSHOT, TEXT_MEMBER_REMOVED, TEXT_TO_MISMATCH } from "./types.js";

export interface SnapshotResult {
  ok: boolean;
  /** HTTP status of the answer, when there was one. */
  status?: number;
  /** Bytes of backend data sent. */
  bytes: number;
  error?: string;
}

/** Streams `m` and `data()` to `peer`. Never throws: failures come back as `ok: false`. */
export async function sendSnapshot(
  ctx: PeerContext,
  peer: Peer,
  m: Message,
  data: () => AsyncIterable<Uint8Array>,
  idleTimeoutMs: number,
): Promise<SnapshotResult> {
  const url = peer.url;
  const start = performance.now();
  let bytes = 0;
  const fields = {
    "local-member-id": idToHex(ctx.memberId),
    "remote-peer-id": idToHex(peer.id),
    url: url.href,
    "snapshot-index": m.snapshot?.metadata.index ?? 0,
  };
  ctx.logger.info("sending database snapshot", fields);
  let req: ReturnType<PeerContext["net"]["request"]>;
  try {
    req = ctx.net.request(
      url,
      {
        method: "POST",
        path: PATH_SNAPSHOT,
        headers: { ...ctx.headers(peer.id), "content-type": "application/octet-stream" },
      },
      false,
    );
  } catch (err) {
    return { ok: false, bytes, error: (err as Error).message };
  }
  peer.snapshots.add(req);
  // The peer may answer before it has read everything (a refusal): keep that answer even if writing
  // the rest of the body then fails.
  let answer: IncomingMessage | undefined;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on("response", (res) => {
      answer = res;
      resolve(res);
    });
    req.on("error", reject);
    req.on("close", () => reject(new Error("connection closed before an answer")));
  });
  response.catch(() => {});
  req.setTimeout(idleTimeoutMs, () =>
    req.destroy(new Error(`snapshot transfer idle for ${idleTimeoutMs} ms`)),
  );
  async function* body(): AsyncGenerator<Uint8Array> {
    yield encodeFrame(encodeMessage(m));
    for await (const chunk of data()) {
      bytes += chunk.length;
      yield chunk;
    }
  }
  try {
    try {
      await pipeline(Readable.from(body(), { objectMode: false }), req);
    } catch (err) {
      if (answer === undefined || answer.statusCode === 204) throw err;
    }
    const res = await response;
    const text = await readText(res).catch(() => "");
    const status = res.statusCode ?? 0;
    const ok = status >= 200 && status < 300;
    const took = Math.round(performance.now() - start);
    if (ok) ctx.logger.info("sent database snapshot", { ...fields, bytes, "took-ms": took });
    else ctx.logger.warn("database snapshot refused", { ...fields, status, body: text, bytes });
    if (status === 410) ctx.reportRemoved(peer.id);
    return { ok, status, bytes, error: ok ? undefined : text };
  } catch (err) {
    const message = (err as Error).message;
    ctx.logger.warn("failed to send database snapshot", { ...fields, bytes, error: message });
    req.destroy();
    return { ok: false, bytes, error: message };
  } finally {
    peer.snapshots.delete(req);
  }
}

async function readText(res: IncomingMessage, limit = 4096): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    if (size < limit) parts.push(c as Buffer);
    size += (c as Buffer).length;
  }
  return Buffer.concat(parts).toString("utf8").trim();
}

export interface SnapshotReceiveDeps {
  readonly memberId: bigint;
  readonly logger: RaftLogger;
  readonly maxFrameBytes: number;
  isRemoved(id: bigint): boolean;
  onSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void>;
  /** Counts what arrived from m.from. */
  received(from: bigint, bytes: number): void;
  httpError(res: ServerResponse, status: number, text: string): void;
}

/** Serves POST /raft/snapshot (cluster ID already checked). */
export async function receiveSnapshot(
  req: IncomingMessage,
  res: ServerResponse,
  deps: SnapshotReceiveDeps,
): Promise<void> {
  const start = performance.now();
  const it = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // The leading frame: the MsgSnap.
  let head: Buffer = Buffer.alloc(0);
  let need = FRAME_HEADER_BYTES;
  let len = -1;
  try {
    for (;;) {
      if (len < 0 && head.length >= FRAME_HEADER_BYTES) {
        len = head.readUInt32BE(0);
        if (len > deps.maxFrameBytes) throw new Error(`frame of ${len} bytes exceeds the limit`);
        need = FRAME_HEADER_BYTES + len;
      }
      if (len >= 0 && head.length >= need) break;
      const r = await it.next();
      if (r.done) throw new Error("unexpected EOF");
      head = head.length === 0 ? r.value : Buffer.concat([head, r.value]);
    }
  } catch (err) {
    deps.logger.warn("failed to decode Raft message", {
      "local-member-id": idToHex(deps.memberId),
      error: (err as Error).message,
    });
    deps.httpError(res, 400, `failed to decode raft message (${(err as Error).message})`);
    return;
  }
  let m: Message;
  try {
    m = decodeMessage(head.subarray(FRAME_HEADER_BYTES, need));
  } catch (err) {
    deps.httpError(res, 400, `failed to decode raft message (${(err as Error).message})`);
    return;
  }
  const fields = {
    "local-member-id": idToHex(deps.memberId),
    "remote-snapshot-sender-id": idToHex(m.from),
    "incoming-snapshot-index": m.snapshot?.metadata.index ?? 0,
  };
  if (m.type !== MessageType.MsgSnap) {
    deps.logger.warn("unexpected Raft message type", { ...fields, "message-type": MessageType[m.type] });
    deps.httpError(res, 400, "wrong raft message type");
    return;
  }
  if (deps.isRemoved(m.from)) {
    deps.logger.warn("rejected snapshot from removed member", fields);
    deps.httpError(res, 410, TEXT_MEMBER_REMOVED);
    return;
  }
  if (m.to !== deps.memberId) {
    deps.httpError(res, 412, TEXT_TO_MISMATCH);
    return;
  }
  deps.logger.info("receiving database snapshot", fields);
  let bytes = 0;
  const rest = head.subarray(need);
  async function* data(): AsyncGenerator<Uint8Array> {
    if (rest.length > 0) {
      bytes += rest.length;
      yield rest;
    }
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      bytes += r.value.length;
      yield r.value;
    }
  }
  try {
    await deps.onSnapshot(m, data());
    // Whatever the member left unread still belongs to the request.
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      bytes += r.value.length;
    }
  } catch (err) {
    deps.logger.warn("failed to save incoming database snapshot", {
      ...fields,
      bytes,
      error: (err as Error).message,
    });
    deps.received(m.from, need + bytes);
    if (!res.headersSent && !res.destroyed) {
      deps.httpError(res, 500, `failed to save KV snapshot (${(err as Error).message})`);
    }
    return;
  }
  deps.received(m.from, need + bytes);
  deps.logger.info("received and saved database snapshot", {
    ...fields,
    bytes,
    "took-ms": Math.round(performance.now() - start),
  });
  res.writeHead(204);
  res.end();
}
