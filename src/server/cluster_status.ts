// Every member's status at a glance (the dashboard's view): this member's own, and each other member's
// asked over its peer URLs (GET /members/status), with a short timeout so one dead member shows as
// unreachable instead of stalling the view.

import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import type { TlsInfo } from "../pkg/tls/info.js";
import { peerFetchFirst } from "../pkg/tls/peer_fetch.js";
import { hexId } from "./ids.js";
import type { Member } from "./membership.js";

export const PEER_STATUS_PATH = "/members/status";
const PEER_STATUS_TIMEOUT_MS = 1000;

/** One member's status as JSON carries it (IDs in hex, counters as numbers). */
export interface MemberStatusJson {
  id: string;
  leader: string;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
  revision: number;
  dbSize: number;
  dbSizeInUse: number;
  isLearner: boolean;
  version: string;
  errors: string[];
}

export interface ClusterMemberView {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
  status?: MemberStatusJson;
  error?: string;
}

export function statusJson(s: pb.StatusResponse): MemberStatusJson {
  return {
    id: hexId(s.header?.memberId ?? 0n),
    leader: hexId(s.leader),
    raftTerm: Number(s.raftTerm),
    raftIndex: Number(s.raftIndex),
    raftAppliedIndex: Number(s.raftAppliedIndex),
    revision: Number(s.header?.revision ?? 0n),
    dbSize: Number(s.dbSize),
    dbSizeInUse: Number(s.dbSizeInUse),
    isLearner: s.isLearner,
    version: s.version,
    errors: s.errors,
  };
}

export async function clusterStatus(opts: {
  self: bigint;
  clusterId: bigint;
  members: readonly Member[];
  ownStatus: () => Promise<pb.StatusResponse>;
  tls?: TlsInfo;
}): Promise<ClusterMemberView[]> {
  return Promise.all(
    opts.members.map(async (m) => {
      const view: ClusterMemberView = {
        id: hexId(m.id),
        name: m.name,
        peerURLs: m.peerUrls,
        clientURLs: m.clientUrls,
        isLearner: m.isLearner,
      };
      try {
        view.status =
          m.id === opts.self
            ? statusJson(await opts.ownStatus())
            : await peerStatus(m, opts.clusterId, opts.tls);
      } catch (e) {
        view.error = String((e as Error)?.message ?? e);
      }
      return view;
    }),
  );
}

async function peerStatus(m: Member, clusterId: bigint, tls?: TlsInfo): Promise<MemberStatusJson> {
  const res = await peerFetchFirst(
    m.peerUrls,
    PEER_STATUS_PATH,
    {
      headers: { "X-Etcd-Cluster-ID": hexId(clusterId) },
      signal: AbortSignal.timeout(PEER_STATUS_TIMEOUT_MS),
    },
    tls,
  );
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  return (await res.json()) as MemberStatusJson;
}
