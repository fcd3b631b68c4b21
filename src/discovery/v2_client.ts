// A minimal client of etcd's v2 keys HTTP API, for the v2 discovery registry: get, create (prevExist=false)
// and watch (wait=true&waitIndex=N). Errors come in three kinds, as etcd's v2 client makes them:
//   V2ApiError      the server answered with a v2 error body (errorCode 100 "Key not found", 105, ...)
//   V2ClusterError  the server could not be reached or answered 5xx (worth retrying later)
//   V2InvalidJson   the answer is not the v2 API's JSON (not a v2 keys endpoint at all)
// An HTTP proxy (--discovery-proxy) is supported for http:// registries.

import http from "node:http";
import https from "node:https";

export interface V2Node {
  key: string;
  value?: string;
  dir?: boolean;
  nodes?: V2Node[];
  createdIndex: number;
  modifiedIndex: number;
}

export interface V2Response {
  action: string;
  node: V2Node;
  prevNode?: V2Node;
  /** X-Etcd-Index. */
  index: number;
}

export class V2ApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly detail: string,
    readonly index: number,
    message: string,
  ) {
    super(`${errorCode}: ${message} (${detail}) [${index}]`);
  }
}

export class V2ClusterError extends Error {}

export class V2InvalidJson extends Error {
  constructor() {
    super("client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.");
  }
}

/** The default timeout of a get or create (etcd's client.DefaultRequestTimeout). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

interface RawResponse {
  status: number;
  index: number;
  body: string;
}

export class V2KeysClient {
  private readonly proxy: URL | undefined;

  /** `endpoint`: scheme://host:port of the registry; keys are absolute paths such as /v2/keys/_etcd/x. */
  constructor(
    readonly endpoint: string,
    opts: { proxy?: string } = {},
  ) {
    this.proxy = opts.proxy ? parseProxy(opts.proxy) : undefined;
  }

  async get(key: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<V2Response> {
    return parse(
      await this.request("GET", `${key}?quorum=false&recursive=false&sorted=false`, undefined, timeoutMs),
    );
  }

  /** PUT with prevExist=false: fails with errorCode 105 when the key exists. */
  async create(key: string, value: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<V2Response> {
    const body = new URLSearchParams({ value }).toString();
    return parse(await this.request("PUT", `${key}?prevExist=false`, body, timeoutMs));
  }

  /**
   * The first change of `key` (below it too when recursive) at or after `waitIndex`. An idle watch the
   * server ends without an event (empty body) is asked again, as etcd's client does.
   */
  async waitFor(
    key: string,
    waitIndex: number,
    recursive: boolean,
    signal?: AbortSignal,
  ): Promise<V2Response> {
    for (;;) {
      const raw = await this.request(
        "GET",
        `${key}?wait=true&waitIndex=${waitIndex}&recursive=${recursive}`,
        undefined,
        0,
        signal,
      );
      if (raw.body.trim() === "" && raw.status === 200) continue;
      return parse(raw);
    }
  }

  private request(
    method: string,
    pathAndQuery: string,
    body: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<RawResponse> {
    const target = new URL(pathAndQuery, this.endpoint);
    const viaProxy = this.proxy !== undefined && target.protocol === "http:";
    const conn = viaProxy ? this.proxy! : target;
    const mod = conn.protocol === "https:" ? https : http;
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["Content-Type"] = "application/x-www-form-urlencoded";
    return new Promise((resolve, reject) => {
      const req = mod.request(
        {
          method,
          host: conn.hostname.replace(/^\[|\]$/g, ""),
          port: conn.port || (conn.protocol === "https:" ? 443 : 80),
          path: viaProxy ? target.href : `${target.pathname}${target.search}`,
          headers: viaProxy ? { ...headers, Host: target.host } : headers,
          agent: false,
          signal,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => {
            text += c;
          });
          res.on("end", () => {
            clearTimeout(timer);
            const status = res.statusCode ?? 0;
            if (status >= 500) {
              reject(
                new V2ClusterError(`client: etcd member ${this.endpoint} returns server error [${status}]`),
              );
              return;
            }
            resolve({ status, index: Number(res.headers["x-etcd-index"] ?? 0), body: text });
          });
          res.on("error", (e) => {
            clearTimeout(timer);
            reject(
              new V2ClusterError(
                `client: etcd cluster is unavailable or misconfigured; error #0: ${e.message}`,
              ),
            );
          });
        },
      );
      const timer =
        timeoutMs > 0
          ? setTimeout(() => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)), timeoutMs)
          : undefined;
      req.on("error", (e) => {
        clearTimeout(timer);
        reject(
          new V2ClusterError(
            `client: etcd cluster is unavailable or misconfigured; error #0: ${e.message || (e as { code?: string }).code}`,
          ),
        );
      });
      req.end(body);
    });
  }
}

function parseProxy(p: string): URL {
  try {
    const u = new URL(p);
    if (u.protocol.startsWith("http")) return u;
  } catch {
    // fall through: try with a scheme, as etcd does
  }
  try {
    return new URL(`http://${p}`);
  } catch {
    throw new Error(`invalid proxy address ${JSON.stringify(p)}`);
  }
}

function parse(raw: RawResponse): V2Response {
  let j: unknown;
  try {
    j = JSON.parse(raw.body);
  } catch {
    throw new V2InvalidJson();
  }
  const o = j as Record<string, unknown>;
  if (raw.status === 200 || raw.status === 201) {
    if (typeof o.errorCode === "number") throw apiError(o, raw.index);
    if (typeof o.action !== "string" || typeof o.node !== "object" || o.node === null)
      throw new V2InvalidJson();
    return {
      action: o.action,
      node: o.node as V2Node,
      prevNode: o.prevNode as V2Node | undefined,
      index: raw.index,
    };
  }
  if (typeof o.errorCode !== "number") throw new V2InvalidJson();
  throw apiError(o, raw.index);
}

function apiError(o: Record<string, unknown>, index: number): V2ApiError {
  return new V2ApiError(
    o.errorCode as number,
    String(o.cause ?? ""),
    typeof o.index === "number" ? o.index : index,
    String(o.message ?? ""),
  );
}
