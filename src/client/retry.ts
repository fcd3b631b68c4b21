// When the client moves to another endpoint, and when it repeats a request by itself.
//
// Reads (Range, read-only Txn, LeaseTimeToLive, LeaseLeases, MemberList, Status, ...) change nothing, so
// they are repeated on any transient error: every UNAVAILABLE status (a transport failure, "no leader",
// "leader changed", "request timed out", "server stopped", a learner refusing) and "too many requests".
//
// Writes (Put, DeleteRange, Txn with a write, Compact, LeaseGrant/Revoke, member changes, ...) are repeated
// only when the error proves the request was never executed, so a retry cannot apply it twice:
//   - the transport never handed it to a server: grpc-js "No connection established" (the channel has no
//     ready connection: connection refused, member down), "Channel closed before call started",
//     HTTP/2 REFUSED_STREAM ("Stream refused by server": the server guarantees it did not process it);
//   - "etcdserver: no leader": etcd sends it for writes only from its require-leader interceptor, before
//     the handler runs (a proposal without a leader times out instead);
//   - "etcdserver: leader changed": only produced while a linearizable read waits for its read index,
//     which happens before anything is applied;
//   - "etcdserver: too many requests": refused before proposing (the apply backlog is too long);
//   - "etcdserver: rpc not supported for learner": refused before processing;
//   - "etcdserver: invalid auth token" / "revision of auth store is old" (after re-authenticating): the
//     token is checked before proposing; an old auth revision is refused at apply without any effect.
// Everything else is surfaced: in particular "Connection dropped"/ECONNRESET after the request was sent,
// "etcdserver: request timed out" (the proposal may still commit), "server stopped", and deadlines. The
// caller sees EtcdConnectionError(sent=true) or EtcdRequestTimeoutError and must treat the write as
// "may or may not have happened" (re-read, or make it conditional with a Txn).
//
// Independently of retrying, an UNAVAILABLE answer makes the client leave that endpoint for the next
// healthy one (failover), so the next request goes elsewhere.

import {
  EtcdAuthOldRevisionError,
  EtcdConnectionError,
  type EtcdError,
  EtcdInvalidAuthTokenError,
  EtcdLeaderChangedError,
  EtcdLearnerNotSupportedError,
  EtcdNoLeaderError,
  EtcdTooManyRequestsError,
  EtcdUnavailableError,
  Status,
} from "./errors.js";

/** Whether a request changes state ("write") or not ("read"): it decides what is safe to repeat. */
export type RequestKind = "read" | "write";

/** True when `err` proves the request was not executed anywhere (so repeating it cannot duplicate it). */
export function provablyNotExecuted(err: EtcdError): boolean {
  if (err instanceof EtcdConnectionError) return !err.sent;
  return (
    err instanceof EtcdNoLeaderError ||
    err instanceof EtcdLeaderChangedError ||
    err instanceof EtcdTooManyRequestsError ||
    err instanceof EtcdLearnerNotSupportedError
  );
}

/** True when the client may repeat a request of `kind` that failed with `err`. */
export function isRetryable(kind: RequestKind, err: EtcdError): boolean {
  if (kind === "write") return provablyNotExecuted(err);
  return err instanceof EtcdUnavailableError || err instanceof EtcdTooManyRequestsError;
}

/** True when the client should stop using the endpoint that answered `err` and try the next one. */
export function shouldFailover(err: EtcdError): boolean {
  return err.code === Status.UNAVAILABLE || err instanceof EtcdUnavailableError;
}

/** True when re-authenticating may cure `err` (the request was refused without effect). */
export function needsNewToken(err: EtcdError): boolean {
  return err instanceof EtcdInvalidAuthTokenError || err instanceof EtcdAuthOldRevisionError;
}

/** Delay before retry number `attempt` (0-based): none for the first, then exponential with jitter. */
export function backoffMs(attempt: number, maxMs = 1000): number {
  if (attempt <= 0) return 0;
  const base = Math.min(maxMs, 25 * 2 ** Math.min(attempt, 10));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
