// etcdserverpb.Maintenance over gRPC. Snapshot streams the backend in 32 KiB messages and ends with its
// SHA-256, as etcd.

import type { ServerWritableStream } from "@grpc/grpc-js";
import type * as pb from "../gen/etcdserverpb/rpc.js";
import type { MaintenanceServer } from "../gen/etcdserverpb/rpc.js";
import type { ApiLogger } from "../types.js";
import type { V3Rpc } from "../v3rpc.js";
import { checkRequireLeader, drained, grpcStatus, safeWrite, unary } from "./common.js";

export function maintenanceService(rpc: V3Rpc, logger: ApiLogger): MaintenanceServer {
  return {
    alarm: unary(rpc, logger, "Alarm", (r) => rpc.alarm(r)),
    status: unary(rpc, logger, "Status", () => rpc.status()),
    defragment: unary(rpc, logger, "Defragment", () => rpc.defragment()),
    hash: unary(rpc, logger, "Hash", () => rpc.hash()),
    hashKv: unary(rpc, logger, "HashKV", (r) => rpc.hashKV(r)),
    moveLeader: unary(rpc, logger, "MoveLeader", (r) => rpc.moveLeader(r)),
    downgrade: unary(rpc, logger, "Downgrade", (r) => rpc.downgrade(r)),
    snapshot: (call: ServerWritableStream<pb.SnapshotRequest, pb.SnapshotResponse>) => {
      sendSnapshot(rpc, call).catch((err: unknown) => {
        if (call.cancelled || call.writableEnded) return;
        logger.warn({ err: String(err) }, "failed to send snapshot");
        call.emit("error", grpcStatus(err));
      });
    },
  };
}

async function sendSnapshot(
  rpc: V3Rpc,
  call: ServerWritableStream<pb.SnapshotRequest, pb.SnapshotResponse>,
): Promise<void> {
  checkRequireLeader(rpc, call.metadata);
  const it = rpc.snapshot();
  try {
    for await (const msg of it) {
      if (call.cancelled) return;
      if (!safeWrite(call, msg)) await drained(call);
    }
  } finally {
    // Leaving early (client gone) closes the backend snapshot (releases its read transaction).
    await it.return(undefined);
  }
  if (!call.cancelled && !call.writableEnded) call.end();
}
