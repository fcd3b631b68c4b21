// The core logs through an injected sink so it stays free of I/O; the default discards everything.

export type LogFields = Record<string, unknown>;

export interface RaftLogger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const noop = (): void => {};
export const discardLogger: RaftLogger = { debug: noop, info: noop, warn: noop, error: noop };
