// clientv3/concurrency's recipes as etcdctl's lock and elect use them, over KV, Lease and Watch (so they
// interoperate with etcd's own etcdctl and clients, and need no server-side Lock/Election service):
//
// Session: a lease (default TTL 60 s) kept alive until closed; `done` resolves when it is lost.
// Mutex: the key `<name>/<lease hex>` created under the session's lease; the holder is the key with the
//   lowest create revision under `<name>/`; waiters watch for the deletion of the key created just before
//   theirs.
// Election: the same queue; the leader's value is its key's value (proclaim rewrites it), observers follow
//   the first key.

import {
  type Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  KVService,
  LeaseService,
  type RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type TxnResponse,
} from "../../api/gen/etcdserverpb/rpc.js";
import { Event_EventType, type KeyValue } from "../../api/gen/mvccpb/kv.js";
import { rangeRequest } from "./commands/kv.js";
import { KeepAlive } from "./commands/lease.js";
import type { Conn } from "./conn.js";
import { canceledError, RpcError } from "./errors.js";
import { keyBytes, prefixRangeEnd } from "./keys.js";
import { WatchStream } from "./watcher.js";

const enc = (s: string) => keyBytes(s);

/** Aborts waits: a cancelled signal makes them reject with "context canceled". */
export class Cancel {
  private readonly hooks = new Set<() => void>();
  canceled = false;

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    for (const h of this.hooks) h();
  }

  on(h: () => void): () => void {
    this.hooks.add(h);
    return () => this.hooks.delete(h);
  }
}

export class Session {
  private constructor(
    readonly conn: Conn,
    readonly lease: bigint,
    private readonly ka: KeepAlive,
    /** Resolves when the lease could not be kept alive any longer. */
    readonly done: Promise<void>,
  ) {}

  static async create(conn: Conn, ttl = 60): Promise<Session> {
    const g = await conn.unary(
      LeaseService.leaseGrant,
      { TTL: BigInt(ttl), ID: 0n },
      { deadline: undefined },
    );
    const ka = new KeepAlive(conn, g.ID, () => {});
    const done = ka.done.then(
      () => undefined,
      () => undefined,
    );
    return new Session(conn, g.ID, ka, done);
  }

  /** Stops the keep-alives and revokes the lease. */
  async close(): Promise<void> {
    this.ka.stop();
    await this.conn
      .unary(LeaseService.leaseRevoke, { ID: this.lease }, { deadline: Date.now() + 60_000 })
      .catch(() => {});
  }
}

function createRevCmp(key: string, rev: bigint): Compare {
  return {
    result: Compare_CompareResult.EQUAL,
    target: Compare_CompareTarget.CREATE,
    key: enc(key),
    targetUnion: { $case: "createRevision", value: rev },
    rangeEnd: new Uint8Array(),
  };
}

/** clientv3.WithFirstCreate on a prefix: the key with the lowest create revision. */
function firstCreate(pfx: string): RangeRequest {
  return {
    ...rangeRequest(enc(pfx), prefixRangeEnd(enc(pfx))),
    limit: 1n,
    sortOrder: RangeRequest_SortOrder.ASCEND,
    sortTarget: RangeRequest_SortTarget.CREATE,
  };
}

function put(key: string, value: string, lease: bigint): RequestOp {
  return {
    request: {
      $case: "requestPut",
      value: {
        key: enc(key),
        value: enc(value),
        lease,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
    },
  };
}

function get(req: RangeRequest): RequestOp {
  return { request: { $case: "requestRange", value: req } };
}

function rangeOf(r: TxnResponse, i: number): RangeResponse {
  const op = r.responses[i]?.response;
  if (op?.$case !== "responseRange") throw new Error("unexpected txn response");
  return op.value;
}

/** Resolves at the first DELETE of `key` at or after `rev`. */
function waitDelete(conn: Conn, key: string, rev: bigint, cancel: Cancel): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WatchStream(conn, false);
    const off = cancel.on(() => {
      ws.close();
      reject(canceledError());
    });
    ws.watch(
      { key: enc(key), rangeEnd: new Uint8Array(), startRevision: rev, prevKv: false, progressNotify: false },
      {
        onResponse: (r) => {
          if (r.events.some((e) => e.type === Event_EventType.DELETE)) {
            off();
            ws.close();
            resolve();
          }
        },
        onClose: (err) => {
          off();
          ws.close();
          reject(new RpcError(err ?? "lost watcher waiting for delete", -1, ""));
        },
      },
    );
  });
}

/** Waits until no key under `pfx` created at or before `maxCreateRev` is left. */
async function waitDeletes(
  conn: Conn,
  pfx: string,
  maxCreateRev: bigint,
  cancel: Cancel,
): Promise<ResponseHeader | undefined> {
  for (;;) {
    const req: RangeRequest = {
      ...rangeRequest(enc(pfx), prefixRangeEnd(enc(pfx))),
      limit: 1n,
      sortOrder: RangeRequest_SortOrder.DESCEND,
      sortTarget: RangeRequest_SortTarget.CREATE,
      maxCreateRevision: maxCreateRev,
    };
    const resp = await conn.unary(KVService.range, req, { deadline: undefined, idempotent: true });
    if (resp.kvs.length === 0) return resp.header;
    if (cancel.canceled) throw canceledError();
    const last = Buffer.from(resp.kvs[0]!.key).toString();
    await waitDelete(conn, last, resp.header?.revision ?? 0n, cancel);
  }
}

export class Mutex {
  private readonly pfx: string;
  myKey = "";
  private myRev = -1n;
  header: ResponseHeader | undefined;

  constructor(
    private readonly s: Session,
    name: string,
  ) {
    this.pfx = `${name}/`;
  }

  async lock(cancel: Cancel): Promise<void> {
    const conn = this.s.conn;
    this.myKey = `${this.pfx}${this.s.lease.toString(16)}`;
    const resp = await conn.unary(
      KVService.txn,
      {
        compare: [createRevCmp(this.myKey, 0n)],
        success: [put(this.myKey, "", this.s.lease), get(firstCreate(this.pfx))],
        failure: [get(rangeRequest(enc(this.myKey))), get(firstCreate(this.pfx))],
      },
      { deadline: undefined },
    );
    this.myRev = resp.header?.revision ?? 0n;
    if (!resp.succeeded) this.myRev = rangeOf(resp, 0).kvs[0]!.createRevision;
    const owner = rangeOf(resp, 1).kvs;
    if (owner.length === 0 || owner[0]!.createRevision === this.myRev) {
      this.header = resp.header;
      return;
    }
    try {
      await waitDeletes(conn, this.pfx, this.myRev - 1n, cancel);
    } catch (e) {
      await this.unlock().catch(() => {});
      throw e;
    }
    const g = await conn.unary(KVService.range, rangeRequest(enc(this.myKey)), {
      deadline: undefined,
      idempotent: true,
    });
    if (g.kvs.length === 0) throw new RpcError("mutex: session is expired", -1, "");
    this.header = g.header;
  }

  async unlock(): Promise<void> {
    await this.s.conn.unary(
      KVService.deleteRange,
      { key: enc(this.myKey), rangeEnd: new Uint8Array(), prevKv: false },
      { deadline: undefined },
    );
    this.myKey = "\x00";
    this.myRev = -1n;
  }
}

export class Election {
  private readonly pfx: string;
  leaderKey = "";
  private leaderRev = 0n;
  private leader = false;

  constructor(
    private readonly s: Session,
    name: string,
  ) {
    this.pfx = `${name}/`;
  }

  async campaign(val: string, cancel: Cancel): Promise<void> {
    const conn = this.s.conn;
    const k = `${this.pfx}${this.s.lease.toString(16)}`;
    const resp = await conn.unary(
      KVService.txn,
      {
        compare: [createRevCmp(k, 0n)],
        success: [put(k, val, this.s.lease)],
        failure: [get(rangeRequest(enc(k)))],
      },
      { deadline: undefined },
    );
    this.leaderKey = k;
    this.leaderRev = resp.header?.revision ?? 0n;
    this.leader = true;
    if (!resp.succeeded) {
      const kv = rangeOf(resp, 0).kvs[0]!;
      this.leaderRev = kv.createRevision;
      if (Buffer.from(kv.value).toString() !== val) await this.proclaim(val);
    }
    try {
      await waitDeletes(conn, this.pfx, this.leaderRev - 1n, cancel);
    } catch (e) {
      if (cancel.canceled) await this.resign().catch(() => {});
      else this.leader = false;
      throw e;
    }
  }

  async proclaim(val: string): Promise<void> {
    const r = await this.s.conn.unary(
      KVService.txn,
      {
        compare: [createRevCmp(this.leaderKey, this.leaderRev)],
        success: [put(this.leaderKey, val, this.s.lease)],
        failure: [],
      },
      { deadline: undefined },
    );
    if (!r.succeeded) {
      this.leaderKey = "";
      throw new RpcError("election: not leader", -1, "");
    }
  }

  async resign(): Promise<void> {
    if (!this.leader) return;
    await this.s.conn.unary(
      KVService.txn,
      {
        compare: [createRevCmp(this.leaderKey, this.leaderRev)],
        success: [
          {
            request: {
              $case: "requestDeleteRange",
              value: { key: enc(this.leaderKey), rangeEnd: new Uint8Array(), prevKv: false },
            },
          },
        ],
        failure: [],
      },
      { deadline: undefined },
    );
    this.leaderKey = "";
    this.leader = false;
  }

  /**
   * Observe: calls `onLeader` with the leader's key-value (and the header it came with) each time the
   * leader or its value changes; resolves when `cancel` fires, rejects if observing fails.
   */
  observe(onLeader: (header: ResponseHeader, kv: KeyValue) => void, cancel: Cancel): Promise<void> {
    const conn = this.s.conn;
    const pfx = enc(this.pfx);
    return new Promise((resolve, reject) => {
      const ws = new WatchStream(conn, false);
      const off = cancel.on(() => {
        ws.close();
        resolve();
      });
      const fail = (e: unknown) => {
        off();
        ws.close();
        reject(e);
      };
      const zero: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
      const step = async (): Promise<void> => {
        const resp = await conn.unary(KVService.range, firstCreate(this.pfx), {
          deadline: undefined,
          idempotent: true,
        });
        let hdr = resp.header ?? zero;
        let kv = resp.kvs[0];
        if (kv === undefined) {
          // No leader yet: wait for the first key to be put.
          [hdr, kv] = await new Promise<[ResponseHeader, KeyValue]>((res, rej) => {
            const w = ws.watch(
              {
                key: pfx,
                rangeEnd: prefixRangeEnd(pfx),
                startRevision: hdr.revision,
                prevKv: false,
                progressNotify: false,
              },
              {
                onResponse: (r) => {
                  const ev = r.events.find((e) => e.type === Event_EventType.PUT);
                  if (ev?.kv) {
                    w.cancel();
                    res([{ ...r.header, revision: ev.kv.modRevision }, ev.kv]);
                  }
                },
                onClose: (err) => {
                  if (err !== undefined) rej(new RpcError(err, -1, ""));
                },
              },
            );
          });
        }
        onLeader(hdr, kv);
        // Follow this leader's key until it is deleted.
        await new Promise<void>((res, rej) => {
          const w = ws.watch(
            {
              key: kv.key,
              rangeEnd: new Uint8Array(),
              startRevision: hdr.revision + 1n,
              prevKv: false,
              progressNotify: false,
            },
            {
              onResponse: (r) => {
                for (const ev of r.events) {
                  if (ev.type === Event_EventType.DELETE) {
                    w.cancel();
                    res();
                    return;
                  }
                  if (ev.kv) onLeader(r.header, ev.kv);
                }
              },
              onClose: (err) => {
                if (err !== undefined) rej(new RpcError(err, -1, ""));
              },
            },
          );
        });
        if (!cancel.canceled) return step();
      };
      step().then(() => {
        if (!cancel.canceled) fail(new RpcError("elect: observer lost", -1, ""));
      }, fail);
    });
  }
}
