// Shared pieces of the gRPC services: unary handlers that map errors through the catalog, the
// "hasleader" check etcd's interceptors make, and a backpressure-aware writer for server streams.

import type { Metadata, ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import {
  ErrGRPCNoLeader,
  ErrGRPCNotSupportedForLearner,
  EtcdError,
  toEtcdError,
} from "../../server/errors.js";
import type { ApiLogger } from "../types.js";
import type { V3Rpc } from "../v3rpc.js";

/** Metadata key clientv3's WithRequireLeader sets (etcd's rpctypes.MetadataRequireLeaderKey). */
export const REQUIRE_LEADER_KEY = "hasleader";

/**
 * etcd's interceptors: a request carrying hasleader=true fails with ErrGRPCNoLeader while the member
 * knows no leader.
 */
export function checkRequireLeader(rpc: V3Rpc, md: Metadata): void {
  const v = md.get(REQUIRE_LEADER_KEY);
  if (v.length > 0 && String(v[0]) === "true" && rpc.server.leader() === 0n) throw ErrGRPCNoLeader();
}

/** Unary methods a learner serves (etcd's isRPCSupportedForLearner, plus MemberList); Range only serializable. */
const LEARNER_METHODS = new Set(["Status", "MemberList", "Range"]);

/** A learner refuses everything but the few read-only calls above, with etcd's error. */
export function checkLearner(rpc: V3Rpc, method: string, req: unknown): void {
  if (rpc.server.isLearner?.() !== true) return;
  if (LEARNER_METHODS.has(method)) {
    if (method !== "Range" || (req as { serializable?: boolean }).serializable === true) return;
  }
  throw ErrGRPCNotSupportedForLearner();
}

/** The status grpc-js sends for `err` (code and etcd's exact message). */
export function grpcStatus(err: unknown): { code: number; details: string } {
  const e: EtcdError = toEtcdError(err);
  return { code: e.code, details: e.message };
}

/** A unary handler running `fn`, answering its result or its error mapped through the catalog. */
export function unary<Req, Res>(
  rpc: V3Rpc,
  logger: ApiLogger,
  method: string,
  fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    let p: Promise<Res>;
    try {
      checkRequireLeader(rpc, call.metadata);
      checkLearner(rpc, method, call.request);
      p = fn(call.request, call);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (res) => callback(null, res),
      (err: unknown) => {
        const st = grpcStatus(err);
        if (st.code === 2 && !(err instanceof EtcdError)) {
          logger.warn({ method, err: String(err) }, "unexpected error in gRPC request");
        }
        callback(st);
      },
    );
  };
}

/** The writable side of a grpc-js server stream, as the pumps here use it. */
export interface WritableCall<T> {
  write(msg: T): boolean;
  once(event: "drain" | "close" | "cancelled" | "finish", fn: () => void): unknown;
  removeListener(event: "drain" | "close" | "cancelled" | "finish", fn: () => void): unknown;
  readonly cancelled: boolean;
  readonly destroyed?: boolean;
  readonly writableEnded?: boolean;
}

/** Resolves when `call` can take more writes, or is gone. */
export function drained<T>(call: WritableCall<T>): Promise<void> {
  if (call.cancelled || call.destroyed || call.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      call.removeListener("drain", done);
      call.removeListener("close", done);
      call.removeListener("cancelled", done);
      call.removeListener("finish", done);
      resolve();
    };
    call.once("drain", done);
    call.once("close", done);
    call.once("cancelled", done);
    call.once("finish", done);
  });
}

/** Writes `msg` unless the call is over; false when the caller should wait for drained(). */
export function safeWrite<T>(call: WritableCall<T>, msg: T): boolean {
  if (call.cancelled || call.destroyed || call.writableEnded) return true;
  return call.write(msg);
}

/** Aborts when the client cancels the call (or its deadline passes). */
export function callSignal(call: { once(event: "cancelled", fn: () => void): unknown }): AbortSignal {
  const ac = new AbortController();
  call.once("cancelled", () => ac.abort(new EtcdError(1, "context canceled")));
  return ac.signal;
}
