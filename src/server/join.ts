// Joining an existing cluster (--initial-cluster-state existing): ask the members named in
// --initial-cluster for the cluster's membership (GET /members on their peer URLs, as etcd does), and
// find this member in it by its advertised peer URLs: it must have been added (`member add`) first.

import type { TlsInfo } from "../pkg/tls/info.js";
import { peerFetch } from "../pkg/tls/peer_fetch.js";
import type { ServerConfig } from "./config.js";
import { hexId, urlString } from "./ids.js";
import type { Member } from "./membership.js";

export interface RemoteCluster {
  clusterId: bigint;
  members: Member[];
  /** The peer URL that answered. */
  from: string;
}

interface WireMember {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner?: boolean;
}

/** GET /members from each URL in turn (https:// ones with the --peer-* TLS settings); the first good answer wins. */
export async function fetchRemoteCluster(
  urls: readonly string[],
  timeoutMs: number,
  tls?: TlsInfo,
): Promise<RemoteCluster> {
  const errors: string[] = [];
  for (const u of urls) {
    try {
      const res = await peerFetch(`${urlString(u)}/members`, { signal: AbortSignal.timeout(timeoutMs) }, tls);
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      const cid = res.headers.get("x-etcd-cluster-id");
      if (cid === null || !/^[0-9a-fA-F]{1,16}$/.test(cid)) throw new Error("no X-Etcd-Cluster-ID header");
      const list = (await res.json()) as WireMember[];
      return {
        clusterId: BigInt(`0x${cid}`),
        from: u,
        members: list.map((m) => ({
          id: BigInt(`0x${m.id}`),
          name: m.name,
          peerUrls: m.peerURLs.map(urlString),
          clientUrls: m.clientURLs.map(urlString),
          isLearner: m.isLearner ?? false,
        })),
      };
    } catch (e) {
      errors.push(`${u}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new Error(`could not retrieve cluster information from the given URLs (${errors.join("; ")})`);
}

const sameUrls = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join(",") === [...b].sort().join(",");

/**
 * This member's entry in the remote membership, found by its advertised peer URLs. Refuses a member
 * that is not there (never added, or removed) or that has already started (another process is it).
 */
export function findSelf(cfg: ServerConfig, remote: RemoteCluster): Member {
  const mine = cfg.initialAdvertisePeerUrls.map((u) => urlString(u));
  const self = remote.members.find((m) => sameUrls(m.peerUrls, mine));
  if (self === undefined) {
    throw new Error(
      `member ${cfg.name} (peer URLs ${mine.join(",")}) is not a member of cluster ${hexId(remote.clusterId)} ` +
        `(asked ${remote.from}); add it first with \`etcdctl member add ${cfg.name} --peer-urls=${mine.join(",")}\``,
    );
  }
  if (self.clientUrls.length > 0 || self.name !== "") {
    throw new Error(`member ${hexId(self.id)} has already been bootstrapped`);
  }
  const peers = new Set(remote.members.flatMap((m) => m.peerUrls));
  const missing = cfg.initialCluster.filter((e) => !e.peerUrls.some((u) => peers.has(urlString(u))));
  if (missing.length > 0) {
    throw new Error(
      `--initial-cluster names ${missing.map((e) => e.name).join(", ")}, not a member of cluster ` +
        `${hexId(remote.clusterId)}: member count is unequal`,
    );
  }
  return self;
}

/** The URLs to ask: every --initial-cluster peer URL but this member's own. */
export function remotePeerUrls(cfg: ServerConfig): string[] {
  const mine = new Set(cfg.initialAdvertisePeerUrls.map((u) => urlString(u)));
  return cfg.initialCluster.flatMap((e) => e.peerUrls.map((u) => urlString(u))).filter((u) => !mine.has(u));
}
