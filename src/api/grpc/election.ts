// v3electionpb.Election over gRPC (src/api/concurrency/election.ts holds the recipes).

import type { ServerWritableStream } from "@grpc/grpc-js";
import { campaign, leader, observe, proclaim, resign } from "../concurrency/election.js";
import type { ElectionServer, LeaderRequest, LeaderResponse } from "../gen/v3electionpb/v3election.js";
import type { ApiLogger } from "../types.js";
import type { V3Rpc } from "../v3rpc.js";
import { callSignal, checkRequireLeader, drained, grpcStatus, safeWrite, unary } from "./common.js";

export function electionService(rpc: V3Rpc, logger: ApiLogger): ElectionServer {
  return {
    campaign: unary(rpc, logger, "Campaign", (r, call) =>
      campaign(rpc, r.name, r.lease, r.value, callSignal(call)),
    ),
    proclaim: unary(rpc, logger, "Proclaim", (r) => proclaim(rpc, r.leader, r.value)),
    leader: unary(rpc, logger, "Leader", (r) => leader(rpc, r.name)),
    resign: unary(rpc, logger, "Resign", (r) => resign(rpc, r.leader)),
    observe: (call: ServerWritableStream<LeaderRequest, LeaderResponse>) => {
      const signal = callSignal(call);
      const run = async () => {
        checkRequireLeader(rpc, call.metadata);
        await observe(rpc, call.request.name, signal, async (msg) => {
          if (!safeWrite(call, msg)) await drained(call);
        });
      };
      run().catch((err: unknown) => {
        if (call.cancelled || call.writableEnded) return;
        call.emit("error", grpcStatus(err));
      });
    },
  };
}
