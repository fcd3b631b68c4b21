// Model-based property test of the key space: random sequences of puts, deletes, txns (nested, with
// compares), compactions, ranges (every RangeRequest option), restarts (rebuilding the index from the
// backend, possibly in the middle of a physical compaction) and event-loop turns (which let batched
// commits and physical compaction run), checked step by step against a plain in-memory model that keeps
// the whole key space at every revision.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { MvccError } from "../../src/mvcc/errors.js";
import {
  type Compare,
  CompareResult,
  CompareTarget,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  SortOrder,
  SortTarget,
  type TxnRequest,
  type TxnResponse,
} from "../../src/mvcc/requests.js";
import { type Event, EventType, type KeyValue } from "../../src/mvcc/types.js";
import { FakeLessor, TestStore } from "./helpers.js";

// ---- the model -------------------------------------------------------------------------------------

interface MKV {
  key: string;
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: bigint;
}

type State = Map<string, MKV>;

const LEASES = [1n, 2n];

/** Thrown by the model: the code of the store error expected. */
class Expect extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

const latin1 = (u: Uint8Array | undefined): string | undefined =>
  u === undefined ? undefined : Buffer.from(u).toString("latin1");

/** [key, end) per etcd: no/empty end: the key alone; "\0": from key on. */
function inRange(k: string, key: string, end: string | undefined): boolean {
  if (end === undefined || end === "") return k === key;
  if (end === "\0") return k >= key;
  return k >= key && k < end;
}

function sortedKeys(s: State): string[] {
  return [...s.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface MEvent {
  type: "PUT" | "DELETE";
  kv: MKV | { key: string; mod: number };
}

class Model {
  rev = 1;
  compactRev = -1;
  /** The whole key space after each revision. */
  readonly history = new Map<number, State>([[1, new Map()]]);

  current(): State {
    return this.history.get(this.rev)!;
  }

  stateAt(asked: number, cur: number): State {
    if (asked > cur) throw new Expect("ErrFutureRev");
    const r = asked <= 0 ? cur : asked;
    if (r < this.compactRev) throw new Expect("ErrCompacted");
    return this.history.get(r)!;
  }

  range(s: State, r: RangeRequest, headerRev: number): RangeResponse {
    const key = latin1(r.key)!;
    const end = latin1(r.rangeEnd);
    const all = sortedKeys(s)
      .filter((k) => inRange(k, key, end))
      .map((k) => s.get(k)!);
    const count = all.length;
    if (r.countOnly) return { header: { revision: headerRev }, kvs: [], more: false, count };
    let kvs = all.filter(
      (kv) =>
        (!r.minModRevision || kv.mod >= r.minModRevision) &&
        (!r.maxModRevision || kv.mod <= r.maxModRevision) &&
        (!r.minCreateRevision || kv.create >= r.minCreateRevision) &&
        (!r.maxCreateRevision || kv.create <= r.maxCreateRevision),
    );
    const target = r.sortTarget ?? SortTarget.KEY;
    const order = r.sortOrder ?? SortOrder.NONE;
    const val = (kv: MKV): number | string =>
      target === SortTarget.VERSION
        ? kv.version
        : target === SortTarget.CREATE
          ? kv.create
          : target === SortTarget.MOD
            ? kv.mod
            : target === SortTarget.VALUE
              ? kv.value
              : kv.key;
    const c = (a: MKV, b: MKV): number => (val(a) < val(b) ? -1 : val(a) > val(b) ? 1 : 0);
    if (order === SortOrder.DESCEND) kvs = [...kvs].sort((a, b) => c(b, a));
    else if (order === SortOrder.ASCEND || target !== SortTarget.KEY) kvs = [...kvs].sort(c);
    const limit = r.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (more) kvs = kvs.slice(0, limit);
    if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: "" }));
    return { header: { revision: headerRev }, kvs: kvs.map(toKV), more, count };
  }

  /** Every path through a txn: the puts and delete ranges on it (for the duplicate-key rule). */
  private paths(ops: RequestOp[]): { puts: string[]; dels: [string, string | undefined][] }[] {
    let acc: { puts: string[]; dels: [string, string | undefined][] }[] = [{ puts: [], dels: [] }];
    for (const op of ops) {
      if ("requestPut" in op) for (const p of acc) p.puts.push(latin1(op.requestPut.key)!);
      else if ("requestDeleteRange" in op)
        for (const p of acc)
          p.dels.push([latin1(op.requestDeleteRange.key)!, latin1(op.requestDeleteRange.rangeEnd)]);
      else if ("requestTxn" in op) {
        const sub = [...this.paths(op.requestTxn.success ?? []), ...this.paths(op.requestTxn.failure ?? [])];
        acc = acc.flatMap((p) =>
          sub.map((q) => ({ puts: [...p.puts, ...q.puts], dels: [...p.dels, ...q.dels] })),
        );
      }
    }
    return acc;
  }

  private validate(r: TxnRequest): void {
    const check = (ops: RequestOp[]): void => {
      for (const op of ops) {
        if ("requestPut" in op) {
          const p = op.requestPut;
          if (p.ignoreValue && p.value?.length) throw new Expect("ErrValueProvided");
          if (p.ignoreLease && p.lease) throw new Expect("ErrLeaseProvided");
        } else if ("requestTxn" in op) {
          check(op.requestTxn.success ?? []);
          check(op.requestTxn.failure ?? []);
        }
      }
    };
    check(r.success ?? []);
    check(r.failure ?? []);
    for (const ops of [r.success ?? [], r.failure ?? []]) {
      for (const p of this.paths(ops)) {
        if (new Set(p.puts).size !== p.puts.length) throw new Expect("ErrDuplicateKey");
        if (p.puts.some((k) => p.dels.some(([dk, de]) => inRange(k, dk, de))))
          throw new Expect("ErrDuplicateKey");
      }
    }
  }

  private compareHolds(s: State, c: Compare): boolean {
    const key = latin1(c.key)!;
    const kvs = sortedKeys(s)
      .filter((k) => inRange(k, key, latin1(c.rangeEnd)))
      .map((k) => s.get(k)!);
    if (kvs.length === 0 && c.target === CompareTarget.VALUE) return false;
    const zero: MKV = { key, value: "", create: 0, mod: 0, version: 0, lease: 0n };
    return (kvs.length === 0 ? [zero] : kvs).every((kv) => {
      const [a, b]: [number | bigint | string, number | bigint | string] =
        c.target === CompareTarget.VERSION
          ? [kv.version, c.version ?? 0]
          : c.target === CompareTarget.CREATE
            ? [kv.create, c.createRevision ?? 0]
            : c.target === CompareTarget.MOD
              ? [kv.mod, c.modRevision ?? 0]
              : c.target === CompareTarget.LEASE
                ? [kv.lease, c.lease ?? 0n]
                : [kv.value, latin1(c.value) ?? ""];
      const d = a < b ? -1 : a > b ? 1 : 0;
      return c.result === CompareResult.EQUAL
        ? d === 0
        : c.result === CompareResult.NOT_EQUAL
          ? d !== 0
          : c.result === CompareResult.GREATER
            ? d > 0
            : d < 0;
    });
  }

  /** Applies a txn; returns the response and the events. Throws Expect without changing anything. */
  txn(r: TxnRequest): { resp: TxnResponse; events: MEvent[] } {
    this.validate(r);
    const pre = this.current();
    const begin = this.rev;
    // Conditions first, all of them on the state before the txn.
    const choose = (t: TxnRequest): { ok: boolean; nested: Map<TxnRequest, unknown> } => {
      const ok = (t.compare ?? []).every((c) => this.compareHolds(pre, c));
      const nested = new Map<TxnRequest, unknown>();
      for (const op of (ok ? t.success : t.failure) ?? []) {
        if ("requestTxn" in op) nested.set(op.requestTxn, choose(op.requestTxn));
      }
      return { ok, nested };
    };
    type Choice = { ok: boolean; nested: Map<TxnRequest, Choice> };
    const path = choose(r) as Choice;
    // Then the checks of the chosen path.
    const checkPath = (t: TxnRequest, ch: Choice): void => {
      for (const op of (ch.ok ? t.success : t.failure) ?? []) {
        if ("requestPut" in op) {
          const p = op.requestPut;
          if ((p.ignoreValue || p.ignoreLease) && !pre.has(latin1(p.key)!))
            throw new Expect("ErrKeyNotFound");
          if (p.lease && !LEASES.includes(p.lease)) throw new Expect("ErrLeaseNotFound");
        } else if ("requestRange" in op) {
          const rev = op.requestRange.revision ?? 0;
          if (rev > begin) throw new Expect("ErrFutureRev");
          if (rev > 0 && rev < this.compactRev) throw new Expect("ErrCompacted");
        } else if ("requestTxn" in op) {
          checkPath(op.requestTxn, ch.nested.get(op.requestTxn)!);
        }
      }
    };
    checkPath(r, path);
    // Then the operations, in order, on a working copy.
    const work: State = new Map(pre);
    const events: MEvent[] = [];
    const revNow = (): number => (events.length > 0 ? begin + 1 : begin);
    const exec = (t: TxnRequest, ch: Choice): TxnResponse => {
      const responses: ResponseOp[] = [];
      for (const op of (ch.ok ? t.success : t.failure) ?? []) {
        if ("requestRange" in op) {
          const rr = op.requestRange;
          const s = rr.revision ? this.history.get(rr.revision)! : work;
          responses.push({ responseRange: this.range(s, rr, revNow()) });
        } else if ("requestPut" in op) {
          const p = op.requestPut;
          const key = latin1(p.key)!;
          const prev = work.get(key);
          const kv: MKV = {
            key,
            value: p.ignoreValue ? prev!.value : (latin1(p.value) ?? ""),
            create: prev ? prev.create : begin + 1,
            mod: begin + 1,
            version: prev ? prev.version + 1 : 1,
            lease: p.ignoreLease ? prev!.lease : (p.lease ?? 0n),
          };
          work.set(key, kv);
          events.push({ type: "PUT", kv });
          responses.push({
            responsePut: {
              header: { revision: revNow() },
              ...(p.prevKv && prev ? { prevKv: toKV(prev) } : {}),
            },
          });
        } else if ("requestDeleteRange" in op) {
          const d = op.requestDeleteRange;
          const keys = sortedKeys(work).filter((k) => inRange(k, latin1(d.key)!, latin1(d.rangeEnd)));
          const prevKvs = d.prevKv ? keys.map((k) => toKV(work.get(k)!)) : [];
          for (const k of keys) {
            work.delete(k);
            events.push({ type: "DELETE", kv: { key: k, mod: begin + 1 } });
          }
          responses.push({
            responseDeleteRange: { header: { revision: revNow() }, deleted: keys.length, prevKvs },
          });
        } else {
          responses.push({ responseTxn: exec(op.requestTxn, ch.nested.get(op.requestTxn)!) });
        }
      }
      return { header: { revision: revNow() }, succeeded: ch.ok, responses };
    };
    const resp = exec(r, path);
    if (events.length > 0) {
      this.rev++;
      this.history.set(this.rev, work);
    }
    return { resp, events };
  }

  compact(rev: number): void {
    if (rev <= this.compactRev) throw new Expect("ErrCompacted");
    if (rev > this.rev) throw new Expect("ErrFutureRev");
    this.compactRev = rev;
  }
}

function toKV(kv: MKV): KeyValue {
  return {
    key: Buffer.from(kv.key, "latin1"),
    value: Buffer.from(kv.value, "latin1"),
    createRevision: kv.create,
    modRevision: kv.mod,
    version: kv.version,
    lease: kv.lease,
  };
}

/** Plain data for deepEqual: bytes as latin1 strings. */
function plain(x: unknown): unknown {
  if (x instanceof Uint8Array) return Buffer.from(x).toString("latin1");
  if (Array.isArray(x)) return x.map(plain);
  if (x !== null && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = plain(v);
    return out;
  }
  return x;
}

function plainEvents(evs: Event[]): unknown {
  return evs.map((e) =>
    e.type === EventType.PUT
      ? { type: "PUT", kv: plain(e.kv) }
      : { type: "DELETE", kv: { key: plain(e.kv.key), mod: e.kv.modRevision } },
  );
}

function modelEvents(evs: MEvent[]): unknown {
  return evs.map((e) => (e.type === "PUT" ? { type: "PUT", kv: plain(toKV(e.kv as MKV)) } : e));
}

// ---- commands --------------------------------------------------------------------------------------

const KEYS = ["a", "ab", "b", "b\0", "c", "\xff", "\xff\0"];
const ENDS = [undefined, undefined, "\0", "b", "c", "\xff", "\xff\xff", "a"];
const bytes = (s: string): Buffer => Buffer.from(s, "latin1");

const key = fc.constantFrom(...KEYS);
const end = fc.constantFrom(...ENDS);
const value = fc.constantFrom("", "x", "y", "zz", "\0");
const lease = fc.constantFrom(0n, 0n, 0n, 1n, 2n, 3n);
/** A revision as a fraction of the current one (resolved when run): spans past, compacted and future. */
const revFrac = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 130 }).map((p) => p / 100),
);

const putReq = fc
  .record({
    key,
    value,
    lease,
    prevKv: fc.boolean(),
    // Mostly plain puts; ignore_value / ignore_lease valid or not (with a value / a lease given).
    flags: fc.constantFrom("", "", "", "", "", "", "iv", "il", "iv+il", "iv!", "il!"),
  })
  .map(
    (p): PutRequest => ({
      key: bytes(p.key),
      value: p.flags.startsWith("iv") && p.flags !== "iv!" ? undefined : bytes(p.value || "v"),
      lease: p.flags.includes("il") && p.flags !== "il!" ? 0n : p.flags === "il!" ? 1n : p.lease,
      prevKv: p.prevKv,
      ignoreValue: p.flags.includes("iv"),
      ignoreLease: p.flags.includes("il"),
    }),
  );
/** Puts that pass validation (ignore_* may still name a missing key). */
const validPutReq = putReq.map((p) => ({
  ...p,
  value: p.ignoreValue ? undefined : p.value,
  lease: p.ignoreLease || p.lease === 3n ? 0n : p.lease,
}));
const delReq = fc.record({ key, end, prevKv: fc.boolean() }).map(
  (d): DeleteRangeRequest => ({
    key: bytes(d.key),
    rangeEnd: d.end === undefined ? undefined : bytes(d.end),
    prevKv: d.prevKv,
  }),
);

interface RangeSpec {
  key: string;
  end: string | undefined;
  rev: number;
  limit: number;
  sortOrder: SortOrder;
  sortTarget: SortTarget;
  keysOnly: boolean;
  countOnly: boolean;
  minMod: number;
  maxMod: number;
  minCreate: number;
  maxCreate: number;
}
const rangeSpec: fc.Arbitrary<RangeSpec> = fc.record({
  key,
  end,
  rev: revFrac,
  limit: fc.constantFrom(0, 0, 1, 2, 3),
  sortOrder: fc.constantFrom(SortOrder.NONE, SortOrder.NONE, SortOrder.ASCEND, SortOrder.DESCEND),
  sortTarget: fc.constantFrom(
    SortTarget.KEY,
    SortTarget.KEY,
    SortTarget.VERSION,
    SortTarget.CREATE,
    SortTarget.MOD,
    SortTarget.VALUE,
  ),
  keysOnly: fc.boolean(),
  countOnly: fc.boolean(),
  minMod: fc.constantFrom(0, 0, 0, 2, 5),
  maxMod: fc.constantFrom(0, 0, 0, 4, 9),
  minCreate: fc.constantFrom(0, 0, 0, 3),
  maxCreate: fc.constantFrom(0, 0, 0, 6),
});

function rangeReq(s: RangeSpec, cur: number): RangeRequest {
  return {
    key: bytes(s.key),
    rangeEnd: s.end === undefined ? undefined : bytes(s.end),
    revision: Math.floor(s.rev * cur),
    limit: s.limit,
    sortOrder: s.sortOrder,
    sortTarget: s.sortTarget,
    keysOnly: s.keysOnly,
    countOnly: s.countOnly,
    minModRevision: s.minMod,
    maxModRevision: s.maxMod,
    minCreateRevision: s.minCreate,
    maxCreateRevision: s.maxCreate,
  };
}

const compare: fc.Arbitrary<Compare> = fc
  .record({
    key,
    end: fc.constantFrom(undefined, undefined, "\0", "c"),
    target: fc.constantFrom(
      CompareTarget.VERSION,
      CompareTarget.CREATE,
      CompareTarget.MOD,
      CompareTarget.VALUE,
      CompareTarget.LEASE,
    ),
    result: fc.constantFrom(
      CompareResult.EQUAL,
      CompareResult.NOT_EQUAL,
      CompareResult.GREATER,
      CompareResult.LESS,
    ),
    n: fc.integer({ min: 0, max: 8 }),
    value,
    lease,
  })
  .map((c) => ({
    key: bytes(c.key),
    rangeEnd: c.end === undefined ? undefined : bytes(c.end),
    target: c.target,
    result: c.result,
    version: c.n % 4,
    createRevision: c.n,
    modRevision: c.n,
    value: bytes(c.value),
    lease: c.lease,
  }));

/** A txn op; ranges carry a revision fraction resolved at run time (see resolveTxn). */
type OpSpec = { put: PutRequest } | { del: DeleteRangeRequest } | { range: RangeSpec } | { txn: TxnSpec };
interface TxnSpec {
  compare: Compare[];
  success: OpSpec[];
  failure: OpSpec[];
}

const txnSpec: fc.Arbitrary<TxnSpec> = fc.letrec<{ txn: TxnSpec; op: OpSpec }>((tie) => ({
  txn: fc.record({
    compare: fc.array(compare, { maxLength: 2 }),
    success: fc.array(tie("op"), { maxLength: 4 }),
    failure: fc.array(tie("op"), { maxLength: 3 }),
  }),
  op: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ put: fc.oneof({ weight: 4, arbitrary: validPutReq }, { weight: 1, arbitrary: putReq }) }),
    fc.record({ del: delReq }),
    fc.record({ range: rangeSpec.map((r) => ({ ...r, rev: r.rev > 1 ? 0 : r.rev })) }),
    fc.record({ txn: tie("txn") }),
  ),
})).txn;

function resolveTxn(t: TxnSpec, cur: number): TxnRequest {
  const op = (o: OpSpec): RequestOp =>
    "put" in o
      ? { requestPut: o.put }
      : "del" in o
        ? { requestDeleteRange: o.del }
        : "range" in o
          ? { requestRange: rangeReq(o.range, cur) }
          : { requestTxn: resolveTxn(o.txn, cur) };
  return { compare: t.compare, success: t.success.map(op), failure: t.failure.map(op) };
}

type Cmd =
  | { c: "put"; req: PutRequest }
  | { c: "del"; req: DeleteRangeRequest }
  | { c: "txn"; spec: TxnSpec }
  | { c: "range"; spec: RangeSpec }
  | { c: "compact"; frac: number }
  | { c: "restart" }
  | { c: "tick" };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: putReq.map((req) => ({ c: "put" as const, req })) },
  { weight: 2, arbitrary: delReq.map((req) => ({ c: "del" as const, req })) },
  { weight: 4, arbitrary: txnSpec.map((spec) => ({ c: "txn" as const, spec })) },
  { weight: 4, arbitrary: rangeSpec.map((spec) => ({ c: "range" as const, spec })) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 110 }).map((p) => ({ c: "compact" as const, frac: p / 100 })),
  },
  { weight: 1, arbitrary: fc.constant({ c: "restart" as const }) },
  { weight: 2, arbitrary: fc.constant({ c: "tick" as const }) },
);

// ---- the property ----------------------------------------------------------------------------------

/** Runs `f` on the store and `g` on the model; both must throw the same error code or agree on the result. */
function same<T>(f: () => T, g: () => T, what: string): T | undefined {
  let want: T | undefined;
  let wantErr: string | undefined;
  try {
    want = g();
  } catch (e) {
    if (!(e instanceof Expect)) throw e;
    wantErr = e.code;
  }
  let got: T | undefined;
  let gotErr: string | undefined;
  try {
    got = f();
  } catch (e) {
    if (!(e instanceof MvccError)) throw e;
    gotErr = e.code;
  }
  assert.equal(gotErr, wantErr, `${what}: error`);
  if (wantErr === undefined) assert.deepEqual(plain(got), plain(want), what);
  return got;
}

async function run(cmds: Cmd[]): Promise<void> {
  let lessor = new FakeLessor(...LEASES);
  const opts = { compactionBatchLimit: 2 };
  const t = new TestStore(undefined, { batchLimit: 3, batchIntervalMs: 1 }, { ...opts, lessor });
  const m = new Model();
  let events: Event[] = [];
  const allEvents: MEvent[] = [];
  const listen = (): void =>
    t.kv.setCommitListener((evs, rev) => {
      for (const e of evs) assert.equal(e.kv.modRevision, rev);
      events.push(...evs);
    });
  listen();
  try {
    for (const [i, c] of cmds.entries()) {
      const what = `#${i} ${c.c}`;
      events = [];
      let modelEvs: MEvent[] = [];
      switch (c.c) {
        case "put":
        case "del":
        case "txn": {
          const req: TxnRequest =
            c.c === "put"
              ? { success: [{ requestPut: c.req }] }
              : c.c === "del"
                ? { success: [{ requestDeleteRange: c.req }] }
                : resolveTxn(c.spec, m.rev + 1);
          const model = (): TxnResponse => {
            const r = m.txn(req);
            modelEvs = r.events;
            return r.resp;
          };
          if (c.c === "txn") {
            same(() => t.kv.txn(req), model, what);
          } else {
            // The single-op requests answer like the op inside a txn.
            const unwrap = (r: TxnResponse): unknown => {
              const op = r.responses[0];
              return "responsePut" in op
                ? op.responsePut
                : "responseDeleteRange" in op
                  ? op.responseDeleteRange
                  : op;
            };
            same(
              () => (c.c === "put" ? t.kv.put(c.req) : t.kv.deleteRange(c.req)),
              () => unwrap(model()) as ReturnType<typeof t.kv.put>,
              what,
            );
          }
          assert.deepEqual(plainEvents(events), modelEvents(modelEvs), `${what}: events`);
          allEvents.push(...modelEvs);
          break;
        }
        case "range": {
          const req = rangeReq(c.spec, m.rev + 1);
          same(
            () => t.kv.rangeRequest(req),
            () => m.range(m.stateAt(req.revision ?? 0, m.rev), req, m.rev),
            `${what} ${JSON.stringify(plain(req))}`,
          );
          break;
        }
        case "compact": {
          const rev = Math.floor(c.frac * m.rev);
          same(
            () => {
              t.kv.compact(rev);
            },
            () => m.compact(rev),
            `${what} ${rev}`,
          );
          break;
        }
        case "restart": {
          const hash = t.kv.hashKV().hash;
          lessor = new FakeLessor(...LEASES);
          t.restart({ ...opts, lessor });
          listen();
          assert.equal(t.kv.hashKV().hash, hash, `${what}: HashKV survives the restart`);
          // History replays from the backend as the listener saw it.
          const from = m.compactRev + 1;
          assert.deepEqual(
            plainEvents(t.kv.rangeEvents(Uint8Array.of(0), Uint8Array.of(0), from, m.rev)),
            modelEvents(allEvents.filter((e) => (e.type === "PUT" ? (e.kv as MKV).mod : e.kv.mod) >= from)),
            `${what}: rangeEvents`,
          );
          // The rebuilt index answers like the model at every readable revision.
          for (let r = Math.max(m.compactRev, 1); r <= m.rev; r++) {
            const all: RangeRequest = { key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0), revision: r };
            assert.deepEqual(
              plain(t.kv.rangeRequest(all)),
              plain(m.range(m.history.get(r)!, all, m.rev)),
              `${what} at ${r}`,
            );
          }
          break;
        }
        case "tick":
          await new Promise((r) => setImmediate(r));
          break;
      }
      assert.equal(t.kv.rev(), m.rev, `${what}: rev`);
      assert.equal(t.kv.compactRev(), m.compactRev, `${what}: compactRev`);
    }
    // Leases attached as the current state says.
    for (const id of LEASES) {
      const want = sortedKeys(m.current()).filter((k) => m.current().get(k)!.lease === id);
      assert.deepEqual(lessor.keys(id), want, `lease ${id}`);
    }
    // Once physical compaction is done, the backend holds exactly what reads at or after the compaction
    // revision need: rebuilt from it, the store agrees with the model.
    await t.kv.compactionDone();
    t.restart({ ...opts, lessor: new FakeLessor(...LEASES) });
    for (let r = Math.max(m.compactRev, 1); r <= m.rev; r++) {
      const all: RangeRequest = { key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0), revision: r };
      assert.deepEqual(
        plain(t.kv.rangeRequest(all)),
        plain(m.range(m.history.get(r)!, all, m.rev)),
        `final at ${r}`,
      );
    }
  } finally {
    t.close();
  }
}

describe("MVCC model", () => {
  test("random put/delete/txn/compact/range/restart sequences agree with the model", async () => {
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 60, size: "max" }), run), {
      numRuns: 200,
    });
  });
});
