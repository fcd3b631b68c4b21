// The initial corruption check runs before the member's transport starts. Found by the robustness
// harness: a restarted member received and installed the leader's snapshot while it was hashing its
// key space for the check; the install closed the backend under the scan and the member stopped
// ("failed to start etcd"). Before the transport exists, no snapshot can arrive.

import assert from "node:assert/strict";
import { test } from "node:test";
import { EtcdServer, type Transport } from "../../src/server/server.js";
import { makeTempDir, removeTempDir } from "../e2e/cluster.js";
import { singleMemberConfig } from "./member_config.js";

test("a restarted member finishes its initial corruption check before its transport is created", {
  timeout: 60_000,
}, async () => {
  const dir = makeTempDir("etcd-initial-check-");
  const { cfg } = await singleMemberConfig(dir, "s0");
  const messages: string[] = [];
  const logger = {
    debug() {},
    info: (_f: object, m: string) => messages.push(m),
    warn: (_f: object, m: string) => messages.push(m),
    error: (_f: object, m: string) => messages.push(m),
  };
  const transport: Transport = {
    send() {},
    sendSnapshot() {},
    addPeer() {},
    updatePeer() {},
    removePeer() {},
    activeSince: () => undefined,
    close: async () => {},
  };
  try {
    const first = await EtcdServer.start(cfg, logger, async () => transport);
    await first.stop();
    const seenAtTransport: string[][] = [];
    const again = await EtcdServer.start(cfg, logger, async () => {
      seenAtTransport.push([...messages]);
      return transport;
    });
    await again.stop();
    assert.equal(seenAtTransport.length, 1);
    assert.ok(
      seenAtTransport[0]!.includes("initial corruption checking passed; no corruption"),
      "the check had finished when the transport was created",
    );
  } finally {
    removeTempDir(dir);
  }
});
