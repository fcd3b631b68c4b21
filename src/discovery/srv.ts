// DNS SRV discovery (etcd's client/pkg/srv and embed.Config.GetDNSClusterNames):
//   server side (--discovery-srv <domain> [--discovery-srv-name <suffix>]): the initial cluster is every
//   target of _etcd-server-ssl[-<suffix>]._tcp.<domain> (https) and _etcd-server[-<suffix>]._tcp.<domain>
//   (http). A target whose address and port are one of this member's advertised peer URLs is this member
//   (named --name); the others get temporary names "0", "1", ... (they publish their real names once they
//   run). URLs keep the target names, so every member derives the same member IDs.
//   client side (etcdctl --discovery-srv): the endpoints of _etcd-client-ssl._tcp (https) and
//   _etcd-client._tcp (http).

import type { InitialClusterMember } from "../server/config.js";
import { urlString } from "../server/ids.js";
import { joinHostPort, type Lookup, makeLookup } from "./dns.js";
import { parseUrlsMap } from "./urls_map.js";

/** etcd's srv.GetSRVService: "etcd-server" -> "etcd-server-ssl" for https, then "-<suffix>" if any. */
export function srvService(service: string, serviceName: string, scheme: "http" | "https"): string {
  const s = scheme === "https" ? `${service}-ssl` : service;
  return serviceName !== "" ? `${s}-${serviceName}` : s;
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * etcd's srv.GetCluster for one service: "name=scheme://target:port" for each record, naming `name` the
 * record that reaches one of `apurls`. Throws when no record could be used.
 */
export async function srvClusterEntries(
  lookup: Lookup,
  scheme: "http" | "https",
  service: string,
  name: string,
  domain: string,
  apurls: readonly string[],
): Promise<string[]> {
  // Every address:port this member advertises, to recognise itself among the targets.
  const self = new Map<string, URL>();
  for (const raw of apurls) {
    const u = new URL(raw);
    const port = u.port !== "" ? u.port : u.protocol === "https:" ? "443" : "80";
    for (const a of await lookup.addresses(u.hostname)) self.set(joinHostPort(a, port), u);
  }
  let tempName = 0;
  const parts: string[] = [];
  let lastErr: unknown;
  try {
    const records = await lookup.srv(`_${service}._tcp.${domain}`);
    for (const r of records) {
      let addrs: string[];
      try {
        addrs = await lookup.addresses(r.name);
      } catch (e) {
        lastErr = e;
        continue;
      }
      const mine = addrs.map((a) => self.get(joinHostPort(a, r.port))).find((u) => u !== undefined);
      const n = mine !== undefined ? name : String(tempName++);
      const urlHost = joinHostPort(r.name, r.port);
      if (mine !== undefined && mine.protocol !== `${scheme}:`) {
        lastErr = new Error(
          `bootstrap at ${scheme}://${urlHost} from DNS for ${service} has scheme mismatch with expected peer ${urlString(mine)}`,
        );
        continue;
      }
      parts.push(`${n}=${scheme}://${urlHost}`);
    }
  } catch (e) {
    lastErr = e;
  }
  if (parts.length === 0) {
    throw new Error(`error querying DNS SRV records for _${service} ${errText(lastErr ?? "no records")}`);
  }
  return parts;
}

export interface SrvDiscoveryOptions {
  /** --name. */
  name: string;
  /** --discovery-srv. */
  domain: string;
  /** --discovery-srv-name. */
  serviceName: string;
  /** --initial-advertise-peer-urls. */
  advertisePeerUrls: readonly string[];
  /** etcd-ts's --discovery-srv-dns-server ("" = the system's resolver). */
  dnsServer?: string;
  logger?: { info(fields: object, msg: string): void; warn(fields: object, msg: string): void };
  lookup?: Lookup;
}

/**
 * The initial cluster from SRV records (https and http services combined), refusing one that does not
 * contain this member: `cannot find local etcd member "<name>" in SRV records`.
 */
export async function srvInitialCluster(opts: SrvDiscoveryOptions): Promise<InitialClusterMember[]> {
  const lookup = opts.lookup ?? makeLookup({ server: opts.dnsServer });
  const errors: string[] = [];
  const found: string[] = [];
  for (const scheme of ["https", "http"] as const) {
    const service = srvService("etcd-server", opts.serviceName, scheme);
    try {
      const parts = await srvClusterEntries(
        lookup,
        scheme,
        service,
        opts.name,
        opts.domain,
        opts.advertisePeerUrls,
      );
      found.push(...parts);
    } catch (e) {
      errors.push(errText(e));
    }
    opts.logger?.info(
      {
        "service-scheme": scheme,
        "service-name": service,
        "server-name": opts.name,
        "discovery-srv": opts.domain,
        "advertise-peer-urls": opts.advertisePeerUrls,
        "found-cluster": found,
      },
      `get cluster for ${service} SRV`,
    );
  }
  if (found.length === 0) {
    opts.logger?.warn({ error: errors.join("; ") }, "failed to resolve during SRV discovery");
    throw new Error(errors.join("; "));
  }
  for (const s of found) opts.logger?.info({ node: s }, "got bootstrap from DNS for etcd-server");
  const members = parseUrlsMap(found.join(","));
  if (!members.some((m) => m.name === opts.name)) {
    throw new Error(`cannot find local etcd member ${JSON.stringify(opts.name)} in SRV records`);
  }
  return members;
}

export interface SrvClients {
  /** "https://target:port" for _etcd-client-ssl records, then "http://target:port" for _etcd-client. */
  endpoints: string[];
}

/**
 * Client endpoints from SRV records (etcd's srv.GetClient("etcd-client", domain, serviceName)), for
 * `etcdctl --discovery-srv <domain> [--discovery-srv-name <suffix>]`. Fails only when both lookups fail.
 * `dnsServer` ("host[:port]") sends the queries to that server instead of the system's resolver.
 */
export async function resolveClientEndpoints(
  domain: string,
  opts: { serviceName?: string; dnsServer?: string; lookup?: Lookup } = {},
): Promise<SrvClients> {
  const lookup = opts.lookup ?? makeLookup({ server: opts.dnsServer });
  const endpoints: string[] = [];
  const errors: string[] = [];
  for (const scheme of ["https", "http"] as const) {
    const name = `_${srvService("etcd-client", opts.serviceName ?? "", scheme)}._tcp.${domain}`;
    try {
      for (const r of await lookup.srv(name)) endpoints.push(`${scheme}://${joinHostPort(r.name, r.port)}`);
    } catch (e) {
      errors.push(`lookup ${name}: ${errText(e)}`);
    }
  }
  if (errors.length === 2) throw new Error(`dns lookup errors: ${errors.join(" and ")}`);
  return { endpoints };
}
