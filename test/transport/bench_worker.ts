// The receiving member of bench.ts --worker, in its own thread: counts messages, reports on request.

import { parentPort } from "node:worker_threads";
import { PeerTransport } from "../../src/transport/index.js";

let n = 0;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const t = new PeerTransport({
  memberId: 2n,
  clusterId: 1n,
  listenUrls: [new URL("http://127.0.0.1:0")],
  logger: quiet,
  probeIntervalMs: 0,
  handlers: { onMessage: () => void n++, onSnapshot: async () => {}, isRemoved: () => false },
});
await t.start();
parentPort?.on("message", () => parentPort?.postMessage({ count: n }));
parentPort?.postMessage({ url: t.listenUrls()[0].href });
