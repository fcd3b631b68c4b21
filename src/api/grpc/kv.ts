// etcdserverpb.KV over gRPC.

import type { KVServer } from "../gen/etcdserverpb/rpc.js";
import type { ApiLogger } from "../types.js";
import type { V3Rpc } from "../v3rpc.js";
import { unary } from "./common.js";

export function kvService(rpc: V3Rpc, logger: ApiLogger): KVServer {
  return {
    range: unary(rpc, logger, "Range", (r) => rpc.range(r)),
    put: unary(rpc, logger, "Put", (r) => rpc.put(r)),
    deleteRange: unary(rpc, logger, "DeleteRange", (r) => rpc.deleteRange(r)),
    txn: unary(rpc, logger, "Txn", (r) => rpc.txn(r)),
    compact: unary(rpc, logger, "Compact", (r) => rpc.compact(r)),
  };
}
