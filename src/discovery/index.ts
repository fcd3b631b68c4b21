// Bootstrap by discovery: etcd's v2 registry (--discovery), v3 registry (--discovery-token with
// --discovery-endpoints) and DNS SRV (--discovery-srv); SRV lookups of client endpoints for etcdctl.

export { type BootstrapOptions, discoverInitialCluster, usesDiscovery } from "./bootstrap.js";
export { dnsServerAddress, type Lookup, makeLookup, type SrvRecord } from "./dns.js";
export * from "./errors.js";
export { resolveClientEndpoints, type SrvClients, srvInitialCluster, srvService } from "./srv.js";
export { parseUrlsMap } from "./urls_map.js";
export { joinClusterV2 } from "./v2.js";
export { clusterSizeKey, joinClusterV3, memberKey, memberKeyPrefix } from "./v3.js";
