// Structured logs (pino), one JSON line per event, with etcd's field names where etcd has them.
// --log-outputs: "default"/"stderr" -> stderr, "stdout" -> stdout, anything else is a file path.

import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, outputs: readonly string[]): Logger {
  const streams = outputs.map((o) => {
    const dest = o === "default" || o === "stderr" ? 2 : o === "stdout" ? 1 : o;
    return { level: level as pino.Level, stream: pino.destination({ dest, sync: true }) };
  });
  return pino(
    {
      level: level === "panic" ? "fatal" : level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: "msg",
    },
    pino.multistream(streams),
  );
}

/** Adapts a pino logger to the (fields, msg) sinks the layers take. */
export function fieldsFirst(l: Logger) {
  return {
    debug: (f: object, m: string) => l.debug(f, m),
    info: (f: object, m: string) => l.info(f, m),
    warn: (f: object, m: string) => l.warn(f, m),
    error: (f: object, m: string) => l.error(f, m),
  };
}
