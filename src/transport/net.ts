// The pluggable network layer under the transport: how a peer URL is listened on and dialed. The
// default speaks plain HTTP/1.1 over TCP; TLS (https:// peer URLs, --peer-cert-file and friends) will
// be another PeerNet built on node:https with the same shape.

import http from "node:http";

export interface PeerNet {
  /** An HTTP server for one listen URL, not yet listening. It must not time out long-lived requests. */
  createServer(url: URL, onRequest: http.RequestListener): http.Server;
  /**
   * Starts a request to `url` (its host and port; the path comes from `options.path`). `keepAlive`
   * requests share pooled connections (probes); the others get a connection of their own (streams and
   * snapshots, which hold it for a long time).
   */
  request(url: URL, options: http.RequestOptions, keepAlive: boolean): http.ClientRequest;
  /** Releases pooled connections. */
  close(): void;
}

/** URL hostname without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

/** Port of an http(s) URL, with the scheme's default when it names none. */
export function portOf(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** "host:port" as Go prints a TCP address ("[::1]:2380" for IPv6). */
export function hostPort(url: URL): string {
  const h = hostOf(url);
  return `${h.includes(":") ? `[${h}]` : h}:${portOf(url)}`;
}

/** Plain HTTP (http:// URLs only). */
export class PlainHttpNet implements PeerNet {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  createServer(url: URL, onRequest: http.RequestListener): http.Server {
    if (url.protocol !== "http:") {
      throw new Error(
        `peer URL ${url.href}: only http:// peer URLs are supported (TLS is not implemented yet)`,
      );
    }
    const server = http.createServer(
      {
        // Streams and snapshots are long-lived requests: no whole-request deadline.
        requestTimeout: 0,
        headersTimeout: 10_000,
        keepAliveTimeout: 30_000,
        noDelay: true,
      },
      onRequest,
    );
    server.timeout = 0;
    return server;
  }

  request(url: URL, options: http.RequestOptions, keepAlive: boolean): http.ClientRequest {
    if (url.protocol !== "http:") {
      throw new Error(
        `peer URL ${url.href}: only http:// peer URLs are supported (TLS is not implemented yet)`,
      );
    }
    const req = http.request({
      ...options,
      host: hostOf(url),
      port: portOf(url),
      agent: keepAlive ? this.agent : false,
    });
    req.setNoDelay(true);
    return req;
  }

  close(): void {
    this.agent.destroy();
  }
}
