// Names of scheduled backup files: `<member name>-<UTC time to the millisecond>-r<revision>.db`, e.g.
// `infra0-20261124T032500.123Z-r1042.db`. Fixed-width times sort by name in time order; the member name
// keeps members that share a backup directory apart.

export interface BackupFile {
  name: string;
  /** Wall-clock time of the backup (ms since the epoch). */
  time: number;
  revision: number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function stamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`
  );
}

export function backupFileName(member: string, timeMs: number, revision: number): string {
  return `${member}-${stamp(timeMs)}-r${revision}.db`;
}

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;

/** The backup a file name denotes, if it is one of `member`'s; anything else in the directory is not ours. */
export function parseBackupFileName(member: string, name: string): BackupFile | undefined {
  if (!name.startsWith(`${member}-`) || !name.endsWith(".db")) return undefined;
  const rest = name.slice(member.length + 1, -3);
  const m = /^(.+)-r(\d+)$/.exec(rest);
  if (m === null) return undefined;
  const t = STAMP.exec(m[1]!);
  if (t === null) return undefined;
  const [, y, mo, d, h, mi, s, ms] = t.map(Number) as number[];
  return { name, time: Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!), revision: Number(m[2]) };
}
