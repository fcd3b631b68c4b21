// The watch errors, with etcd's texts (server/storage/mvcc/watcher.go), so the API layer can pass them on.

import { MvccError } from "../errors.js";

/** cancel() or requestProgress() named a watch ID the stream does not have. */
export class WatcherNotExistError extends MvccError {
  constructor() {
    super("ErrWatcherNotExist", "mvcc: watcher does not exist");
  }
}

/** A watch on [key, rangeEnd) with rangeEnd <= key (and rangeEnd not "\0"): it could never match. */
export class EmptyWatcherRangeError extends MvccError {
  constructor() {
    super("ErrEmptyWatcherRange", "mvcc: watcher range is empty");
  }
}

/** watch() asked for an explicit watch ID already in use on the stream. */
export class DuplicateWatchIdError extends MvccError {
  constructor() {
    super("ErrWatcherDuplicateID", "mvcc: duplicate watch ID provided on the WatchStream");
  }
}

/** The stream (or its store) is closed. etcd returns ErrEmptyWatcherRange here; a clearer error is ours. */
export class WatchStreamClosedError extends MvccError {
  constructor() {
    super("ErrWatchStreamClosed", "mvcc: watch stream is closed");
  }
}
