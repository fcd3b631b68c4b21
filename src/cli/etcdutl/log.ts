// Progress lines of the offline tools. etcd's tools log through zap in its console encoding (time,
// level, message, then the fields as JSON); bin/etcdutl prints them the same way on stderr.

export type LogFn = (msg: string, fields?: Record<string, unknown>) => void;

export const noLog: LogFn = () => {};

/** A LogFn writing zap console lines (`<RFC 3339 time>\tinfo\t<msg>\t{fields}`) to `write`. */
export function consoleLog(write: (line: string) => void, now: () => Date = () => new Date()): LogFn {
  return (msg, fields) => {
    const time = now()
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z");
    const f = fields && Object.keys(fields).length > 0 ? `\t${JSON.stringify(fields)}` : "";
    write(`${time}\tinfo\t${msg}${f}\n`);
  };
}
