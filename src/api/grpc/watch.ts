// etcdserverpb.Watch over gRPC: one bidirectional stream, any number of watches (src/api/watch.ts).
// As etcd, the stream lives until the client cancels it: a half-close does not end it.

import type { ServerDuplexStream } from "@grpc/grpc-js";
import type * as pb from "../gen/etcdserverpb/rpc.js";
import type { WatchServer } from "../gen/etcdserverpb/rpc.js";
import type { ApiLogger } from "../types.js";
import type { V3Rpc } from "../v3rpc.js";
import { WatchSession } from "../watch.js";
import { checkLearner, checkRequireLeader, drained, grpcStatus, safeWrite } from "./common.js";

export function watchService(rpc: V3Rpc, logger: ApiLogger, sessions: Set<{ close(): void }>): WatchServer {
  return {
    watch: (call: ServerDuplexStream<pb.WatchRequest, pb.WatchResponse>) => {
      try {
        checkRequireLeader(rpc, call.metadata);
        checkLearner(rpc, "Watch", undefined);
      } catch (err) {
        call.emit("error", grpcStatus(err));
        return;
      }
      const session = new WatchSession(rpc, {
        write: (r) => safeWrite(call, r),
        drained: () => drained(call),
      });
      const entry = {
        close: () => {
          session.close();
          sessions.delete(entry);
        },
      };
      sessions.add(entry);
      call.on("data", (req: pb.WatchRequest) => session.handle(req));
      call.on("cancelled", entry.close);
      call.on("close", entry.close);
      call.on("error", entry.close);
      session.run().then(
        () => {
          // Closed by the server (shutdown): end the call if the client has not gone.
          if (!call.cancelled && !call.writableEnded) call.end();
        },
        (err: unknown) => {
          logger.warn({ err: String(err) }, "watch stream failed");
          entry.close();
          if (!call.cancelled && !call.writableEnded) call.emit("error", grpcStatus(err));
        },
      );
    },
  };
}
