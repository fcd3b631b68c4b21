// The key-value API: get, put, delete, txn, compact. Reads (and read-only transactions) are repeated on
// any transient failure; writes only when the failure proves they did not run (see retry.ts).

import type * as pb from "../api/gen/etcdserverpb/rpc.js";
import type { Bytes, Int64 } from "./bytes.js";
import { toBigInt } from "./bytes.js";
import type { CallOptions, Connection } from "./connection.js";
import {
  type DeleteOptions,
  deleteRequest,
  type GetOptions,
  type PutOptions,
  putRequest,
  rangeRequest,
} from "./requests.js";
import { Txn } from "./txn.js";
import {
  type CompactResponse,
  type DeleteResponse,
  type GetResponse,
  type PutResponse,
  type TxnResponse,
  toDeleteResponse,
  toGetResponse,
  toHeader,
  toPutResponse,
  toTxnResponse,
} from "./types.js";

export interface CompactOptions extends CallOptions {
  /** Wait until the compaction is physically applied to the backend. */
  physical?: boolean;
}

export class KV {
  constructor(private readonly conn: Connection) {}

  /** Reads `key` (or a range of keys, see GetOptions). */
  async get(key: Bytes, opts: GetOptions & CallOptions = {}): Promise<GetResponse> {
    const req = rangeRequest(key, opts);
    const r = await this.conn.unary<pb.RangeResponse>(
      "read",
      (ep, md, o, cb) => ep.kv.range(req, md, o, cb),
      {
        ...opts,
        requireLeader: !req.serializable,
      },
    );
    return toGetResponse(r);
  }

  /** The value of `key`, or undefined when absent. */
  async getValue(key: Bytes, opts: GetOptions & CallOptions = {}): Promise<Buffer | undefined> {
    const r = await this.get(key, opts);
    return r.kvs[0]?.value;
  }

  /** Sets `key` to `value`. */
  async put(key: Bytes, value: Bytes, opts: PutOptions & CallOptions = {}): Promise<PutResponse> {
    const req = putRequest(key, value, opts);
    const r = await this.conn.unary<pb.PutResponse>("write", (ep, md, o, cb) => ep.kv.put(req, md, o, cb), {
      ...opts,
      requireLeader: true,
    });
    return toPutResponse(r);
  }

  /** Deletes `key` (or a range of keys). */
  async delete(key: Bytes, opts: DeleteOptions & CallOptions = {}): Promise<DeleteResponse> {
    const req = deleteRequest(key, opts);
    const r = await this.conn.unary<pb.DeleteRangeResponse>(
      "write",
      (ep, md, o, cb) => ep.kv.deleteRange(req, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    return toDeleteResponse(r);
  }

  /** A transaction builder; nothing is sent before its commit(). */
  txn(): Txn {
    return new Txn((t, opts) => this.commit(t, opts));
  }

  /**
   * Discards the history before `revision` (reads and watches of older revisions then fail with
   * EtcdCompactedError).
   */
  async compact(revision: Int64, opts: CompactOptions = {}): Promise<CompactResponse> {
    const req = { revision: toBigInt(revision), physical: opts.physical ?? false };
    const r = await this.conn.unary<pb.CompactionResponse>(
      "write",
      (ep, md, o, cb) => ep.kv.compact(req, md, o, cb),
      {
        ...opts,
        requireLeader: true,
      },
    );
    return { header: toHeader(r.header) };
  }

  private async commit(t: Txn, opts: CallOptions = {}): Promise<TxnResponse> {
    const req = t.toRequest();
    const kind = t.isReadOnly() ? "read" : "write";
    const r = await this.conn.unary<pb.TxnResponse>(kind, (ep, md, o, cb) => ep.kv.txn(req, md, o, cb), {
      ...opts,
      requireLeader: true,
    });
    return toTxnResponse(r);
  }
}
