// etcd's URLsMap text: "name1=http://a:2380,name1=http://b:2380,name2=http://c:2380" (a name may repeat
// to give a member several peer URLs). Discovery registries hold one such text per member; the joined
// texts of the winners become the initial cluster.

import type { InitialClusterMember } from "../server/config.js";
import { urlString } from "../server/ids.js";

/** Parses a URLsMap; throws with a reason when a URL is not an http(s) URL with a host and a port. */
export function parseUrlsMap(s: string): InitialClusterMember[] {
  const byName = new Map<string, string[]>();
  for (const entry of s.split(",")) {
    if (entry.trim() === "") continue;
    const eq = entry.indexOf("=");
    if (eq < 0) throw new Error(`missing "=" in ${JSON.stringify(entry)}`);
    const name = decodeURIComponent(entry.slice(0, eq).trim().replace(/\+/g, " "));
    const raw = decodeURIComponent(
      entry
        .slice(eq + 1)
        .trim()
        .replace(/\+/g, " "),
    );
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new Error(`invalid URL ${JSON.stringify(raw)}`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new Error(`URL scheme must be http or https: ${raw}`);
    }
    if (u.hostname === "" || !/:\d+$/.test(u.host)) {
      throw new Error(`URL address does not have the form "host:port": ${raw}`);
    }
    if (u.pathname !== "/" && u.pathname !== "") throw new Error(`URL must not contain a path: ${raw}`);
    const list = byName.get(name) ?? [];
    list.push(urlString(raw));
    byName.set(name, list);
  }
  if (byName.size === 0) throw new Error("no members");
  return [...byName].map(([name, urls]) => ({ name, peerUrls: [...new Set(urls)].sort() }));
}

/** `name=url` for each of the member's URLs, comma-joined (what a member registers). */
export function urlsMapEntry(name: string, urls: readonly string[]): string {
  return urls.map((u) => `${name}=${urlString(u)}`).join(",");
}

/** A peer URL that appears twice in the map (etcd refuses such a discovered cluster). */
export function duplicateUrl(members: readonly InitialClusterMember[]): string | undefined {
  const seen = new Set<string>();
  for (const m of members) {
    for (const u of m.peerUrls) {
      if (seen.has(u)) return u;
      seen.add(u);
    }
  }
  return undefined;
}

/** etcd's URLsMap.String(): pairs sorted, comma-joined. */
export function urlsMapString(members: readonly InitialClusterMember[]): string {
  return members
    .flatMap((m) => m.peerUrls.map((u) => `${m.name}=${u}`))
    .sort()
    .join(",");
}
