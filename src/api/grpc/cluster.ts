// etcdserverpb.Cluster over gRPC.

import type { ClusterServer } from "../gen/etcdserverpb/rpc.js";
import type { ApiLogger } from "../types.js";
import type { V3Rpc } from "../v3rpc.js";
import { unary } from "./common.js";

export function clusterService(rpc: V3Rpc, logger: ApiLogger): ClusterServer {
  return {
    memberAdd: unary(rpc, logger, "MemberAdd", (r) => rpc.memberAdd(r)),
    memberRemove: unary(rpc, logger, "MemberRemove", (r) => rpc.memberRemove(r)),
    memberUpdate: unary(rpc, logger, "MemberUpdate", (r) => rpc.memberUpdate(r)),
    memberList: unary(rpc, logger, "MemberList", (r) => rpc.memberList(r)),
    memberPromote: unary(rpc, logger, "MemberPromote", (r) => rpc.memberPromote(r)),
  };
}
