// The join logic: turns a discovery configuration into the initial cluster a new member bootstraps with.
// It runs before anything is written to the data dir, so a member that fails here leaves no
// half-initialised data dir behind.
//   v2 (--discovery URL) and v3 (--discovery-token/--discovery-endpoints): the member registers under its
//     ID, computed from its advertised peer URLs with the discovery URL (v2) or the token (v3) as the
//     cluster token, exactly as etcd does, so every member derives the same IDs; the cluster token of the
//     new cluster is that URL or token too.
//   DNS SRV (--discovery-srv): the SRV targets; the cluster token stays --initial-cluster-token.

import type { InitialClusterMember, ServerConfig } from "../server/config.js";
import { computeMemberId, urlString } from "../server/ids.js";
import { joinHostPort, type Lookup, makeLookup } from "./dns.js";
import { DiscoveryError, ErrDuplicateID, ErrDuplicateName, ErrFullCluster } from "./errors.js";
import { srvInitialCluster } from "./srv.js";
import { duplicateUrl, parseUrlsMap, urlsMapEntry, urlsMapString } from "./urls_map.js";
import { type DiscoveryLogger, joinClusterV2 } from "./v2.js";
import { joinClusterV3 } from "./v3.js";

export interface BootstrapOptions {
  /** Waits `ms` between retries (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
  /** DNS lookups for SRV discovery (tests pass a fake). */
  lookup?: Lookup;
}

/** True when `cfg` asks a new member to find its initial cluster through discovery. */
export function usesDiscovery(cfg: ServerConfig): boolean {
  const d = cfg.discovery;
  return d !== undefined && (d.url !== "" || d.v3 !== undefined || d.srv !== "");
}

/**
 * The configuration with the initial cluster (and cluster token) filled in from discovery; `cfg` itself
 * when it does not use discovery. Throws etcd's errors (DiscoveryError for the registries).
 */
export async function discoverInitialCluster(
  cfg: ServerConfig,
  logger: DiscoveryLogger,
  opts: BootstrapOptions = {},
): Promise<ServerConfig> {
  const d = cfg.discovery;
  if (d === undefined || !usesDiscovery(cfg)) return cfg;
  const apurls = cfg.initialAdvertisePeerUrls.map((u) => urlString(u));
  if (d.srv !== "") {
    const lookup = opts.lookup ?? makeLookup({ server: d.dnsServer });
    const members = await srvInitialCluster({
      name: cfg.name,
      domain: d.srv,
      serviceName: d.srvName,
      advertisePeerUrls: apurls,
      logger,
      lookup,
    });
    await verifySelf(members, cfg.name, apurls, lookup);
    const dup = duplicateUrl(members);
    if (dup !== undefined) throw new Error(`initial cluster ${urlsMapString(members)} has duplicate url`);
    return { ...cfg, initialCluster: members };
  }
  const v2 = d.url !== "";
  const token = v2 ? d.url : d.v3!.token;
  const id = computeMemberId(apurls, token);
  const config = urlsMapEntry(cfg.name, apurls);
  let found: string;
  try {
    const common = { id, config, logger, maxRetries: d.maxRetries, sleep: opts.sleep };
    found = v2
      ? await joinClusterV2({ ...common, url: d.url, proxy: d.proxy })
      : await joinClusterV3({ ...common, cfg: d.v3! });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    advise(logger, cfg, token, err);
    throw new DiscoveryError("join", err);
  }
  const members = parseUrlsMap(found);
  if (duplicateUrl(members) !== undefined) {
    throw new Error(`discovery cluster ${urlsMapString(members)} has duplicate url`);
  }
  logger.info({ "discovery-token": token, cluster: found }, "discovered the initial cluster");
  return { ...cfg, initialCluster: members, initialClusterToken: token };
}

/** etcd's advice for an operator whose member failed to bootstrap by discovery. */
function advise(logger: DiscoveryLogger, cfg: ServerConfig, token: string, err: Error): void {
  if (err === ErrFullCluster && cfg.discovery?.fallback === "proxy") {
    logger.warn(
      { "fallback-proxy": "proxy", error: err.message },
      "discovery cluster is full; etcd-ts has no v2 proxy to fall back to, exiting",
    );
  }
  if (err === ErrDuplicateID) {
    logger.warn(
      { name: cfg.name, "discovery-token": token, error: err.message },
      "member has been registered with discovery service",
    );
    logger.warn({ "data-dir": cfg.dataDir }, "but could not find valid cluster configuration");
    logger.warn({}, "check data dir if previous bootstrap succeeded");
    logger.warn({}, "or use a new discovery token if previous bootstrap failed");
  } else if (err === ErrDuplicateName) {
    logger.warn(
      { "discovery-token": token, error: err.message },
      "member with duplicated name has already been registered",
    );
    logger.warn({}, "cURL the discovery token URL for details");
    logger.warn({}, "do not reuse discovery token; generate a new one to bootstrap a cluster");
  } else {
    logger.warn(
      { "discovery-token": token, error: err.message },
      "failed to bootstrap; discovery token was already used",
    );
    logger.warn({}, "do not reuse discovery token; generate a new one to bootstrap a cluster");
  }
}

/**
 * etcd's VerifyBootstrap for a cluster found in DNS: this member's URLs there (target names) must reach
 * the same addresses and ports as its advertised peer URLs.
 */
async function verifySelf(
  members: InitialClusterMember[],
  name: string,
  apurls: string[],
  lookup: Lookup,
): Promise<void> {
  const self = members.find((m) => m.name === name)!;
  const resolved = async (urls: readonly string[]) => {
    const out = new Set<string>();
    for (const raw of urls) {
      const u = new URL(raw);
      const port = u.port !== "" ? u.port : u.protocol === "https:" ? "443" : "80";
      for (const a of await lookup.addresses(u.hostname)) out.add(`${u.protocol}//${joinHostPort(a, port)}`);
    }
    return out;
  };
  const inDns = await resolved(self.peerUrls);
  const advertised = await resolved(apurls);
  const same = inDns.size === advertised.size && [...inDns].every((x) => advertised.has(x));
  if (!same) {
    throw new Error(
      `--initial-cluster has ${self.peerUrls.map((u) => `${name}=${u}`).join(",")} but missing from ` +
        `--initial-advertise-peer-urls=${apurls.join(",")} (resolved urls do not match)`,
    );
  }
}
