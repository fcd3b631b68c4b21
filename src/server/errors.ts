// The server's error catalog: every error a client can see, with etcd's exact text and gRPC status code
// (etcd's api/v3rpc/rpctypes/error.go, as of 3.5). Clients match on the text (clientv3 turns a status
// whose message is in this catalog back into its named error), so the texts must not change.
//
// The server throws these (`throw ErrGRPCNoLeader()`); the API layer sends `code` and `message` as the
// gRPC status, or as the gateway's {"error","code","message"} body. Errors of the layers below (mvcc,
// lease) are mapped here by toEtcdError(), as etcd's v3rpc togRPCError() does.

import { status as Status } from "@grpc/grpc-js";
import { LeaseError } from "../lease/errors.js";
import { MvccError } from "../mvcc/errors.js";

export { Status };

/** An error with a gRPC status code and the message the client sees. */
export class EtcdError extends Error {
  constructor(
    /** gRPC status code (@grpc/grpc-js `status`). */
    readonly code: Status,
    message: string,
  ) {
    super(message);
    this.name = "EtcdError";
  }

  /** Same code and message as `entry` (an error of the catalog, or another EtcdError). */
  is(entry: { readonly code: Status; readonly message: string }): boolean {
    return this.code === entry.code && this.message === entry.message;
  }

  /** The gRPC status object grpc-js sends (`callback(err.toStatus())`). */
  toStatus(): { code: Status; details: string } {
    return { code: this.code, details: this.message };
  }
}

/**
 * One entry of the catalog: call it to get a fresh EtcdError (with a stack of its own) to throw;
 * `code` and `message` are readable without building one, and `matches(err)` tests an error against it.
 */
export interface CatalogEntry {
  (): EtcdError;
  readonly code: Status;
  readonly message: string;
  readonly name: string;
  matches(err: unknown): boolean;
}

const byMessage = new Map<string, CatalogEntry>();

function entry(name: string, code: Status, message: string): CatalogEntry {
  const make = () => new EtcdError(code, message);
  Object.defineProperty(make, "name", { value: name });
  const e = Object.assign(make, {
    code,
    message,
    matches: (err: unknown) => err instanceof EtcdError && err.code === code && err.message === message,
  }) as CatalogEntry;
  byMessage.set(message, e);
  return e;
}

const IA = Status.INVALID_ARGUMENT;
const FP = Status.FAILED_PRECONDITION;
const UA = Status.UNAVAILABLE;

// ---- keys and txns ----------------------------------------------------------------------------------
export const ErrGRPCEmptyKey = entry("ErrGRPCEmptyKey", IA, "etcdserver: key is not provided");
export const ErrGRPCKeyNotFound = entry("ErrGRPCKeyNotFound", IA, "etcdserver: key not found");
export const ErrGRPCValueProvided = entry("ErrGRPCValueProvided", IA, "etcdserver: value is provided");
export const ErrGRPCLeaseProvided = entry("ErrGRPCLeaseProvided", IA, "etcdserver: lease is provided");
export const ErrGRPCTooManyOps = entry(
  "ErrGRPCTooManyOps",
  IA,
  "etcdserver: too many operations in txn request",
);
export const ErrGRPCDuplicateKey = entry(
  "ErrGRPCDuplicateKey",
  IA,
  "etcdserver: duplicate key given in txn request",
);
export const ErrGRPCCompacted = entry(
  "ErrGRPCCompacted",
  Status.OUT_OF_RANGE,
  "etcdserver: mvcc: required revision has been compacted",
);
export const ErrGRPCFutureRev = entry(
  "ErrGRPCFutureRev",
  Status.OUT_OF_RANGE,
  "etcdserver: mvcc: required revision is a future revision",
);
export const ErrGRPCNoSpace = entry(
  "ErrGRPCNoSpace",
  Status.RESOURCE_EXHAUSTED,
  "etcdserver: mvcc: database space exceeded",
);

// ---- leases -----------------------------------------------------------------------------------------
export const ErrGRPCLeaseNotFound = entry(
  "ErrGRPCLeaseNotFound",
  Status.NOT_FOUND,
  "etcdserver: requested lease not found",
);
export const ErrGRPCLeaseExist = entry("ErrGRPCLeaseExist", FP, "etcdserver: lease already exists");
export const ErrGRPCLeaseTTLTooLarge = entry(
  "ErrGRPCLeaseTTLTooLarge",
  Status.OUT_OF_RANGE,
  "etcdserver: too large lease TTL",
);

// ---- watch ------------------------------------------------------------------------------------------
export const ErrGRPCWatchCanceled = entry(
  "ErrGRPCWatchCanceled",
  Status.CANCELLED,
  "etcdserver: watch canceled",
);

// ---- membership -------------------------------------------------------------------------------------
export const ErrGRPCMemberExist = entry("ErrGRPCMemberExist", FP, "etcdserver: member ID already exist");
export const ErrGRPCPeerURLExist = entry("ErrGRPCPeerURLExist", FP, "etcdserver: Peer URLs already exists");
export const ErrGRPCMemberNotEnoughStarted = entry(
  "ErrGRPCMemberNotEnoughStarted",
  FP,
  "etcdserver: re-configuration failed due to not enough started members",
);
export const ErrGRPCMemberBadURLs = entry(
  "ErrGRPCMemberBadURLs",
  IA,
  "etcdserver: given member URLs are invalid",
);
export const ErrGRPCMemberNotFound = entry(
  "ErrGRPCMemberNotFound",
  Status.NOT_FOUND,
  "etcdserver: member not found",
);
export const ErrGRPCMemberNotLearner = entry(
  "ErrGRPCMemberNotLearner",
  FP,
  "etcdserver: can only promote a learner member",
);
export const ErrGRPCLearnerNotReady = entry(
  "ErrGRPCLearnerNotReady",
  FP,
  "etcdserver: can only promote a learner member which is in sync with leader",
);
export const ErrGRPCTooManyLearners = entry(
  "ErrGRPCTooManyLearners",
  FP,
  "etcdserver: too many learner members in cluster",
);
export const ErrGRPCClusterIdMismatch = entry(
  "ErrGRPCClusterIdMismatch",
  FP,
  "etcdserver: cluster ID mismatch",
);

// ---- request limits ---------------------------------------------------------------------------------
export const ErrGRPCRequestTooLarge = entry("ErrGRPCRequestTooLarge", IA, "etcdserver: request is too large");
export const ErrGRPCRequestTooManyRequests = entry(
  "ErrGRPCRequestTooManyRequests",
  Status.RESOURCE_EXHAUSTED,
  "etcdserver: too many requests",
);

// ---- auth -------------------------------------------------------------------------------------------
export const ErrGRPCRootUserNotExist = entry(
  "ErrGRPCRootUserNotExist",
  FP,
  "etcdserver: root user does not exist",
);
export const ErrGRPCRootRoleNotExist = entry(
  "ErrGRPCRootRoleNotExist",
  FP,
  "etcdserver: root user does not have root role",
);
export const ErrGRPCUserAlreadyExist = entry(
  "ErrGRPCUserAlreadyExist",
  FP,
  "etcdserver: user name already exists",
);
export const ErrGRPCUserEmpty = entry("ErrGRPCUserEmpty", IA, "etcdserver: user name is empty");
export const ErrGRPCUserNotFound = entry("ErrGRPCUserNotFound", FP, "etcdserver: user name not found");
export const ErrGRPCRoleAlreadyExist = entry(
  "ErrGRPCRoleAlreadyExist",
  FP,
  "etcdserver: role name already exists",
);
export const ErrGRPCRoleNotFound = entry("ErrGRPCRoleNotFound", FP, "etcdserver: role name not found");
export const ErrGRPCRoleEmpty = entry("ErrGRPCRoleEmpty", IA, "etcdserver: role name is empty");
export const ErrGRPCAuthFailed = entry(
  "ErrGRPCAuthFailed",
  IA,
  "etcdserver: authentication failed, invalid user ID or password",
);
export const ErrGRPCPermissionNotGiven = entry(
  "ErrGRPCPermissionNotGiven",
  IA,
  "etcdserver: permission not given",
);
export const ErrGRPCPermissionDenied = entry(
  "ErrGRPCPermissionDenied",
  Status.PERMISSION_DENIED,
  "etcdserver: permission denied",
);
export const ErrGRPCRoleNotGranted = entry(
  "ErrGRPCRoleNotGranted",
  FP,
  "etcdserver: role is not granted to the user",
);
export const ErrGRPCPermissionNotGranted = entry(
  "ErrGRPCPermissionNotGranted",
  FP,
  "etcdserver: permission is not granted to the role",
);
export const ErrGRPCAuthNotEnabled = entry(
  "ErrGRPCAuthNotEnabled",
  FP,
  "etcdserver: authentication is not enabled",
);
export const ErrGRPCInvalidAuthToken = entry(
  "ErrGRPCInvalidAuthToken",
  Status.UNAUTHENTICATED,
  "etcdserver: invalid auth token",
);
export const ErrGRPCInvalidAuthMgmt = entry(
  "ErrGRPCInvalidAuthMgmt",
  IA,
  "etcdserver: invalid auth management",
);
export const ErrGRPCAuthOldRevision = entry(
  "ErrGRPCAuthOldRevision",
  IA,
  "etcdserver: revision of auth store is old",
);

// ---- leadership, availability -------------------------------------------------------------------------
export const ErrGRPCNoLeader = entry("ErrGRPCNoLeader", UA, "etcdserver: no leader");
export const ErrGRPCNotLeader = entry("ErrGRPCNotLeader", FP, "etcdserver: not leader");
export const ErrGRPCLeaderChanged = entry("ErrGRPCLeaderChanged", UA, "etcdserver: leader changed");
export const ErrGRPCNotCapable = entry("ErrGRPCNotCapable", UA, "etcdserver: not capable");
export const ErrGRPCStopped = entry("ErrGRPCStopped", UA, "etcdserver: server stopped");
export const ErrGRPCTimeout = entry("ErrGRPCTimeout", UA, "etcdserver: request timed out");
export const ErrGRPCTimeoutDueToLeaderFail = entry(
  "ErrGRPCTimeoutDueToLeaderFail",
  UA,
  "etcdserver: request timed out, possibly due to previous leader failure",
);
export const ErrGRPCTimeoutDueToConnectionLost = entry(
  "ErrGRPCTimeoutDueToConnectionLost",
  UA,
  "etcdserver: request timed out, possibly due to connection lost",
);
export const ErrGRPCTimeoutWaitAppliedIndex = entry(
  "ErrGRPCTimeoutWaitAppliedIndex",
  UA,
  "etcdserver: request timed out, waiting for the applied index took too long",
);
export const ErrGRPCUnhealthy = entry("ErrGRPCUnhealthy", UA, "etcdserver: unhealthy cluster");
export const ErrGRPCCorrupt = entry("ErrGRPCCorrupt", Status.DATA_LOSS, "etcdserver: corrupt cluster");
/** etcd spells the Go name ErrGPRCNotSupportedForLearner; the text is what matters. */
export const ErrGRPCNotSupportedForLearner = entry(
  "ErrGRPCNotSupportedForLearner",
  UA,
  "etcdserver: rpc not supported for learner",
);
export const ErrGRPCBadLeaderTransferee = entry(
  "ErrGRPCBadLeaderTransferee",
  FP,
  "etcdserver: bad leader transferee",
);

// ---- downgrade --------------------------------------------------------------------------------------
export const ErrGRPCClusterVersionUnavailable = entry(
  "ErrGRPCClusterVersionUnavailable",
  UA,
  "etcdserver: cluster version not found during downgrade",
);
export const ErrGRPCWrongDowngradeVersionFormat = entry(
  "ErrGRPCWrongDowngradeVersionFormat",
  IA,
  "etcdserver: wrong downgrade target version format",
);
export const ErrGRPCInvalidDowngradeTargetVersion = entry(
  "ErrGRPCInvalidDowngradeTargetVersion",
  IA,
  "etcdserver: invalid downgrade target version",
);
export const ErrGRPCDowngradeInProcess = entry(
  "ErrGRPCDowngradeInProcess",
  FP,
  "etcdserver: cluster has a downgrade job in progress",
);
export const ErrGRPCNoInflightDowngrade = entry(
  "ErrGRPCNoInflightDowngrade",
  FP,
  "etcdserver: no inflight downgrade job",
);

// ---- cancellation -----------------------------------------------------------------------------------
export const ErrGRPCCanceled = entry("ErrGRPCCanceled", Status.CANCELLED, "etcdserver: request canceled");
export const ErrGRPCDeadlineExceeded = entry(
  "ErrGRPCDeadlineExceeded",
  Status.DEADLINE_EXCEEDED,
  "etcdserver: context deadline exceeded",
);

/** The catalog entry with this exact message (etcd's errStringToError), if any. */
export function catalogEntry(message: string): CatalogEntry | undefined {
  return byMessage.get(message);
}

/** Every entry of the catalog. */
export function catalog(): CatalogEntry[] {
  return [...byMessage.values()];
}

// ---- mapping from the layers below ------------------------------------------------------------------

/** mvcc error codes (src/mvcc/errors.ts) -> catalog. */
const MVCC: Record<string, CatalogEntry> = {
  ErrCompacted: ErrGRPCCompacted,
  ErrFutureRev: ErrGRPCFutureRev,
  ErrEmptyKey: ErrGRPCEmptyKey,
  ErrDuplicateKey: ErrGRPCDuplicateKey,
  ErrTooManyOps: ErrGRPCTooManyOps,
  ErrValueProvided: ErrGRPCValueProvided,
  ErrLeaseProvided: ErrGRPCLeaseProvided,
  ErrKeyNotFound: ErrGRPCKeyNotFound,
  ErrLeaseNotFound: ErrGRPCLeaseNotFound,
};

/** Lease error codes (src/lease/errors.ts) -> catalog. */
const LEASE: Record<string, CatalogEntry> = {
  ErrLeaseNotFound: ErrGRPCLeaseNotFound,
  ErrLeaseExist: ErrGRPCLeaseExist,
  ErrLeaseTTLTooLarge: ErrGRPCLeaseTTLTooLarge,
  // The server forwards to the leader on this; if it still reaches a client, it is "not leader".
  ErrNotPrimary: ErrGRPCNotLeader,
};

/**
 * The EtcdError a client sees for `err` (etcd's togRPCError): EtcdErrors as they are; mvcc and lease
 * errors mapped to the catalog; a gRPC-status-like object ({code, details}) kept; anything else is
 * UNKNOWN with its message, as etcd answers errors it has no mapping for.
 */
export function toEtcdError(err: unknown): EtcdError {
  if (err instanceof EtcdError) return err;
  if (err instanceof MvccError) {
    const e = MVCC[err.code];
    return e ? e() : new EtcdError(Status.UNKNOWN, err.message);
  }
  if (err instanceof LeaseError) {
    const e = LEASE[err.code];
    return e ? e() : new EtcdError(Status.UNKNOWN, err.message);
  }
  if (typeof err === "object" && err !== null) {
    const o = err as { code?: unknown; details?: unknown; message?: unknown };
    if (typeof o.code === "number" && o.code >= 0 && o.code <= 16 && typeof o.details === "string") {
      return new EtcdError(o.code as Status, o.details);
    }
    if (typeof o.message === "string") return new EtcdError(Status.UNKNOWN, o.message);
  }
  return new EtcdError(Status.UNKNOWN, String(err));
}
