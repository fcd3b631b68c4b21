// etcd 3.6's v3 discovery (--discovery-token, --discovery-endpoints): the registry lives in an existing
// cluster's v3 key space:
//   /_etcd/registry/<token>/_config/size          the expected cluster size (a positive decimal)
//   /_etcd/registry/<token>/members/<memberID>    "name=peerURL,..." of each registered member (hex ID)
// A member checks the registry is not full, puts its own key, lists the members prefix and watches it
// from the next revision until `size` members are known. The first `size` by create revision win; a member
// not among them fails with "discovery: cluster is full". Errors reaching the registry are retried with
// etcd's backoff (backoff.ts); a missing or bad size is final.

import { readFileSync } from "node:fs";
import { type ChannelCredentials, credentials as grpcCredentials } from "@grpc/grpc-js";
import { Client } from "../client/index.js";
import type { DiscoveryV3Config } from "../server/config.js";
import { hexId } from "../server/ids.js";
import { Retrier, type RetryOptions } from "./backoff.js";
import {
  DiscoveryProtocolError,
  ErrBadSizeKey,
  ErrFullCluster,
  ErrInvalidPeerURL,
  ErrSizeNotFound,
} from "./errors.js";
import { parseUrlsMap } from "./urls_map.js";
import type { DiscoveryLogger } from "./v2.js";

export const DISCOVERY_PREFIX = "/_etcd/registry";

export const clusterSizeKey = (token: string) => `${DISCOVERY_PREFIX}/${token}/_config/size`;
export const memberKeyPrefix = (token: string) => `${DISCOVERY_PREFIX}/${token}/members`;
export const memberKey = (token: string, id: bigint) => `${memberKeyPrefix(token)}/${hexId(id)}`;

export interface V3DiscoveryOptions extends RetryOptions {
  cfg: DiscoveryV3Config;
  id: bigint;
  /** What this member registers: "name=peerURL,...". */
  config: string;
  logger: DiscoveryLogger;
}

interface MemberInfo {
  key: string;
  value: string;
  createRev: bigint;
}

/** The registered members, in create-revision order (etcd's clusterInfo). */
class ClusterInfo {
  readonly members: MemberInfo[] = [];

  constructor(private readonly prefix: string) {}

  /** Adds a registration; returns the reason it was ignored, if it was. */
  add(key: string, value: string, createRev: bigint): string | undefined {
    if (!key.startsWith(this.prefix)) return "invalid peer registry key";
    if (!value.includes("=")) return "invalid peer info returned from discovery service";
    if (this.members.some((m) => m.key === key)) return "found duplicate peer from discovery service";
    this.members.push({ key, value, createRev });
    this.members.sort((a, b) => (a.createRev < b.createRev ? -1 : a.createRev > b.createRev ? 1 : 0));
    return undefined;
  }

  initialCluster(size: number): string {
    const us = this.members
      .slice(0, size)
      .map((m) => m.value)
      .join(",");
    try {
      parseUrlsMap(us);
    } catch {
      throw ErrInvalidPeerURL;
    }
    return us;
  }
}

/** grpc-js credentials from the --discovery-* TLS flags (insecure for plain http endpoints). */
function channelCredentials(cfg: DiscoveryV3Config): ChannelCredentials | undefined {
  const secure = cfg.endpoints.some((e) => e.startsWith("https://")) || cfg.cacert !== "" || cfg.cert !== "";
  if (!secure && cfg.insecureTransport) return undefined;
  const read = (p: string) => (p === "" ? null : readFileSync(p));
  return grpcCredentials.createSsl(
    read(cfg.cacert),
    read(cfg.key),
    read(cfg.cert),
    cfg.insecureSkipTlsVerify
      ? { checkServerIdentity: () => undefined, rejectUnauthorized: false }
      : undefined,
  );
}

/** "user:password" in --discovery-user, or --discovery-password. */
function authOf(cfg: DiscoveryV3Config): { username: string; password: string } | undefined {
  if (cfg.user === "") return undefined;
  const i = cfg.user.indexOf(":");
  if (i >= 0) return { username: cfg.user.slice(0, i), password: cfg.user.slice(i + 1) };
  if (cfg.password === "")
    throw new DiscoveryProtocolError("--discovery-user without a password needs --discovery-password");
  return { username: cfg.user, password: cfg.password };
}

/** Registers this member and waits for the rest; resolves with the initial cluster as a URLsMap text. */
export async function joinClusterV3(opts: V3DiscoveryOptions): Promise<string> {
  const { cfg, logger } = opts;
  const client = new Client({
    endpoints: cfg.endpoints,
    auth: authOf(cfg),
    requestTimeoutMs: cfg.dialTimeoutMs + cfg.requestTimeoutMs,
    credentials: channelCredentials(cfg),
    channelOptions: {
      "grpc.keepalive_time_ms": cfg.keepaliveTimeMs,
      "grpc.keepalive_timeout_ms": cfg.keepaliveTimeoutMs,
      "grpc.keepalive_permit_without_calls": 1,
    },
  });
  const retrier = new Retrier({
    ...opts,
    onRetry: (reason, ms) =>
      logger.warn({ reason, backoff: `${ms / 1000}s` }, "retry connecting to discovery service"),
  });
  const token = cfg.token;
  const self = memberKey(token, opts.id);
  const timeoutMs = cfg.dialTimeoutMs + cfg.requestTimeoutMs;
  const fields = { "discovery-token": token, "discovery-endpoints": cfg.endpoints.join(",") };

  const clusterSize = async (): Promise<number> => {
    const r = await client.get(clusterSizeKey(token), { timeoutMs });
    if (r.kvs.length === 0) throw ErrSizeNotFound;
    const text = r.kvs[0]!.value.toString();
    if (!/^[+-]?\d+$/.test(text) || Number(text) <= 0) throw ErrBadSizeKey;
    return Number(text);
  };

  const clusterMembers = async (): Promise<{ cls: ClusterInfo; rev: bigint }> => {
    const r = await client.get(memberKeyPrefix(token), { prefix: true, timeoutMs });
    const cls = new ClusterInfo(memberKeyPrefix(token));
    for (const kv of r.kvs)
      note(cls, kv.key.toString().trim(), kv.value.toString().trim(), kv.createRevision);
    return { cls, rev: r.header.revision };
  };

  const note = (cls: ClusterInfo, key: string, value: string, rev: bigint) => {
    const why = cls.add(key, value, rev);
    if (why !== undefined) logger.warn({ ...fields, memberKey: key, memberInfo: value }, why);
    else logger.info({ ...fields, memberKey: key, memberInfo: value }, "found peer from discovery service");
  };

  const checkCluster = async (): Promise<{ cls: ClusterInfo; size: number; rev: bigint }> => {
    for (;;) {
      let size: number;
      let got: { cls: ClusterInfo; rev: bigint };
      try {
        size = await clusterSize();
        got = await clusterMembers();
      } catch (e) {
        if (e === ErrSizeNotFound || e === ErrBadSizeKey) throw e;
        logger.warn(
          { ...fields, error: String((e as Error).message ?? e) },
          "failed to reach the discovery service",
        );
        await retrier.backoff("cluster status check");
        continue;
      }
      retrier.reset();
      let i = 0;
      for (const m of got.cls.members) {
        if (m.key === self) break;
        if (i >= size - 1) throw ErrFullCluster;
        i++;
      }
      return { ...got, size };
    }
  };

  const registerSelf = async (): Promise<void> => {
    for (;;) {
      try {
        await client.put(self, opts.config, { timeoutMs });
        retrier.reset();
        logger.info(
          { ...fields, memberKey: self, memberInfo: opts.config },
          "register member itself successfully",
        );
        return;
      } catch (e) {
        logger.warn(
          { ...fields, memberKey: self, error: String((e as Error).message ?? e) },
          "failed to register members itself to the discovery service",
        );
        await retrier.backoff("register member itself");
      }
    }
  };

  const waitPeers = async (cls: ClusterInfo, size: number, rev: bigint): Promise<void> => {
    logger.info(
      { ...fields, clusterSize: size, "found-peers": cls.members.length },
      "waiting for peers from discovery service",
    );
    const w = await client.watch(memberKeyPrefix(token), { prefix: true, startRevision: rev + 1n });
    try {
      for await (const resp of w) {
        for (const ev of resp.events) {
          note(cls, ev.kv.key.toString().trim(), ev.kv.value.toString().trim(), ev.kv.createRevision);
        }
        if (cls.members.length >= size) break;
      }
    } finally {
      await w.cancel().catch(() => {});
    }
    logger.info(
      { ...fields, clusterSize: size, "found-peers": cls.members.length },
      "found all needed peers from discovery service",
    );
  };

  try {
    await checkCluster();
    await registerSelf();
    const { cls, size, rev } = await checkCluster();
    while (cls.members.length < size) await waitPeers(cls, size, rev);
    const s = cls.initialCluster(size);
    logger.info({ ...fields, cluster: s }, "discovery joined cluster successfully");
    return s;
  } finally {
    client.close();
  }
}
