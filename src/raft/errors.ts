// Errors of the Raft core. Each is a class so callers can test with `instanceof`; `code` is stable.

export class RaftError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A proposal was not accepted: no leader known, leadership transfer in progress, or forwarding disabled. */
export class ProposalDroppedError extends RaftError {
  constructor(reason = "raft proposal dropped") {
    super("ErrProposalDropped", reason);
  }
}

/** The requested index is older than the storage's first index (compacted away). */
export class CompactedError extends RaftError {
  constructor() {
    super("ErrCompacted", "requested index is unavailable due to compaction");
  }
}

/** The requested snapshot is older than the one storage already has. */
export class SnapOutOfDateError extends RaftError {
  constructor() {
    super("ErrSnapOutOfDate", "requested index is older than the existing snapshot");
  }
}

/** The requested index is past the storage's last index. */
export class UnavailableError extends RaftError {
  constructor() {
    super("ErrUnavailable", "requested entry at index is unavailable");
  }
}

/** Storage is producing a snapshot; the caller retries later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super("ErrSnapshotTemporarilyUnavailable", "snapshot is temporarily unavailable");
  }
}

export class StepLocalMsgError extends RaftError {
  constructor() {
    super("ErrStepLocalMsg", "raft: cannot step raft local message");
  }
}

export class StepPeerNotFoundError extends RaftError {
  constructor() {
    super("ErrStepPeerNotFound", "raft: cannot step as peer not found");
  }
}

/** A membership change that would leave the configuration invalid. */
export class ConfChangeError extends RaftError {
  constructor(message: string) {
    super("ErrConfChange", message);
  }
}

/** An invariant of the algorithm was violated: the node must stop rather than risk user data. */
export class RaftPanic extends RaftError {
  constructor(message: string) {
    super("RaftPanic", message);
  }
}
