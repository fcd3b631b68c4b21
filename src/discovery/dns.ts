// DNS lookups for SRV discovery: SRV records, and the addresses of their targets. By default the
// system's resolver answers (SRV through the configured name servers; host names through getaddrinfo, so
// /etc/hosts counts, as Go's resolver does). With a DNS server given (etcd-ts's --discovery-srv-dns-server
// "host[:port]", default port 53) every query goes to that server; a host name it does not know is then
// still looked up through the system (e.g. "localhost").

import { promises as dns } from "node:dns";
import { isIP } from "node:net";

export interface SrvRecord {
  /** Target host name, without the trailing dot. */
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface Lookup {
  /** The SRV records of `name`, by priority then weight (highest first), then target and port. */
  srv(name: string): Promise<SrvRecord[]>;
  /** The IP addresses of `host` (an IP literal is its own address). */
  addresses(host: string): Promise<string[]>;
}

/** Checks and normalises a DNS server address ("127.0.0.1:5353", "[::1]:53", "10.0.0.2"). */
export function dnsServerAddress(server: string): string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(server.trim());
  const ip = m?.[1] ?? m?.[2];
  if (m === null || ip === undefined || isIP(ip) === 0 || Number(m[3] ?? 53) > 65535) {
    throw new Error(
      `invalid DNS server address ${JSON.stringify(server)}: want an IP address with an optional port`,
    );
  }
  const port = m[3] ?? "53";
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function makeLookup(opts: { server?: string; timeoutMs?: number } = {}): Lookup {
  const resolver = new dns.Resolver({ timeout: opts.timeoutMs ?? 2000, tries: 2 });
  if (opts.server !== undefined && opts.server !== "") resolver.setServers([dnsServerAddress(opts.server)]);
  const custom = opts.server !== undefined && opts.server !== "";
  return {
    async srv(name) {
      const recs = await resolver.resolveSrv(name);
      return recs
        .map((r) => ({
          name: r.name.replace(/\.$/, ""),
          port: r.port,
          priority: r.priority,
          weight: r.weight,
        }))
        .sort(
          (a, b) =>
            a.priority - b.priority ||
            b.weight - a.weight ||
            (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
            a.port - b.port,
        );
    },
    async addresses(host) {
      const h = host.replace(/^\[|\]$/g, "").replace(/\.$/, "");
      if (isIP(h) !== 0) return [h];
      if (custom) {
        const found = (
          await Promise.all([resolver.resolve4(h).catch(() => []), resolver.resolve6(h).catch(() => [])])
        ).flat();
        if (found.length > 0) return found;
      }
      const all = await dns.lookup(h, { all: true });
      return all.map((a) => a.address);
    },
  };
}

/** Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
