// The offline tools of etcdutl, for bin/etcdutl and for etcdctl's deprecated aliases (`etcdctl snapshot
// status|restore`, `etcdctl backup`, `etcdctl defrag --data-dir`). Each takes parsed options and
// resolves with the text etcd prints on stdout, or throws an EtcdutlError carrying etcd's message
// (print it as `Error: <message>`) and cobrautl's exit code (`exitCode`). Other errors are I/O
// failures: print them the same way and exit 1.
//
//   snapshotStatus(opts: { args: string[]; writeOut?: string }): Promise<string>
//       args: exactly one snapshot file; writeOut: -w (simple | table | json | fields; protobuf fails
//       with exit code 4). Output: "<hash hex>, <revision>, <total keys>, <total size>\n" for simple.
//   snapshotRestore(opts: RestoreOptions): Promise<string>                    (output "")
//       { args: [file], dataDir?, walDir?, name?, initialCluster?, initialClusterToken?,
//         initialAdvertisePeerUrls? (comma-separated), skipHashCheck?, bumpRevision?, markCompacted?,
//         log?: (msg, fields?) => void }  -- defaults as etcd's flags (RESTORE_DEFAULTS).
//   backup(opts: BackupOptions): Promise<string>                              (output "")
//       { dataDir, backupDir, walDir?, backupWalDir?, withV3? (default true), log? }
//   defrag(opts: DefragOptions): Promise<string>                              (output "")
//       { dataDir, notice?: (line) => void (the "waiting for etcd to close" line, for stderr) }
//   hashKV(opts: { args: string[]; rev?: number; writeOut?: string }): Promise<string>
//   etcdutlMain(argv: string[], io?): Promise<number>  -- the whole etcdutl command line; exit code.

export { type BackupOptions, backup } from "./backup.js";
export { type DefragOptions, defrag } from "./defrag.js";
export { EtcdutlError, ExitCode } from "./errors.js";
export { type HashKVOptions, hashKV } from "./hashkv.js";
export { consoleLog, type LogFn } from "./log.js";
export { etcdutlMain, type MainIO } from "./main.js";
export { RESTORE_DEFAULTS, type RestoreOptions, snapshotRestore } from "./restore.js";
export { type SnapshotStatus, snapshotStatus } from "./status.js";
