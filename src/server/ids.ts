// Member, cluster and request IDs, derived as etcd derives them so the same flags give the same IDs.

import { createHash } from "node:crypto";

/** etcd prints URLs without a trailing slash; URL.toString adds one for empty paths. */
export function urlString(u: string | URL): string {
  const s = typeof u === "string" ? u : u.toString();
  return s.endsWith("/") ? s.slice(0, -1) : s;
}

function sha1First8(b: Buffer): bigint {
  return createHash("sha1").update(b).digest().readBigUInt64BE(0);
}

/**
 * A member's ID: the first 8 bytes (big-endian) of SHA-1 over its sorted peer URLs joined, the
 * cluster token, and for members added at runtime the Unix time in seconds.
 */
export function computeMemberId(peerUrls: readonly string[], token: string, unixSeconds?: number): bigint {
  const joined = [...peerUrls].map(urlString).sort().join("");
  const suffix = unixSeconds === undefined ? "" : String(unixSeconds);
  return sha1First8(Buffer.from(joined + token + suffix, "utf8"));
}

/** The cluster ID: the first 8 bytes of SHA-1 over the sorted member IDs, each 8 bytes big-endian. */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const ids = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const b = Buffer.alloc(8 * ids.length);
  ids.forEach((id, i) => {
    b.writeBigUInt64BE(id, 8 * i);
  });
  return sha1First8(b);
}

export function hexId(id: bigint): string {
  return id.toString(16);
}

/**
 * Request IDs unique across members and restarts (etcd's idutil): the low 2 bytes of the member ID,
 * then a millisecond timestamp prefix and a counter in the low bits.
 */
export class RequestIdGenerator {
  private prefix: bigint;
  private suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << 48n;
    // Start the counter from the time so a restarted member does not reuse IDs.
    this.suffix = (BigInt(Math.floor(nowMs)) & 0xffffffffffn) << 8n;
  }

  next(): bigint {
    this.suffix = (this.suffix + 1n) & 0xffffffffffffn;
    return this.prefix | this.suffix;
  }
}
