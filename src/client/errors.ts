// The client's typed errors. etcd answers with a gRPC status whose message is one of the server's catalog
// texts ("etcdserver: mvcc: required revision has been compacted", ...); clientv3 turns those back into
// named errors by their exact text, and so does toClientError() here, using the very strings of the
// server's catalog (src/server/errors.ts) so the two cannot drift apart. Statuses with other texts are
// transport failures (grpc-js' own messages) or errors etcd has no name for.
//
// The hierarchy groups errors by what a caller does about them:
//   EtcdError                        every error of this client (gRPC code, etcd's message, endpoint)
//   ├─ EtcdUnavailableError          transient: another member, or the same one later, may succeed
//   │   ├─ EtcdConnectionError       the transport failed; `sent` says whether the request left
//   │   ├─ EtcdNoLeaderError, EtcdLeaderChangedError, EtcdRequestTimeoutError, EtcdStoppedError, ...
//   ├─ EtcdCompactedError, EtcdFutureRevisionError      revision out of range
//   ├─ EtcdLeaseError → EtcdLeaseNotFoundError, EtcdLeaseExistsError, EtcdLeaseTTLTooLargeError,
//   │                   EtcdLeaseExpiredError (client side: keep-alive deadline passed)
//   ├─ EtcdInvalidRequestError → EtcdEmptyKeyError, EtcdTooManyOpsError, EtcdDuplicateKeyError, ...
//   ├─ EtcdAuthError → EtcdInvalidAuthTokenError, EtcdAuthFailedError, EtcdPermissionDeniedError, ...
//   ├─ EtcdMembershipError → EtcdMemberNotFoundError, EtcdMemberExistsError, ...
//   ├─ EtcdNoSpaceError, EtcdTooManyRequestsError, EtcdNotLeaderError, EtcdWatchCanceledError, ...
//   └─ EtcdCanceledError, EtcdDeadlineExceededError, EtcdClientClosedError, EtcdUnimplementedError

import { status as Status } from "@grpc/grpc-js";
import * as cat from "../server/errors.js";

export { Status };

/** Where an error came from, for messages and for failover decisions. */
export interface ErrorContext {
  /** The endpoint that answered (or failed), e.g. "http://127.0.0.1:2379". */
  endpoint?: string;
  cause?: unknown;
}

/** Every error this client raises. `message` is etcd's text where etcd sent one. */
export class EtcdError extends Error {
  /** gRPC status code (@grpc/grpc-js `status`), UNKNOWN for client-side errors without one. */
  readonly code: Status;
  /** The endpoint involved, if any. */
  readonly endpoint: string | undefined;
  /** The server catalog's name for this message (e.g. "ErrGRPCCompacted"), if it is one of etcd's. */
  catalogName: string | undefined;

  constructor(message: string, code: Status = Status.UNKNOWN, ctx: ErrorContext = {}) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.name = new.target.name;
    this.code = code;
    this.endpoint = ctx.endpoint;
    this.catalogName = undefined;
  }
}

// ---- transient ----------------------------------------------------------------------------------------

/** The member (or the connection to it) cannot serve the request now; another member may. */
export class EtcdUnavailableError extends EtcdError {}
/** "etcdserver: no leader": the member knows no leader (the request was refused before it ran). */
export class EtcdNoLeaderError extends EtcdUnavailableError {}
/** "etcdserver: leader changed": a linearizable read lost its leader while waiting (reads only). */
export class EtcdLeaderChangedError extends EtcdUnavailableError {}
/** "etcdserver: request timed out" and its variants: the outcome of a write is unknown. */
export class EtcdRequestTimeoutError extends EtcdUnavailableError {}
/** "etcdserver: server stopped": the member is shutting down. */
export class EtcdStoppedError extends EtcdUnavailableError {}
/** "etcdserver: rpc not supported for learner". */
export class EtcdLearnerNotSupportedError extends EtcdUnavailableError {}

/**
 * The transport failed (connection refused, dropped, reset). `sent` is false only when the request
 * provably never reached a server (no connection was established, or the server refused the stream);
 * true means it may have been processed.
 */
export class EtcdConnectionError extends EtcdUnavailableError {
  constructor(
    message: string,
    readonly sent: boolean,
    ctx: ErrorContext = {},
  ) {
    super(message, Status.UNAVAILABLE, ctx);
  }
}

// ---- revisions ----------------------------------------------------------------------------------------

/**
 * "etcdserver: mvcc: required revision has been compacted". From a watch, `compactRevision` is the
 * oldest revision still available (start a new watch there, after re-reading state).
 */
export class EtcdCompactedError extends EtcdError {
  compactRevision: bigint | undefined = undefined;
}
/** "etcdserver: mvcc: required revision is a future revision". */
export class EtcdFutureRevisionError extends EtcdError {}

// ---- leases -------------------------------------------------------------------------------------------

export class EtcdLeaseError extends EtcdError {}
/** "etcdserver: requested lease not found". */
export class EtcdLeaseNotFoundError extends EtcdLeaseError {}
/** "etcdserver: lease already exists". */
export class EtcdLeaseExistsError extends EtcdLeaseError {}
/** "etcdserver: too large lease TTL". */
export class EtcdLeaseTTLTooLargeError extends EtcdLeaseError {}
/**
 * Client side: no keep-alive was confirmed within the lease's TTL, so the lease must be presumed expired
 * (its keys may be gone). Also raised when the server answers a keep-alive with TTL 0.
 */
export class EtcdLeaseExpiredError extends EtcdLeaseError {}

// ---- request validation ------------------------------------------------------------------------------

export class EtcdInvalidRequestError extends EtcdError {}
export class EtcdEmptyKeyError extends EtcdInvalidRequestError {}
export class EtcdKeyNotFoundError extends EtcdInvalidRequestError {}
export class EtcdTooManyOpsError extends EtcdInvalidRequestError {}
export class EtcdDuplicateKeyError extends EtcdInvalidRequestError {}
export class EtcdRequestTooLargeError extends EtcdInvalidRequestError {}

// ---- quota, load --------------------------------------------------------------------------------------

/** "etcdserver: mvcc: database space exceeded": the NOSPACE alarm is raised; compact, defrag, disarm. */
export class EtcdNoSpaceError extends EtcdError {}
/** "etcdserver: too many requests": refused before it was proposed; safe to retry later. */
export class EtcdTooManyRequestsError extends EtcdError {}

// ---- auth ---------------------------------------------------------------------------------------------

export class EtcdAuthError extends EtcdError {}
/** "etcdserver: invalid auth token": the client re-authenticates and retries once by itself. */
export class EtcdInvalidAuthTokenError extends EtcdAuthError {}
/** "etcdserver: authentication failed, invalid user ID or password". */
export class EtcdAuthFailedError extends EtcdAuthError {}
/** "etcdserver: permission denied". */
export class EtcdPermissionDeniedError extends EtcdAuthError {}
/** "etcdserver: authentication is not enabled". */
export class EtcdAuthNotEnabledError extends EtcdAuthError {}
/** "etcdserver: revision of auth store is old": refused at apply; the client refreshes and retries. */
export class EtcdAuthOldRevisionError extends EtcdAuthError {}
/** "etcdserver: user name is empty": auth is on and the request carried no token. */
export class EtcdUserEmptyError extends EtcdAuthError {}

// ---- membership, leadership --------------------------------------------------------------------------

export class EtcdMembershipError extends EtcdError {}
export class EtcdMemberNotFoundError extends EtcdMembershipError {}
export class EtcdMemberExistsError extends EtcdMembershipError {}
export class EtcdPeerURLExistsError extends EtcdMembershipError {}
/** "etcdserver: not leader": the request must go to the leader (MoveLeader). */
export class EtcdNotLeaderError extends EtcdError {}

// ---- watch --------------------------------------------------------------------------------------------

/** The server canceled a watch for a reason that is not a compaction nor transient. */
export class EtcdWatchCanceledError extends EtcdError {}

// ---- client side --------------------------------------------------------------------------------------

/** The caller aborted the request (AbortSignal), or the RPC was cancelled. */
export class EtcdCanceledError extends EtcdError {}
/** The request did not finish within its timeout (including retries). */
export class EtcdDeadlineExceededError extends EtcdError {}
/** The client was closed. */
export class EtcdClientClosedError extends EtcdError {
  constructor() {
    super("etcdclient: client is closed", Status.CANCELLED);
  }
}
/** The server does not implement this RPC (gRPC UNIMPLEMENTED). */
export class EtcdUnimplementedError extends EtcdError {}

// ---- the catalog table --------------------------------------------------------------------------------

type ErrorClass = new (message: string, code: Status, ctx?: ErrorContext) => EtcdError;

/**
 * The class of each catalog entry with a class of its own; the rest fall back on their gRPC code
 * (UNAVAILABLE -> EtcdUnavailableError, auth texts -> EtcdAuthError, membership -> EtcdMembershipError).
 */
const BY_ENTRY: [cat.CatalogEntry, ErrorClass][] = [
  [cat.ErrGRPCNoLeader, EtcdNoLeaderError],
  [cat.ErrGRPCLeaderChanged, EtcdLeaderChangedError],
  [cat.ErrGRPCTimeout, EtcdRequestTimeoutError],
  [cat.ErrGRPCTimeoutDueToLeaderFail, EtcdRequestTimeoutError],
  [cat.ErrGRPCTimeoutDueToConnectionLost, EtcdRequestTimeoutError],
  [cat.ErrGRPCTimeoutWaitAppliedIndex, EtcdRequestTimeoutError],
  [cat.ErrGRPCStopped, EtcdStoppedError],
  [cat.ErrGRPCNotSupportedForLearner, EtcdLearnerNotSupportedError],
  [cat.ErrGRPCCompacted, EtcdCompactedError],
  [cat.ErrGRPCFutureRev, EtcdFutureRevisionError],
  [cat.ErrGRPCLeaseNotFound, EtcdLeaseNotFoundError],
  [cat.ErrGRPCLeaseExist, EtcdLeaseExistsError],
  [cat.ErrGRPCLeaseTTLTooLarge, EtcdLeaseTTLTooLargeError],
  [cat.ErrGRPCEmptyKey, EtcdEmptyKeyError],
  [cat.ErrGRPCKeyNotFound, EtcdKeyNotFoundError],
  [cat.ErrGRPCValueProvided, EtcdInvalidRequestError],
  [cat.ErrGRPCLeaseProvided, EtcdInvalidRequestError],
  [cat.ErrGRPCTooManyOps, EtcdTooManyOpsError],
  [cat.ErrGRPCDuplicateKey, EtcdDuplicateKeyError],
  [cat.ErrGRPCRequestTooLarge, EtcdRequestTooLargeError],
  [cat.ErrGRPCNoSpace, EtcdNoSpaceError],
  [cat.ErrGRPCRequestTooManyRequests, EtcdTooManyRequestsError],
  [cat.ErrGRPCInvalidAuthToken, EtcdInvalidAuthTokenError],
  [cat.ErrGRPCAuthFailed, EtcdAuthFailedError],
  [cat.ErrGRPCPermissionDenied, EtcdPermissionDeniedError],
  [cat.ErrGRPCAuthNotEnabled, EtcdAuthNotEnabledError],
  [cat.ErrGRPCAuthOldRevision, EtcdAuthOldRevisionError],
  [cat.ErrGRPCUserEmpty, EtcdUserEmptyError],
  [cat.ErrGRPCMemberNotFound, EtcdMemberNotFoundError],
  [cat.ErrGRPCMemberExist, EtcdMemberExistsError],
  [cat.ErrGRPCPeerURLExist, EtcdPeerURLExistsError],
  [cat.ErrGRPCNotLeader, EtcdNotLeaderError],
  [cat.ErrGRPCWatchCanceled, EtcdWatchCanceledError],
  [cat.ErrGRPCCanceled, EtcdCanceledError],
  [cat.ErrGRPCDeadlineExceeded, EtcdDeadlineExceededError],
];

const AUTH_ENTRIES = new Set<cat.CatalogEntry>([
  cat.ErrGRPCRootUserNotExist,
  cat.ErrGRPCRootRoleNotExist,
  cat.ErrGRPCUserAlreadyExist,
  cat.ErrGRPCUserNotFound,
  cat.ErrGRPCRoleAlreadyExist,
  cat.ErrGRPCRoleNotFound,
  cat.ErrGRPCRoleEmpty,
  cat.ErrGRPCPermissionNotGiven,
  cat.ErrGRPCRoleNotGranted,
  cat.ErrGRPCPermissionNotGranted,
  cat.ErrGRPCInvalidAuthMgmt,
]);

const MEMBERSHIP_ENTRIES = new Set<cat.CatalogEntry>([
  cat.ErrGRPCMemberNotEnoughStarted,
  cat.ErrGRPCMemberBadURLs,
  cat.ErrGRPCMemberNotLearner,
  cat.ErrGRPCLearnerNotReady,
  cat.ErrGRPCTooManyLearners,
  cat.ErrGRPCClusterIdMismatch,
]);

const classByMessage = new Map<string, ErrorClass>();
for (const [e, cls] of BY_ENTRY) classByMessage.set(e.message, cls);

/** The class for a catalog entry (explicit table, then its group, then its gRPC code). */
export function classForEntry(e: cat.CatalogEntry): ErrorClass {
  const cls = classByMessage.get(e.message);
  if (cls !== undefined) return cls;
  if (AUTH_ENTRIES.has(e)) return EtcdAuthError;
  if (MEMBERSHIP_ENTRIES.has(e)) return EtcdMembershipError;
  if (e.code === Status.UNAVAILABLE) return EtcdUnavailableError;
  if (e.code === Status.INVALID_ARGUMENT) return EtcdInvalidRequestError;
  return EtcdError;
}

/** The typed error for an etcd message (one of the catalog's texts), or undefined if it is not one. */
export function etcdErrorFromMessage(
  message: string,
  code?: Status,
  ctx: ErrorContext = {},
): EtcdError | undefined {
  const e = cat.catalogEntry(message);
  if (e === undefined) return undefined;
  const err = new (classForEntry(e))(message, code ?? e.code, ctx);
  err.catalogName = e.name;
  return err;
}

/**
 * grpc-js texts of UNAVAILABLE statuses raised before the request was handed to a connection, or
 * refused by the server before any processing (HTTP/2 REFUSED_STREAM guarantees that). Anything else
 * that is UNAVAILABLE without an etcd text ("Connection dropped", "read ECONNRESET", ...) happened after
 * the request may have been written.
 */
const NOT_SENT_PATTERNS: readonly RegExp[] = [
  /No connection established/,
  /Channel closed before call started/,
  /Stream refused by server/,
  /^Name resolution failed/,
  /^No address added out of total/,
];

/** True when an UNAVAILABLE transport text proves the request never reached a server. */
export function isNotSentTransportMessage(details: string): boolean {
  return NOT_SENT_PATTERNS.some((p) => p.test(details));
}

interface StatusLike {
  code?: unknown;
  details?: unknown;
  message?: unknown;
}

/**
 * The typed error for whatever an RPC failed with: a grpc-js ServiceError (code + details), a status
 * object, an EtcdError (returned as is), or anything else (EtcdError with code UNKNOWN).
 */
export function toClientError(err: unknown, ctx: ErrorContext = {}): EtcdError {
  if (err instanceof EtcdError) return err;
  const s = (typeof err === "object" && err !== null ? err : {}) as StatusLike;
  const code = typeof s.code === "number" ? (s.code as Status) : undefined;
  const details =
    typeof s.details === "string" ? s.details : typeof s.message === "string" ? s.message : String(err);
  const full: ErrorContext = { ...ctx, cause: ctx.cause ?? err };
  const known = etcdErrorFromMessage(details, code, full);
  if (known !== undefined) return known;
  switch (code) {
    case Status.UNAVAILABLE:
      return new EtcdConnectionError(details, !isNotSentTransportMessage(details), full);
    case Status.DEADLINE_EXCEEDED:
      return new EtcdDeadlineExceededError(details, code, full);
    case Status.CANCELLED:
      return new EtcdCanceledError(details, code, full);
    case Status.UNIMPLEMENTED:
      return new EtcdUnimplementedError(details, code, full);
    case Status.UNAUTHENTICATED:
      return new EtcdAuthError(details, code, full);
    case Status.PERMISSION_DENIED:
      return new EtcdPermissionDeniedError(details, code, full);
    default:
      return new EtcdError(details, code ?? Status.UNKNOWN, full);
  }
}

// ---- recipe errors (src/client/concurrency) -----------------------------------------------------------

/** Mutex.tryLock: another session holds the lock. */
export class EtcdLockedError extends EtcdError {
  constructor() {
    super("mutex: Locked by another session", Status.FAILED_PRECONDITION);
  }
}
/** The session's lease expired or was revoked: locks and leadership held through it are gone. */
export class EtcdSessionExpiredError extends EtcdError {
  constructor(detail = "session: lease expired or revoked") {
    super(detail, Status.FAILED_PRECONDITION);
  }
}
/** Election.proclaim/resign by a candidate that is not (or no longer) the leader. */
export class EtcdElectionNotLeaderError extends EtcdError {
  constructor() {
    super("election: not leader", Status.FAILED_PRECONDITION);
  }
}
/** Election.leader when nobody has campaigned. */
export class EtcdElectionNoLeaderError extends EtcdError {
  constructor() {
    super("election: no leader", Status.NOT_FOUND);
  }
}
/** STM: the transaction conflicted more often than its retry budget allows. */
export class EtcdSTMConflictError extends EtcdError {
  constructor(attempts: number) {
    super(`stm: transaction conflicted ${attempts} times`, Status.ABORTED);
  }
}
