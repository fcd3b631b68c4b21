// Default sink for the WAL's and the snapshotter's log lines: warnings and errors to stderr (repairs and
// broken files must not go unnoticed), debug and info dropped. Servers pass their own logger.

import type { LogFields, RaftLogger } from "../raft/logger.js";

function line(level: string, msg: string, fields?: LogFields): void {
  const extra = fields
    ? ` ${JSON.stringify(fields, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`
    : "";
  process.stderr.write(`${level} ${msg}${extra}\n`);
}

const noop = (): void => {};

export const stderrLogger: RaftLogger = {
  debug: noop,
  info: noop,
  warn: (msg, fields) => line("warn", msg, fields),
  error: (msg, fields) => line("error", msg, fields),
};

export type { RaftLogger };
