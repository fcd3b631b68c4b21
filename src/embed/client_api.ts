// The client listener factory startEtcd uses by default: the API layer's ClientApi on every client URL.

import { ClientApi } from "../api/index.js";
import type { ServerLogger } from "../server/server.js";
import type { ClientListenerFactory } from "./etcd.js";

export function clientApiListeners(logger: ServerLogger): ClientListenerFactory {
  return async (server, urls, tls) => {
    const api = await ClientApi.start(server, {
      urls,
      tls,
      logger,
      maxTxnOps: server.cfg.maxTxnOps,
      maxRequestBytes: server.cfg.maxRequestBytes,
      metricsUrls: server.cfg.listenMetricsUrls,
      extensiveMetrics: server.cfg.metrics === "extensive",
    });
    if (api.metricsAddresses.length > 0) {
      logger.info({ address: api.metricsAddresses.map((a) => a.boundUrl) }, "serving metrics");
    }
    return {
      urls: () => api.addresses.map((a) => new URL(a.boundUrl)),
      close: () => api.stop(),
    };
  };
}
