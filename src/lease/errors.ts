// The lessor's error catalog, with etcd's texts (lease package and api/v3rpc/rpctypes), so the API layer
// can map each to its gRPC status by `code` and clients see etcd's messages. mvcc's LeaseNotFoundError
// (a put naming a missing lease) carries the same code as this one.

export class LeaseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** No lease with the ID asked for (or the ID is 0, which names no lease). gRPC NotFound. */
export class LeaseNotFoundError extends LeaseError {
  constructor() {
    super("ErrLeaseNotFound", "etcdserver: requested lease not found");
  }
}

/** A grant names an ID that is already in use. gRPC FailedPrecondition. */
export class LeaseExistsError extends LeaseError {
  constructor() {
    super("ErrLeaseExist", "etcdserver: lease already exists");
  }
}

/** A grant asks for more than MAX_LEASE_TTL seconds. gRPC OutOfRange. */
export class LeaseTTLTooLargeError extends LeaseError {
  constructor() {
    super("ErrLeaseTTLTooLarge", "etcdserver: too large lease TTL");
  }
}

/**
 * The operation needs the primary lessor (the raft leader's), and this one is not, or stopped being
 * while the operation waited. Not a client error in etcd: the server forwards the request to the leader
 * (renew, time-to-live) and retries on this error.
 */
export class NotPrimaryError extends LeaseError {
  constructor() {
    super("ErrNotPrimary", "not a primary lessor");
  }
}
