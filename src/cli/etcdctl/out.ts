// Output: etcdctl writes keys and values as raw bytes, so output goes through here as strings (UTF-8)
// or byte arrays. A write to a pipe or socket may still be queued when it returns: exit through
// flushAndExit, never process.exit, or the end of the output can be lost.

export type Chunk = string | Uint8Array;

function write(stream: NodeJS.WriteStream, chunks: Chunk[]): void {
  if (chunks.length === 1) {
    stream.write(chunks[0]!);
    return;
  }
  stream.write(Buffer.concat(chunks.map((c) => (typeof c === "string" ? Buffer.from(c, "utf8") : c))));
}

/** Writes the chunks to stdout as one write. */
export function out(...chunks: Chunk[]): void {
  write(process.stdout, chunks);
}

/** Writes the chunks and a newline to stdout (fmt.Println of one value). */
export function outln(...chunks: Chunk[]): void {
  write(process.stdout, [...chunks, "\n"]);
}

export function err(...chunks: Chunk[]): void {
  write(process.stderr, chunks);
}

export function errln(...chunks: Chunk[]): void {
  write(process.stderr, [...chunks, "\n"]);
}

/**
 * A zap-style JSON log line on stderr, as etcdctl's client logger prints (level, ts, caller, msg, then
 * fields). `ts` is ISO 8601 in UTC.
 */
export function zlog(
  level: string,
  caller: string,
  msg: string,
  fields: Record<string, string | number> = {},
  logger?: string,
) {
  const o: Record<string, string | number> = { level, ts: new Date().toISOString() };
  if (logger !== undefined) o.logger = logger;
  Object.assign(o, { caller, msg }, fields);
  errln(JSON.stringify(o));
}

/** Output gathered in memory and written at once (a range of many keys is one write, not thousands). */
export class Buf {
  private readonly chunks: Chunk[] = [];

  add(...cs: Chunk[]): this {
    this.chunks.push(...cs);
    return this;
  }

  line(...cs: Chunk[]): this {
    this.chunks.push(...cs, "\n");
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks.map((c) => (typeof c === "string" ? Buffer.from(c, "utf8") : c)));
  }

  flush(stream: NodeJS.WriteStream = process.stdout): void {
    if (this.chunks.length === 0) return;
    stream.write(this.bytes());
    this.chunks.length = 0;
  }
}

/** Exits once everything written to stdout and stderr has reached the OS (a pipe may hold it back). */
export function flushAndExit(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}
