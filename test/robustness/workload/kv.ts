// The two kinds of KV client the workloads run, behind one small interface:
//   - "lib": the project's Client (src/client), endpoints = every member with the pinned one first (it
//     fails over and retries as its README says);
//   - "raw": the generated gRPC KVClient on the pinned member only: no retry, no failover, the
//     require-leader metadata on linearizable requests. When its member is removed it is re-pinned.
// Write outcomes: an error that proves the request was not executed (the client's own rule, retry.ts)
// makes the operation "fail"; any other error makes it indeterminate ("info").

import { Metadata } from "@grpc/grpc-js";
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  RangeRequest,
  TxnRequest,
} from "../../../src/api/gen/etcdserverpb/rpc.js";
import { Client } from "../../../src/client/client.js";
import { toClientError } from "../../../src/client/errors.js";
import { provablyNotExecuted } from "../../../src/client/retry.js";
import { Compare, Op } from "../../../src/client/txn.js";
import type { SimRand } from "../../../src/sim/seeds.js";
import { pick } from "../../../src/sim/seeds.js";
import type { Node, RobustCluster } from "../cluster.js";
import { bytes, call, leaderMetadata, type RawEndpoint, utf8 } from "../rpc.js";

export type ClientKind = "lib" | "raw";

export interface ReadResult {
  value: string | null;
  revision: number;
}

export interface CasResult {
  ok: boolean;
  /** What the failure branch read (ok false). */
  value: string | null;
  revision: number;
}

export interface KvClient {
  readonly name: string;
  readonly kind: ClientKind;
  /** The member requests go to first (for the history). */
  member(): string;
  read(key: string, serializable: boolean): Promise<ReadResult>;
  write(key: string, value: string): Promise<{ revision: number }>;
  cas(key: string, expect: string, value: string): Promise<CasResult>;
  /** Every key under `prefix` with its value and mod revision (a linearizable read). */
  range(prefix: string): Promise<{ key: string; value: string; modRevision: number }[]>;
  close(): void;
}

/** "fail" when the error proves the write was not executed, else "info". */
export function writeOutcome(err: unknown): "fail" | "info" {
  try {
    return provablyNotExecuted(toClientError(err)) ? "fail" : "info";
  } catch {
    return "info";
  }
}

/** Keeps a client pinned to one member, re-pinning (seeded) when that member is removed. */
export class Pin {
  node: Node;
  constructor(
    private readonly cluster: RobustCluster,
    node: Node,
    private readonly rnd: SimRand,
  ) {
    this.node = node;
  }

  /** The pinned member; true in `changed` when it had to move. */
  current(): { node: Node; changed: boolean } {
    if (!this.node.removed) return { node: this.node, changed: false };
    const active = this.cluster.active;
    if (active.length > 0) this.node = pick(this.rnd, active);
    return { node: this.node, changed: true };
  }
}

function prefixEnd(prefix: string): Uint8Array {
  const b = Buffer.from(prefix, "utf8");
  const end = Buffer.from(b);
  end[end.length - 1]!++;
  return new Uint8Array(end);
}

/** The project's Client, pinned member first. */
export class LibKv implements KvClient {
  readonly kind = "lib";
  private client: Client;
  private roster: string;

  constructor(
    readonly name: string,
    private readonly cluster: RobustCluster,
    private readonly pin: Pin,
    private readonly timeoutMs: number,
  ) {
    this.roster = this.rosterKey();
    this.client = new Client({
      endpoints: this.endpoints(),
      requestTimeoutMs: timeoutMs,
      maxRetryDelayMs: 200,
    });
  }

  private rosterKey(): string {
    return this.cluster.active.map((n) => n.name).join(",");
  }

  private endpoints(): string[] {
    const first = this.pin.current().node;
    return [first, ...this.cluster.active.filter((n) => n !== first)].map((n) => n.clientUrl);
  }

  /** Follows membership changes. */
  private sync(): void {
    const k = this.rosterKey();
    if (k !== this.roster || this.pin.current().changed) {
      this.roster = k;
      this.client.setEndpoints(this.endpoints());
    }
  }

  member(): string {
    return this.pin.node.name;
  }

  async read(key: string, serializable: boolean): Promise<ReadResult> {
    this.sync();
    const r = await this.client.get(key, { serializable, timeoutMs: this.timeoutMs });
    return { value: r.kvs[0]?.value.toString("utf8") ?? null, revision: Number(r.header.revision) };
  }

  async write(key: string, value: string): Promise<{ revision: number }> {
    this.sync();
    const r = await this.client.put(key, value, { timeoutMs: this.timeoutMs });
    return { revision: Number(r.header.revision) };
  }

  async cas(key: string, expect: string, value: string): Promise<CasResult> {
    this.sync();
    const r = await this.client
      .txn()
      .if(Compare.value(key, "=", expect))
      .then(Op.put(key, value))
      .else(Op.get(key))
      .commit({ timeoutMs: this.timeoutMs });
    let seen: string | null = null;
    if (!r.succeeded) {
      const g = r.responses[0];
      if (g?.type === "get") seen = g.kvs[0]?.value.toString("utf8") ?? null;
    }
    return { ok: r.succeeded, value: seen, revision: Number(r.header.revision) };
  }

  async range(prefix: string): Promise<{ key: string; value: string; modRevision: number }[]> {
    this.sync();
    const r = await this.client.get(prefix, { prefix: true, timeoutMs: this.timeoutMs });
    return r.kvs.map((kv) => ({
      key: kv.key.toString("utf8"),
      value: kv.value.toString("utf8"),
      modRevision: Number(kv.modRevision),
    }));
  }

  close(): void {
    this.client.close();
  }
}

/** The generated gRPC client on the pinned member only. */
export class RawKv implements KvClient {
  readonly kind = "raw";

  constructor(
    readonly name: string,
    private readonly pin: Pin,
    private readonly timeoutMs: number,
  ) {}

  private ep(): RawEndpoint {
    return this.pin.current().node.rpc();
  }

  member(): string {
    return this.pin.node.name;
  }

  async read(key: string, serializable: boolean): Promise<ReadResult> {
    const ep = this.ep();
    const req = RangeRequest.fromPartial({ key: bytes(key), serializable });
    const md = serializable ? new Metadata() : leaderMetadata();
    const r = await call(ep.kv.range, ep.kv, req, this.timeoutMs, md);
    const kv = r.kvs[0];
    return { value: kv ? utf8(kv.value) : null, revision: Number(r.header?.revision ?? 0n) };
  }

  async write(key: string, value: string): Promise<{ revision: number }> {
    const ep = this.ep();
    const r = await call(
      ep.kv.put,
      ep.kv,
      {
        key: bytes(key),
        value: bytes(value),
        lease: 0n,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
      this.timeoutMs,
      leaderMetadata(),
    );
    return { revision: Number(r.header?.revision ?? 0n) };
  }

  async cas(key: string, expect: string, value: string): Promise<CasResult> {
    const ep = this.ep();
    const req = TxnRequest.fromPartial({
      compare: [
        {
          key: bytes(key),
          result: Compare_CompareResult.EQUAL,
          target: Compare_CompareTarget.VALUE,
          targetUnion: { $case: "value", value: bytes(expect) },
        },
      ],
      success: [{ request: { $case: "requestPut", value: { key: bytes(key), value: bytes(value) } } }],
      failure: [{ request: { $case: "requestRange", value: { key: bytes(key) } } }],
    });
    const r = await call(ep.kv.txn, ep.kv, req, this.timeoutMs, leaderMetadata());
    let seen: string | null = null;
    if (!r.succeeded) {
      const g = r.responses[0]?.response;
      if (g?.$case === "responseRange") seen = g.value.kvs[0] ? utf8(g.value.kvs[0].value) : null;
    }
    return { ok: r.succeeded, value: seen, revision: Number(r.header?.revision ?? 0n) };
  }

  async range(prefix: string): Promise<{ key: string; value: string; modRevision: number }[]> {
    const ep = this.ep();
    const req = RangeRequest.fromPartial({ key: bytes(prefix), rangeEnd: prefixEnd(prefix) });
    const r = await call(ep.kv.range, ep.kv, req, this.timeoutMs, leaderMetadata());
    return r.kvs.map((kv) => ({
      key: utf8(kv.key),
      value: utf8(kv.value),
      modRevision: Number(kv.modRevision),
    }));
  }

  close(): void {
    // The endpoint belongs to the node (shared); nothing of our own to close.
  }
}

/** Creates the `i`-th client of a workload: lib and raw alternate, pinned round-robin over the members. */
export function makeKvClient(
  name: string,
  i: number,
  cluster: RobustCluster,
  rnd: SimRand,
  timeoutMs: number,
  kinds: readonly ClientKind[] = ["lib", "raw"],
): KvClient {
  const active = cluster.active;
  const pin = new Pin(cluster, active[i % active.length]!, rnd);
  const kind = kinds[i % kinds.length]!;
  return kind === "lib" ? new LibKv(name, cluster, pin, timeoutMs) : new RawKv(name, pin, timeoutMs);
}
