// etcdctl's exit codes (etcd's pkg/cobrautl) and the one way a command ends early: throwing CtlExit.
// main() catches it, prints `Error: <message>` on stderr (as cobrautl.ExitWithError does) and exits with
// the code. A CtlExit without a message exits silently (etcd's bare os.Exit calls).

export const ExitSuccess = 0;
export const ExitError = 1;
export const ExitBadConnection = 2;
/** Bad input read from stdin (txn, interactive watch). */
export const ExitInvalidInput = 3;
/** A valid flag with an unsupported value (output format, consistency, sort order). */
export const ExitBadFeature = 4;
export const ExitInterrupted = 5;
export const ExitIO = 6;
export const ExitBadArgs = 128;

export class CtlExit extends Error {
  constructor(
    readonly code: number,
    /** Printed as `Error: <message>`; undefined exits without a line. */
    readonly text: string | undefined,
  ) {
    super(text ?? `exit ${code}`);
  }
}

/** Throws CtlExit(code, message): the command stops here. */
export function exitWithError(code: number, message: string | Error): never {
  throw new CtlExit(code, message instanceof Error ? message.message : message);
}

/** Exits with `code` without printing an error line. */
export function exitQuietly(code: number): never {
  throw new CtlExit(code, undefined);
}
