// v3lockpb.Lock over gRPC (src/api/concurrency/lock.ts holds the recipe).

import { lock } from "../concurrency/lock.js";
import type { LockServer } from "../gen/v3lockpb/v3lock.js";
import type { ApiLogger } from "../types.js";
import type { V3Rpc } from "../v3rpc.js";
import { callSignal, unary } from "./common.js";

export function lockService(rpc: V3Rpc, logger: ApiLogger): LockServer {
  return {
    lock: unary(rpc, logger, "Lock", (r, call) => lock(rpc, r.name, r.lease, callSignal(call))),
    unlock: unary(rpc, logger, "Unlock", async (r) => ({
      header: (await rpc.deleteRange({ key: r.key, rangeEnd: new Uint8Array(), prevKv: false })).header,
    })),
  };
}
