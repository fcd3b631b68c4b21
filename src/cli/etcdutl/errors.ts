// Errors of the offline tools, with the exit code etcd's cobrautl gives them. Messages are etcd's where
// etcd has one; callers print them as `Error: <message>`.

/** etcd's cobrautl exit codes. */
export const ExitCode = {
  Success: 0,
  Error: 1,
  BadConnection: 2,
  InvalidInput: 3,
  BadFeature: 4,
  Interrupted: 5,
  IO: 6,
  BadArgs: 128,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class EtcdutlError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.Error,
  ) {
    super(message);
    this.name = "EtcdutlError";
  }
}

/** A file-system error as Go's os package words it: `open <path>: no such file or directory`. */
export function goFsError(op: string, path: string, err: unknown): EtcdutlError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === "ENOENT"
      ? "no such file or directory"
      : code === "EACCES"
        ? "permission denied"
        : code === "EISDIR"
          ? "is a directory"
          : code === "ENOTDIR"
            ? "not a directory"
            : (err as Error).message;
  return new EtcdutlError(`${op} ${path}: ${why}`);
}
