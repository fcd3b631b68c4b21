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
import { GrpcMetrics, instrumented } from "./metrics.js";
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
  const metrics = new GrpcMetrics(rpc.server.metrics.registry, rpc.extensiveMetrics);
  // Every handler runs with its call's credentials (token, client certificate) at hand for auth, and is
  // counted in the gRPC metrics.
  const add = <T extends object>(def: grpc.ServiceDefinition, impl: T) =>
    server.addService(
      def,
      instrumented(def, withCallCredentials(impl), metrics) as grpc.UntypedServiceImplementation,
    );
  add(KVService, kvService(rpc, logger));
  add(WatchService, watchService(rpc, logger, sessions));
  add(LeaseService, leaseService(rpc, logger));
  add(ClusterService, clusterService(rpc, logger));
  add(MaintenanceService, maintenanceService(rpc, logger));
  add(AuthService, authService(rpc, logger));
  add(LockService, lockService(rpc, logger));
  add(ElectionService, electionService(rpc, logger));
  return {
    server,
    closeWatches: () => {
      for (const s of [...sessions]) s.close();
    },
  };
}
