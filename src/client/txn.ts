// Transactions: comparisons (Compare), operations (Op) and the builder (Txn) that sends
// "if every comparison holds then these operations else those" as one atomic etcd Txn.
//
//   const r = await client.txn()
//     .if(Compare.modRevision("cfg", "=", seenRev))
//     .then(Op.put("cfg", next))
//     .else(Op.get("cfg"))
//     .commit();
//
// A Txn is not a promise: nothing is sent before commit(). (Its `then` is the builder step, so `await`
// on an uncommitted Txn fails with a TypeError rather than hanging.)

import {
  Compare_CompareResult,
  Compare_CompareTarget,
  type Compare as PbCompare,
  type RequestOp,
  type TxnRequest,
} from "../api/gen/etcdserverpb/rpc.js";
import { type Bytes, type Int64, toBigInt, toBytes } from "./bytes.js";
import type { CallOptions } from "./connection.js";
import {
  type DeleteOptions,
  deleteRequest,
  type GetOptions,
  type PutOptions,
  putRequest,
  type RangeSpec,
  rangeOf,
  rangeRequest,
} from "./requests.js";
import type { TxnResponse } from "./types.js";

/** How a comparison relates the key's current target to the given operand. */
export type CompareOp = "=" | "!=" | ">" | "<";

const RESULT: Record<CompareOp, Compare_CompareResult> = {
  "=": Compare_CompareResult.EQUAL,
  "!=": Compare_CompareResult.NOT_EQUAL,
  ">": Compare_CompareResult.GREATER,
  "<": Compare_CompareResult.LESS,
};

/**
 * One comparison of a transaction. A key that does not exist has version, createRevision,
 * modRevision and lease 0 (so `Compare.createRevision(k, "=", 0)` means "k does not exist"). With a
 * range (prefix, fromKey, rangeEnd) every key in it must satisfy the comparison.
 */
export class Compare {
  private constructor(readonly pb: PbCompare) {}

  private static make(
    key: Bytes,
    op: CompareOp,
    target: Compare_CompareTarget,
    union: PbCompare["targetUnion"],
    range?: RangeSpec,
  ): Compare {
    const r = rangeOf(key, range);
    const result = RESULT[op];
    if (result === undefined) throw new TypeError(`unknown comparison ${String(op)} (use = != > <)`);
    return new Compare({ result, target, key: r.key, rangeEnd: r.rangeEnd, targetUnion: union });
  }

  /** The key's version (modifications since creation; 0 = absent). */
  static version(key: Bytes, op: CompareOp, version: Int64, range?: RangeSpec): Compare {
    return Compare.make(
      key,
      op,
      Compare_CompareTarget.VERSION,
      { $case: "version", value: toBigInt(version) },
      range,
    );
  }

  /** The revision of the key's creation (0 = absent). */
  static createRevision(key: Bytes, op: CompareOp, revision: Int64, range?: RangeSpec): Compare {
    return Compare.make(
      key,
      op,
      Compare_CompareTarget.CREATE,
      { $case: "createRevision", value: toBigInt(revision) },
      range,
    );
  }

  /** The revision of the key's last modification (0 = absent). */
  static modRevision(key: Bytes, op: CompareOp, revision: Int64, range?: RangeSpec): Compare {
    return Compare.make(
      key,
      op,
      Compare_CompareTarget.MOD,
      { $case: "modRevision", value: toBigInt(revision) },
      range,
    );
  }

  /** The key's value (byte-wise; an absent key never matches). */
  static value(key: Bytes, op: CompareOp, value: Bytes, range?: RangeSpec): Compare {
    return Compare.make(
      key,
      op,
      Compare_CompareTarget.VALUE,
      { $case: "value", value: toBytes(value) },
      range,
    );
  }

  /** The key's lease ID (0 = none or absent). */
  static lease(key: Bytes, op: CompareOp, lease: Int64, range?: RangeSpec): Compare {
    return Compare.make(
      key,
      op,
      Compare_CompareTarget.LEASE,
      { $case: "lease", value: toBigInt(lease) },
      range,
    );
  }
}

/** One operation of a transaction branch. */
export class Op {
  private constructor(
    readonly pb: RequestOp,
    /** True for put, delete, and a nested txn containing either. */
    readonly isWrite: boolean,
  ) {}

  static get(key: Bytes, opts?: GetOptions): Op {
    return new Op({ request: { $case: "requestRange", value: rangeRequest(key, opts) } }, false);
  }

  static put(key: Bytes, value: Bytes, opts?: PutOptions): Op {
    return new Op({ request: { $case: "requestPut", value: putRequest(key, value, opts) } }, true);
  }

  static delete(key: Bytes, opts?: DeleteOptions): Op {
    return new Op({ request: { $case: "requestDeleteRange", value: deleteRequest(key, opts) } }, true);
  }

  /** A nested transaction (etcd 3.3+). */
  static txn(t: Txn): Op {
    return new Op({ request: { $case: "requestTxn", value: t.toRequest() } }, !t.isReadOnly());
  }
}

function checkArgs(
  what: string,
  args: unknown[],
  cls: { name: string; [Symbol.hasInstance](x: unknown): boolean },
): void {
  for (const a of args) {
    if (typeof a === "function") {
      throw new TypeError(`Txn is not a promise: call commit() to send it (got a function in ${what})`);
    }
    if (!(a instanceof cls)) throw new TypeError(`Txn.${what}() takes ${cls.name} values`);
  }
}

/**
 * A transaction under construction: `.if(...)` then `.then(...)` then `.else(...)`, each at most once
 * and in this order (each may be skipped), then `.commit()`.
 */
export class Txn {
  private readonly cmps: Compare[] = [];
  private readonly success: Op[] = [];
  private readonly failure: Op[] = [];
  private stage = 0;

  /** `send` runs the request (the client's; a Txn used only inside Op.txn needs none). */
  constructor(private readonly send?: (t: Txn, opts?: CallOptions) => Promise<TxnResponse>) {}

  /** The comparisons that must all hold for the `then` branch to run. */
  if(...cmps: Compare[]): this {
    checkArgs("if", cmps, Compare);
    this.advance(1, "if");
    this.cmps.push(...cmps);
    return this;
  }

  /** Operations run when every comparison holds. */
  // biome-ignore lint/suspicious/noThenProperty: etcd's If/Then/Else vocabulary; checkArgs rejects the resolve/reject functions `await` would pass.
  then(...ops: Op[]): this {
    checkArgs("then", ops, Op);
    this.advance(2, "then");
    this.success.push(...ops);
    return this;
  }

  /** Operations run otherwise. */
  else(...ops: Op[]): this {
    checkArgs("else", ops, Op);
    this.advance(3, "else");
    this.failure.push(...ops);
    return this;
  }

  /** True when neither branch writes (the request is then safe to repeat on failure). */
  isReadOnly(): boolean {
    return !this.success.some((o) => o.isWrite) && !this.failure.some((o) => o.isWrite);
  }

  toRequest(): TxnRequest {
    return {
      compare: this.cmps.map((c) => c.pb),
      success: this.success.map((o) => o.pb),
      failure: this.failure.map((o) => o.pb),
    };
  }

  /** Sends the transaction. */
  commit(opts?: CallOptions): Promise<TxnResponse> {
    if (this.send === undefined) {
      return Promise.reject(new TypeError("this Txn has no client: create it with client.txn()"));
    }
    return this.send(this, opts);
  }

  private advance(to: number, what: string): void {
    if (this.stage >= to) throw new TypeError(`Txn.${what}() called after a later or the same step`);
    this.stage = to;
  }
}
