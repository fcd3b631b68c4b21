// The key space's error catalog, with etcd's texts (mvcc and etcdserver/api/v3rpc/rpctypes), so the API
// layer can map each to its gRPC status by `code` and clients see etcd's messages.

export class MvccError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The revision asked for is older than the latest compaction. */
export class CompactedError extends MvccError {
  constructor() {
    super("ErrCompacted", "mvcc: required revision has been compacted");
  }
}

/** The revision asked for is newer than the store's current revision. */
export class FutureRevError extends MvccError {
  constructor() {
    super("ErrFutureRev", "mvcc: required revision is a future revision");
  }
}

/** A request without a key. */
export class EmptyKeyError extends MvccError {
  constructor() {
    super("ErrEmptyKey", "etcdserver: key is not provided");
  }
}

/** A txn writes a key twice (two puts, or a put and a delete covering it) on one path. */
export class DuplicateKeyError extends MvccError {
  constructor() {
    super("ErrDuplicateKey", "etcdserver: duplicate key given in txn request");
  }
}

/** A txn has more compares or operations in a branch than --max-txn-ops. */
export class TooManyOpsError extends MvccError {
  constructor() {
    super("ErrTooManyOps", "etcdserver: too many operations in txn request");
  }
}

/** A put with ignore_value also gave a value. */
export class ValueProvidedError extends MvccError {
  constructor() {
    super("ErrValueProvided", "etcdserver: value is provided");
  }
}

/** A put with ignore_lease also gave a lease. */
export class LeaseProvidedError extends MvccError {
  constructor() {
    super("ErrLeaseProvided", "etcdserver: lease is provided");
  }
}

/** A put with ignore_value or ignore_lease names a key that does not exist. */
export class KeyNotFoundError extends MvccError {
  constructor() {
    super("ErrKeyNotFound", "etcdserver: key not found");
  }
}

/** A put attaches a lease that does not exist. */
export class LeaseNotFoundError extends MvccError {
  constructor() {
    super("ErrLeaseNotFound", "etcdserver: requested lease not found");
  }
}

/** Internal: no revision of the key at the revision asked for. */
export class RevisionNotFoundError extends MvccError {
  constructor() {
    super("ErrRevisionNotFound", "mvcc: revision not found");
  }
}

/** Internal: a second write transaction was opened before the first ended. */
export class TxnInProgressError extends MvccError {
  constructor() {
    super("ErrTxnInProgress", "mvcc: a write transaction is already open");
  }
}
