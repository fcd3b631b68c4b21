// Throughput of the peer transport: 256-byte MsgApp messages (encoded size) pipelined from one member to
// another over loopback, counted at the receiver. The sender keeps its queue between a quarter and half
// full, so nothing is dropped and the measured rate is what the stream sustains.
//
//   node dist/test/transport/bench.js [--seconds 5] [--worker]
//
// --worker runs the receiver in a worker thread (its own core), as a separate member process would;
// without it both ends share one thread, which is the pessimistic figure.

import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { encodeMessage } from "../../src/raft/codec.js";
import type { Message } from "../../src/raft/types.js";
import { PeerTransport } from "../../src/transport/index.js";
import { app, turn } from "./helpers.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const noHandlers = { onMessage() {}, onSnapshot: async () => {}, isRemoved: () => false };

export interface ThroughputResult {
  messagesPerSecond: number;
  megabytesPerSecond: number;
  messageBytes: number;
  seconds: number;
  dropped: number;
  receiverInWorker: boolean;
}

/** A batch of 256 MsgApps of exactly `bytes` encoded bytes each. */
export function benchBatch(bytes = 256): Message[] {
  const base = 1_000_000;
  let size = bytes;
  while (encodeMessage(app(1n, 2n, base, size)).length > bytes) size--;
  return Array.from({ length: 256 }, (_, k) => app(1n, 2n, base + k, size));
}

interface Receiver {
  url: string;
  count(): Promise<number>;
  close(): Promise<void>;
}

async function localReceiver(): Promise<Receiver> {
  let n = 0;
  const b = new PeerTransport({
    memberId: 2n,
    clusterId: 1n,
    listenUrls: [new URL("http://127.0.0.1:0")],
    logger: quiet,
    probeIntervalMs: 0,
    handlers: { ...noHandlers, onMessage: () => void n++ },
  });
  await b.start();
  return { url: b.listenUrls()[0].href, count: async () => n, close: () => b.close() };
}

async function workerReceiver(): Promise<Receiver> {
  const w = new Worker(fileURLToPath(new URL("./bench_worker.js", import.meta.url)));
  const waiting: ((v: number) => void)[] = [];
  const url = await new Promise<string>((resolve) => {
    w.on("message", (msg: { url?: string; count?: number }) => {
      if (msg.url !== undefined) resolve(msg.url);
      if (msg.count !== undefined) waiting.shift()?.(msg.count);
    });
  });
  return {
    url,
    count: () =>
      new Promise<number>((resolve) => {
        waiting.push(resolve);
        w.postMessage("count");
      }),
    close: async () => {
      await w.terminate();
    },
  };
}

export async function measureThroughput(seconds: number, inWorker: boolean): Promise<ThroughputResult> {
  const receiver = inWorker ? await workerReceiver() : await localReceiver();
  const queueLimit = 4096;
  const a = new PeerTransport({
    memberId: 1n,
    clusterId: 1n,
    listenUrls: [new URL("http://127.0.0.1:0")],
    logger: quiet,
    probeIntervalMs: 0,
    queueLimit,
    handlers: noHandlers,
  });
  await a.start();
  a.addPeer(2n, [receiver.url]);
  while (a.activeSince(2n) === undefined) await turn();
  const batch = benchBatch(256);
  let running = true;
  const pump = (async () => {
    while (running) {
      for (let k = 0; k < 64 && (a.peerStats(2n)?.queuedMessages ?? 0) < queueLimit / 2; k++) a.send(batch);
      await turn();
    }
  })();
  // Warm up, then count what arrives in the window.
  const warm = performance.now();
  while (performance.now() - warm < 300) await turn();
  const c0 = await receiver.count();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) await turn();
  const c1 = await receiver.count();
  const elapsed = (performance.now() - t0) / 1000;
  running = false;
  await pump;
  const dropped = a.peerStats(2n)?.droppedMessages ?? 0;
  await a.close();
  await receiver.close();
  const rate = (c1 - c0) / elapsed;
  return {
    messagesPerSecond: rate,
    megabytesPerSecond: (rate * 256) / 1e6,
    messageBytes: 256,
    seconds: elapsed,
    dropped,
    receiverInWorker: inWorker,
  };
}

export function formatThroughput(r: ThroughputResult): string {
  return (
    `${Math.round(r.messagesPerSecond).toLocaleString("en-US")} msg/s of ${r.messageBytes}-byte MsgApp ` +
    `(${r.megabytesPerSecond.toFixed(1)} MB/s, ${r.seconds.toFixed(1)} s, receiver ` +
    `${r.receiverInWorker ? "in a worker thread" : "on the same thread"}, ${r.dropped} dropped)`
  );
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--seconds");
  const seconds = i >= 0 ? Number(process.argv[i + 1]) : 5;
  const inWorker = process.argv.includes("--worker");
  console.log(formatThroughput(await measureThroughput(seconds, inWorker)));
}
