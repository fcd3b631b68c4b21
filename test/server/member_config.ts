// A one-member ServerConfig on free loopback ports in `dir`, with fast elections, for tests that start
// EtcdServer (or startEtcd) in-process.

import { join } from "node:path";
import { defaultServerConfig, type ServerConfig } from "../../src/server/config.js";
import { freePorts } from "../e2e/cluster.js";

export async function singleMemberConfig(
  dir: string,
  name: string,
  extra: Partial<ServerConfig> = {},
): Promise<{ cfg: ServerConfig; clientUrl: string }> {
  const [peer, client] = await freePorts(2);
  const url = (p: number) => new URL(`http://127.0.0.1:${p}`);
  const cfg: ServerConfig = {
    ...defaultServerConfig(),
    name,
    dataDir: join(dir, `${name}.etcd`),
    listenPeerUrls: [url(peer!)],
    initialAdvertisePeerUrls: [url(peer!)],
    listenClientUrls: [url(client!)],
    advertiseClientUrls: [url(client!)],
    initialCluster: [{ name, peerUrls: [`http://127.0.0.1:${peer}`] }],
    initialClusterToken: `${name}-${process.pid}-${Date.now()}`,
    heartbeatMs: 50,
    electionMs: 500,
    ...extra,
  };
  return { cfg, clientUrl: `http://127.0.0.1:${client}` };
}
