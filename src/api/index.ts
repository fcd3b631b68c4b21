// The client API of a member: gRPC (KV, Watch, Lease, Cluster, Maintenance; Auth, Lock, Election stubbed)
// and HTTP/1.1 (/health, /livez, /readyz, /version, /metrics, /v2/members, the /v3 JSON gateway) on
// every client URL.

import * as grpcJs from "@grpc/grpc-js";
import { mirroredCounter } from "../pkg/metrics.js";
import type { ServerTls } from "../pkg/tls/context.js";
import { createGrpcServer, type EtcdGrpcServer } from "./grpc/server.js";
import { createHttpHandler, createMetricsHttpHandler } from "./http.js";
import { type BoundAddress, ClientListener } from "./listener.js";
import { type ApiLimits, type ApiLogger, type ApiServer, noopLogger } from "./types.js";
import { V3Rpc } from "./v3rpc.js";

export { createGrpcServer, type EtcdGrpcServer } from "./grpc/server.js";
export { createHttpHandler, createMetricsHttpHandler, type HttpHandler } from "./http.js";
export { type BoundAddress, ClientListener, type ClientListenerOptions, HTTP2_PREFACE } from "./listener.js";
export type { ApiLimits, ApiLogger, ApiServer, MetricsRegistry } from "./types.js";
export { V3Rpc } from "./v3rpc.js";
export { WatchSession, type WatchSink } from "./watch.js";

export interface ClientApiOptions extends ApiLimits {
  /** --listen-client-urls. */
  urls: readonly (URL | string)[];
  /** TLS for https:// and unixs:// URLs (src/pkg/tls). */
  tls?: ServerTls;
  logger?: ApiLogger;
  /** --listen-metrics-urls: /metrics and health checks only, TLS as the client URLs. */
  metricsUrls?: readonly (URL | string)[];
}

export class ClientApi {
  private constructor(
    readonly rpc: V3Rpc,
    readonly grpc: EtcdGrpcServer,
    readonly listener: ClientListener,
    private readonly metrics?: ClientListener,
  ) {}

  /** Binds every client URL and serves `server` on them. Throws (nothing left bound) if a bind fails. */
  static async start(server: ApiServer, opts: ClientApiOptions): Promise<ClientApi> {
    const logger = opts.logger ?? noopLogger;
    const rpc = new V3Rpc(server, opts);
    const grpc = createGrpcServer(rpc, logger);
    let listener: ClientListener;
    try {
      listener = await ClientListener.listen({
        urls: opts.urls,
        grpc: grpc.server,
        http: createHttpHandler(rpc, logger),
        tls: opts.tls,
        logger,
      });
    } catch (err) {
      grpc.server.forceShutdown();
      throw err;
    }
    let metrics: ClientListener | undefined;
    if ((opts.metricsUrls ?? []).length > 0) {
      try {
        // No gRPC services here: an HTTP/2 client is answered UNIMPLEMENTED.
        metrics = await ClientListener.listen({
          urls: opts.metricsUrls!,
          grpc: new grpcJs.Server(),
          http: createMetricsHttpHandler(rpc, logger),
          tls: opts.tls,
          logger,
        });
      } catch (err) {
        await listener.stop(0);
        grpc.server.forceShutdown();
        throw err;
      }
    }
    const registry = server.metrics.registry;
    if (registry !== undefined) {
      const traffic = (pick: (t: { received: number; sent: number }) => number) => () => [
        { labels: {}, value: pick(listener.grpcTraffic()) },
      ];
      mirroredCounter(
        registry,
        "etcd_network_client_grpc_received_bytes_total",
        "The total number of bytes received from grpc clients.",
        [],
        traffic((t) => t.received),
      );
      mirroredCounter(
        registry,
        "etcd_network_client_grpc_sent_bytes_total",
        "The total number of bytes sent to grpc clients.",
        [],
        traffic((t) => t.sent),
      );
    }
    return new ClientApi(rpc, grpc, listener, metrics);
  }

  /** Where the --listen-metrics-urls listeners are bound. */
  get metricsAddresses(): readonly BoundAddress[] {
    return this.metrics?.addresses ?? [];
  }

  get addresses(): readonly BoundAddress[] {
    return this.listener.addresses;
  }

  /** Ends watch streams, stops accepting, lets calls in flight finish for up to `graceMs`, then closes. */
  async stop(graceMs = 1000): Promise<void> {
    this.grpc.closeWatches();
    await Promise.all([this.listener.stop(graceMs), this.metrics?.stop(graceMs)]);
    this.grpc.server.forceShutdown();
  }
}
