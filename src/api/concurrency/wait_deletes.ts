// Waiting for one's turn (etcd's waitDeletes): until no key under the prefix was created at or before
// `maxCreateRevision`, wait for the deletion of the newest such key, then look again.

import { Event_EventType } from "../gen/mvccpb/kv.js";
import type { V3Rpc } from "../v3rpc.js";
import { LocalWatch } from "./local_watch.js";
import { lastCreatedUpTo } from "./ops.js";

export async function waitDeletes(
  rpc: V3Rpc,
  prefix: Uint8Array,
  maxCreateRevision: bigint,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const r = await rpc.range(lastCreatedUpTo(prefix, maxCreateRevision));
    const ahead = r.kvs[0];
    if (ahead === undefined) return;
    await waitDelete(rpc, ahead.key, r.header!.revision + 1n, signal);
  }
}

async function waitDelete(rpc: V3Rpc, key: Uint8Array, from: bigint, signal: AbortSignal): Promise<void> {
  const w = new LocalWatch(rpc, key, new Uint8Array(), from, signal);
  try {
    for (;;) {
      const r = await w.next();
      if (r.events.some((e) => e.type === Event_EventType.DELETE)) return;
    }
  } finally {
    w.close();
  }
}
