// etcdserverpb.Lease over gRPC. LeaseKeepAlive handles its requests one at a time, in order; a renewal
// error other than "lease not found" ends the stream with that error (etcd's leaseKeepAlive).

import type { Readable } from "node:stream";
import type { ServerDuplexStream } from "@grpc/grpc-js";
import type * as pb from "../gen/etcdserverpb/rpc.js";
import type { LeaseServer } from "../gen/etcdserverpb/rpc.js";
import type { ApiLogger } from "../types.js";
import type { V3Rpc } from "../v3rpc.js";
import { checkLearner, checkRequireLeader, drained, grpcStatus, safeWrite, unary } from "./common.js";

export function leaseService(rpc: V3Rpc, logger: ApiLogger): LeaseServer {
  return {
    leaseGrant: unary(rpc, logger, "LeaseGrant", (r) => rpc.leaseGrant(r)),
    leaseRevoke: unary(rpc, logger, "LeaseRevoke", (r) => rpc.leaseRevoke(r)),
    leaseTimeToLive: unary(rpc, logger, "LeaseTimeToLive", (r) => rpc.leaseTimeToLive(r)),
    leaseLeases: unary(rpc, logger, "LeaseLeases", () => rpc.leaseLeases()),
    leaseKeepAlive: (call: ServerDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>) => {
      keepAlive(rpc, call).catch((err: unknown) => {
        if (call.cancelled || call.writableEnded) return;
        logger.debug({ err: String(err) }, "lease keepalive stream ended with an error");
        call.emit("error", grpcStatus(err));
      });
    },
  };
}

async function keepAlive(
  rpc: V3Rpc,
  call: ServerDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>,
): Promise<void> {
  checkRequireLeader(rpc, call.metadata);
  checkLearner(rpc, "LeaseKeepAlive", undefined);
  // Not `for await (... of call)`: that destroys the call when the client ends its side, and the OK
  // status would never be sent.
  const requests = (call as unknown as Readable).iterator({
    destroyOnReturn: false,
  }) as AsyncIterable<pb.LeaseKeepAliveRequest>;
  for await (const req of requests) {
    if (call.cancelled) return;
    const resp = await rpc.leaseKeepAlive(req);
    if (!safeWrite(call, resp)) await drained(call);
  }
  // The client closed its side: so does the server, with OK (etcd returns nil on EOF).
  if (!call.cancelled && !call.writableEnded) call.end();
}
