// Prints the transport's throughput (256-byte MsgApp, pipelined) and guards against a collapse.

import assert from "node:assert/strict";
import { test } from "node:test";
import { formatThroughput, measureThroughput } from "./bench.js";

test("throughput of pipelined 256-byte MsgApp between two transports", async (t) => {
  const same = await measureThroughput(1.5, false);
  t.diagnostic(formatThroughput(same));
  const worker = await measureThroughput(1.5, true);
  t.diagnostic(formatThroughput(worker));
  assert.equal(same.dropped, 0);
  assert.equal(worker.dropped, 0);
  // A floor far below the measured figures (busy CI machines vary): catches a broken pipeline, not noise.
  assert.ok(same.messagesPerSecond > 10_000, formatThroughput(same));
  assert.ok(worker.messagesPerSecond > 10_000, formatThroughput(worker));
});
