// The grpc-js server with etcd's services. It is not bound to a port: the client listener
// (src/api/listener.ts) hands it the HTTP/2 connections of each client URL.

import * as grpc from "@grpc/grpc-js";
import { GRPC_OVERHEAD_BYTES } from "../../server/convert.js";
import {
  AuthService,
  ClusterService,
  KVService,
  LeaseService,
  MaintenanceService,
  WatchService,
} from "../gen/etcdserverpb/rpc.js";
import { ElectionService } from "../gen/v3electionpb/v3election.js";
import { LockService } from "../gen/v3lockpb/v3lock.js";
import { type ApiLogger, noopLogger } from "../types.js";
import type { V3Rpc } from "../v3rpc.js";
import { authService, withCallCredentials } from "./auth.js";
import { clusterService } from "./cluster.js";
import { electionService } from "./election.js";
import { kvService } from "./kv.js";
import { leaseService } from "./lease.js";
import { lockService } from "./lock.js";
import { maintenanceService } from "./maintenance.js";
import { watchService } from "./watch.js";

export interface EtcdGrpcServer {
  readonly server: grpc.Server;
  /** Ends every watch stream (their calls end), e.g. before shutting down. */
  closeWatches(): void;
}

/** A grpc-js Server serving KV, Watch, Lease, Cluster, Maintenance, Auth, Lock and Election. */
export function createGrpcServer(rpc: V3Rpc, logger: ApiLogger = noopLogger): EtcdGrpcServer {
  const server = new grpc.Server({
    // etcd: MaxRecvMsgSize = --max-request-bytes + 512 KiB; sends unlimited.
    "grpc.max_receive_message_length": rpc.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    "grpc.max_send_message_length": -1,
    "grpc.keepalive_time_ms": rpc.grpcKeepaliveIntervalMs,
    "grpc.keepalive_timeout_ms": rpc.grpcKeepaliveTimeoutMs,
  });
  const sessions = new Set<{ close(): void }>();
  // Every handler runs with its call's credentials (token, client certificate) at hand for auth.
  const c = withCallCredentials;
  server.addService(KVService, c(kvService(rpc, logger)));
  server.addService(WatchService, c(watchService(rpc, logger, sessions)));
  server.addService(LeaseService, c(leaseService(rpc, logger)));
  server.addService(ClusterService, c(clusterService(rpc, logger)));
  server.addService(MaintenanceService, c(maintenanceService(rpc, logger)));
  server.addService(AuthService, c(authService(rpc, logger)));
  server.addService(LockService, c(lockService(rpc, logger)));
  server.addService(ElectionService, c(electionService(rpc, logger)));
  return {
    server,
    closeWatches: () => {
      for (const s of [...sessions]) s.close();
    },
  };
}
