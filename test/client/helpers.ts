// In-process clusters for the client tests: members started with startEtcd (src/embed) inside the test
// process, on free loopback ports, with their data in a temp dir removed by close().

import { join } from "node:path";
import { clientApiListeners } from "../../src/embed/client_api.js";
import { type Etcd, startEtcd } from "../../src/embed/etcd.js";
import { defaultServerConfig, type ServerConfig } from "../../src/server/config.js";
import { freePorts, makeTempDir, removeTempDir, until } from "../e2e/cluster.js";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

export interface InProcessCluster {
  members: Etcd[];
  /** "http://127.0.0.1:port" client URLs, in member order. */
  endpoints: string[];
  close(): Promise<void>;
}

/** Starts `size` members in this process and waits until they agree on a leader. */
export async function startInProcessCluster(
  size = 1,
  tweak: (cfg: ServerConfig) => void = () => {},
): Promise<InProcessCluster> {
  const dir = makeTempDir("etcd-client-");
  const ports = await freePorts(size * 2);
  const url = (p: number) => new URL(`http://127.0.0.1:${p}`);
  const names = Array.from({ length: size }, (_, i) => `c${i}`);
  const initialCluster = names.map((name, i) => ({ name, peerUrls: [`http://127.0.0.1:${ports[2 * i]}`] }));
  const members: Etcd[] = [];
  const close = async () => {
    await Promise.allSettled(members.map((m) => m.close()));
    removeTempDir(dir);
  };
  try {
    const started = await Promise.all(
      names.map((name, i) => {
        const cfg: ServerConfig = {
          ...defaultServerConfig(),
          name,
          dataDir: join(dir, `${name}.etcd`),
          listenPeerUrls: [url(ports[2 * i]!)],
          initialAdvertisePeerUrls: [url(ports[2 * i]!)],
          listenClientUrls: [url(ports[2 * i + 1]!)],
          advertiseClientUrls: [url(ports[2 * i + 1]!)],
          initialCluster,
          initialClusterToken: `client-test-${process.pid}`,
          heartbeatMs: 50,
          electionMs: 500,
        };
        tweak(cfg);
        return startEtcd(cfg, silent, clientApiListeners(silent));
      }),
    );
    members.push(...started);
    await until(
      () => (members.every((m) => m.server.leader() !== 0n) ? true : undefined),
      "an in-process leader",
      20_000,
      20,
    );
  } catch (e) {
    await close();
    throw e;
  }
  return {
    members,
    endpoints: names.map((_, i) => `http://127.0.0.1:${ports[2 * i + 1]}`),
    close,
  };
}

/** A promise with its resolve function, for waiting on callbacks. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
