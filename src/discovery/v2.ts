// etcd's v2 discovery (--discovery <url>): the URL names a directory on a server speaking the v2 keys
// API, e.g. http://host:2379/v2/keys/_etcd/registry/<token>, holding `_config/size` and, once members
// register, one key per member named by its member ID (hex) with the value "name=peerURL,...".
//
// A member (1) checks the registry is not already full, (2) registers itself with prevExist=false and
// waits until its own key is visible, (3) lists the directory and (4) watches it from that listing's index
// until `size` members are known. The first `size` registrations by createdIndex form the cluster; a
// member not among them fails with "discovery: cluster is full". Unreachable registries are retried with
// etcd's backoff (backoff.ts).

import { hexId } from "../server/ids.js";
import { Retrier, type RetryOptions } from "./backoff.js";
import {
  DiscoveryProtocolError,
  ErrBadDiscoveryEndpoint,
  ErrBadSizeKey,
  ErrDuplicateID,
  ErrDuplicateName,
  ErrFullCluster,
  ErrInvalidURL,
  ErrSizeNotFound,
} from "./errors.js";
import { parseUrlsMap } from "./urls_map.js";
import { V2ApiError, V2ClusterError, V2InvalidJson, V2KeysClient, type V2Node } from "./v2_client.js";

export interface DiscoveryLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export interface V2DiscoveryOptions extends RetryOptions {
  /** --discovery. */
  url: string;
  /** --discovery-proxy ("" for none). */
  proxy?: string;
  /** This member's ID (computed with the discovery URL as the cluster token). */
  id: bigint;
  /** What this member registers: "name=peerURL,...". */
  config: string;
  logger: DiscoveryLogger;
}

/** Go's path.Base for the keys here. */
const base = (p: string) => p.replace(/\/+$/, "").split("/").pop() ?? "";

/** Registers this member and waits for the rest; resolves with the initial cluster as a URLsMap text. */
export async function joinClusterV2(opts: V2DiscoveryOptions): Promise<string> {
  return new V2Discovery(opts).join();
}

class V2Discovery {
  private readonly client: V2KeysClient;
  /** The registry directory: the URL's path. */
  private readonly cluster: string;
  private readonly retrier: Retrier;
  private readonly selfKey: string;

  constructor(private readonly opts: V2DiscoveryOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new DiscoveryProtocolError(`parse ${JSON.stringify(opts.url)}: invalid URI for request`);
    }
    this.cluster = u.pathname.replace(/\/+$/, "") || "/";
    this.client = new V2KeysClient(u.origin, { proxy: opts.proxy });
    this.retrier = new Retrier({
      ...opts,
      onRetry: (reason, ms) =>
        opts.logger.info(
          { url: opts.url, reason, backoff: `${ms / 1000}s` },
          "retry connecting to discovery service",
        ),
    });
    this.selfKey = `${this.cluster === "/" ? "" : this.cluster}/${hexId(opts.id)}`;
  }

  async join(): Promise<string> {
    await this.checkCluster(); // fast path: a full registry needs no registration
    await this.createSelf();
    const { nodes, size, index } = await this.checkCluster();
    const all = await this.waitNodes(nodes, size, index);
    return nodesToCluster(all, size);
  }

  private async createSelf(): Promise<void> {
    let created: number;
    try {
      created = (await this.client.create(this.selfKey, this.opts.config)).node.createdIndex;
    } catch (e) {
      if (e instanceof V2ApiError && e.errorCode === 105) throw ErrDuplicateID;
      throw e;
    }
    // The registration must be visible on the server we talk to before we list the directory.
    await this.client.waitFor(this.selfKey, created, false);
  }

  private async checkCluster(): Promise<{ nodes: V2Node[]; size: number; index: number }> {
    for (;;) {
      const sizeKey = `${this.cluster}/_config/size`;
      let sizeText: string;
      try {
        sizeText = (await this.client.get(sizeKey)).node.value ?? "";
      } catch (e) {
        if (e instanceof V2ApiError && e.errorCode === 100) throw ErrSizeNotFound;
        if (e instanceof V2InvalidJson) throw ErrBadDiscoveryEndpoint;
        if (!(e instanceof V2ClusterError)) throw e;
        this.opts.logger.warn(
          { "discovery-url": this.opts.url, path: sizeKey, error: e.message },
          "failed to get from discovery server",
        );
        await this.retrier.backoff("cluster status check");
        continue;
      }
      if (!/^\d+$/.test(sizeText) || Number(sizeText) === 0) throw ErrBadSizeKey;
      const size = Number(sizeText);
      let listing: { nodes: V2Node[]; index: number };
      try {
        const r = await this.client.get(this.cluster);
        listing = { nodes: r.node.nodes ?? [], index: r.index };
      } catch (e) {
        if (!(e instanceof V2ClusterError)) throw e;
        this.opts.logger.warn(
          { "discovery-url": this.opts.url, path: this.cluster, error: e.message },
          "failed to get from discovery server",
        );
        await this.retrier.backoff("cluster status check");
        continue;
      }
      const nodes = listing.nodes
        .filter((n) => base(n.key) !== "_config")
        .sort((a, b) => a.createdIndex - b.createdIndex);
      const self = base(this.selfKey);
      for (let i = 0; i < nodes.length; i++) {
        if (base(nodes[i]!.key) === self) break;
        if (i >= size - 1) throw ErrFullCluster;
      }
      return { nodes, size, index: listing.index };
    }
  }

  private async waitNodes(nodes: V2Node[], size: number, index: number): Promise<V2Node[]> {
    const all = nodes.slice(0, size);
    const self = base(this.selfKey);
    for (const n of all) {
      if (base(n.key) === self) {
        this.opts.logger.info({ "discovery-url": this.opts.url, self }, "found self from discovery server");
      } else {
        this.opts.logger.info(
          { "discovery-url": this.opts.url, peer: base(n.key) },
          "found peer from discovery server",
        );
      }
    }
    let next = index + 1;
    while (all.length < size) {
      this.opts.logger.info(
        { "discovery-url": this.opts.url, "found-peers": all.length, "needed-peers": size - all.length },
        "found peers from discovery server; waiting for more",
      );
      let r: Awaited<ReturnType<V2KeysClient["waitFor"]>>;
      try {
        r = await this.client.waitFor(this.cluster, next, true);
      } catch (e) {
        if (!(e instanceof V2ClusterError)) throw e;
        this.opts.logger.warn(
          { "discovery-url": this.opts.url, error: e.message },
          "error while waiting for peers",
        );
        await this.retrier.backoff("waiting for other nodes");
        const again = await this.checkCluster();
        return this.waitNodes(again.nodes, again.size, again.index);
      }
      next = r.node.modifiedIndex + 1;
      this.opts.logger.info(
        { "discovery-url": this.opts.url, peer: base(r.node.key) },
        "found peer from discovery server",
      );
      all.push(r.node);
    }
    this.opts.logger.info(
      { "discovery-url": this.opts.url, "found-peers": all.length },
      "found all needed peers from discovery server",
    );
    return all;
  }
}

/** The winners' registrations joined; refuses unparsable ones and names registered twice. */
function nodesToCluster(nodes: V2Node[], size: number): string {
  const us = nodes.map((n) => n.value ?? "").join(",");
  let members: ReturnType<typeof parseUrlsMap>;
  try {
    members = parseUrlsMap(us);
  } catch {
    throw ErrInvalidURL;
  }
  if (members.length !== size) throw ErrDuplicateName;
  return us;
}
