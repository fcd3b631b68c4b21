// How a failed RPC reads in etcdctl's `Error: ...` line, as clientv3 turns gRPC errors into Go errors:
// a status whose description is one of etcd's server errors prints as that description alone
// (rpctypes.Error); a deadline or cancellation of the command's own context prints as Go's context error;
// anything else prints as grpc-go's `rpc error: code = <Code> desc = <description>`.

import { status as Status } from "@grpc/grpc-js";

/** etcd's server error descriptions (api/v3rpc/rpctypes), which clientv3 reports bare. */
const ETCD_ERRORS = new Set([
  "etcdserver: key is not provided",
  "etcdserver: key not found",
  "etcdserver: value is provided",
  "etcdserver: lease is provided",
  "etcdserver: too many operations in txn request",
  "etcdserver: duplicate key given in txn request",
  "etcdserver: mvcc: required revision has been compacted",
  "etcdserver: mvcc: required revision is a future revision",
  "etcdserver: mvcc: database space exceeded",
  "etcdserver: requested lease not found",
  "etcdserver: lease already exists",
  "etcdserver: too large lease TTL",
  "etcdserver: member ID already exist",
  "etcdserver: Peer URLs already exists",
  "etcdserver: re-configuration failed due to not enough started members",
  "etcdserver: given member URLs are invalid",
  "etcdserver: member not found",
  "etcdserver: can only promote a learner member",
  "etcdserver: can only promote a learner member which is in sync with leader",
  "etcdserver: too many learner members in cluster",
  "etcdserver: cluster ID mismatch",
  "etcdserver: request is too large",
  "etcdserver: too many requests",
  "etcdserver: root user does not exist",
  "etcdserver: root user does not have root role",
  "etcdserver: user name already exists",
  "etcdserver: user name is empty",
  "etcdserver: user name not found",
  "etcdserver: role name already exists",
  "etcdserver: role name not found",
  "etcdserver: role name is empty",
  "etcdserver: authentication failed, invalid user ID or password",
  "etcdserver: permission denied",
  "etcdserver: role is not granted to the user",
  "etcdserver: permission is not granted to the role",
  "etcdserver: authentication is not enabled",
  "etcdserver: invalid auth token",
  "etcdserver: invalid auth management",
  "etcdserver: revision of auth store is old",
  "etcdserver: no leader",
  "etcdserver: not leader",
  "etcdserver: leader changed",
  "etcdserver: not capable",
  "etcdserver: server stopped",
  "etcdserver: request timed out",
  "etcdserver: request timed out, possibly due to previous leader failure",
  "etcdserver: request timed out, possibly due to connection lost",
  "etcdserver: unhealthy cluster",
  "etcdserver: corrupt cluster",
  "etcdserver: rpc not supported for learner",
  "etcdserver: bad leader transferee",
  "etcdserver: cluster version not found during downgrade",
  "etcdserver: wrong downgrade target version format",
  "etcdserver: invalid downgrade target version",
  "etcdserver: cluster has a downgrade job in progress",
  "etcdserver: no inflight downgrade job",
]);

/** grpc-go's codes.Code String() names. */
const CODE_NAMES: Record<number, string> = {
  [Status.OK]: "OK",
  [Status.CANCELLED]: "Canceled",
  [Status.UNKNOWN]: "Unknown",
  [Status.INVALID_ARGUMENT]: "InvalidArgument",
  [Status.DEADLINE_EXCEEDED]: "DeadlineExceeded",
  [Status.NOT_FOUND]: "NotFound",
  [Status.ALREADY_EXISTS]: "AlreadyExists",
  [Status.PERMISSION_DENIED]: "PermissionDenied",
  [Status.RESOURCE_EXHAUSTED]: "ResourceExhausted",
  [Status.FAILED_PRECONDITION]: "FailedPrecondition",
  [Status.ABORTED]: "Aborted",
  [Status.OUT_OF_RANGE]: "OutOfRange",
  [Status.UNIMPLEMENTED]: "Unimplemented",
  [Status.INTERNAL]: "Internal",
  [Status.UNAVAILABLE]: "Unavailable",
  [Status.DATA_LOSS]: "DataLoss",
  [Status.UNAUTHENTICATED]: "Unauthenticated",
};

export const CONTEXT_DEADLINE = "context deadline exceeded";
export const CONTEXT_CANCELED = "context canceled";

/** An RPC failure with the text etcdctl prints for it. */
export class RpcError extends Error {
  constructor(
    message: string,
    /** The gRPC status code (-1 for context errors). */
    readonly code: number,
    /** The server's description (details), when there was one. */
    readonly details: string,
  ) {
    super(message);
  }

  /** True for one of etcd's server errors with this description. */
  is(desc: string): boolean {
    return this.details === desc;
  }
}

export function isEtcdError(desc: string): boolean {
  return ETCD_ERRORS.has(desc);
}

export function deadlineError(): RpcError {
  return new RpcError(CONTEXT_DEADLINE, Status.DEADLINE_EXCEEDED, "");
}

export function canceledError(): RpcError {
  return new RpcError(CONTEXT_CANCELED, Status.CANCELLED, "");
}

/** Converts a grpc-js error into what clientv3 would report. */
export function fromGrpc(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  const ge = e as { code?: number; details?: string; message?: string };
  if (typeof ge.code !== "number") return new RpcError(String(ge.message ?? e), Status.UNKNOWN, "");
  const details = ge.details ?? "";
  if (ETCD_ERRORS.has(details)) return new RpcError(details, ge.code, details);
  if (ge.code === Status.DEADLINE_EXCEEDED) return new RpcError(CONTEXT_DEADLINE, ge.code, details);
  if (ge.code === Status.CANCELLED && /cancel/i.test(details))
    return new RpcError(CONTEXT_CANCELED, ge.code, details);
  return new RpcError(
    `rpc error: code = ${CODE_NAMES[ge.code] ?? `Code(${ge.code})`} desc = ${details}`,
    ge.code,
    details,
  );
}
