// A peer's HashKV over the peer URLs (POST /members/hashkv, JSON): how the corruption checks ask other
// members for their hash at a revision.

import type { TlsInfo } from "../../pkg/tls/info.js";
import { peerFetchFirst } from "../../pkg/tls/peer_fetch.js";
import type { MemberHash } from "./judge.js";

export const PEER_HASHKV_PATH = "/members/hashkv";

/** What a peer answered: its hash, or the reason it had none (etcd's error text). */
export type PeerHashAnswer = { ok: MemberHash } | { error: string };

export interface PeerHashKVBody {
  memberId?: string;
  hash?: number;
  compactRevision?: number;
  hashRevision?: number;
  error?: string;
}

export async function fetchPeerHash(
  id: bigint,
  urls: readonly string[],
  revision: number,
  opts: { clusterId: string; from: string; timeoutMs: number; tls?: TlsInfo },
): Promise<PeerHashAnswer> {
  try {
    const res = await peerFetchFirst(
      urls,
      PEER_HASHKV_PATH,
      {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Etcd-Cluster-ID": opts.clusterId,
          "X-Server-From": opts.from,
        },
        body: JSON.stringify({ revision }),
        signal: AbortSignal.timeout(opts.timeoutMs),
      },
      opts.tls,
    );
    const b = (await res.json()) as PeerHashKVBody;
    if (typeof b.error === "string") return { error: b.error };
    if (typeof b.hash !== "number") return { error: `unexpected answer (HTTP ${res.status})` };
    return {
      ok: { id, hash: b.hash, compactRevision: b.compactRevision ?? 0, hashRevision: b.hashRevision ?? 0 },
    };
  } catch (e) {
    return { error: String((e as Error)?.message ?? e) };
  }
}
