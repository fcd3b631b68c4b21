// make-mirror [options] <destination>: copies the keys under --prefix (all keys by default) as of one
// revision to the destination cluster, then replays every later change there (one destination txn per
// source revision), printing the number of keys mirrored every 30 s. Runs until an error.

import { KVService, type RequestOp } from "../../../api/gen/etcdserverpb/rpc.js";
import { Event_EventType } from "../../../api/gen/mvccpb/kv.js";
import type { CommandSpec, RunContext } from "../command.js";
import type { Conn } from "../conn.js";
import { ExitBadArgs, ExitError, exitWithError } from "../exit.js";
import { askPassword, mustClient, newConn } from "../globals.js";
import { keyBytes, prefixRangeEnd } from "../keys.js";
import { outln } from "../out.js";
import { WatchStream } from "../watcher.js";
import { rangeRequest } from "./kv.js";

const BATCH = 1000n;
const COMPACTED = "etcdserver: mvcc: required revision has been compacted";

/** strings.Replace(key, prefix, destPrefix, 1) on the key's bytes. */
function modifyPrefix(key: Uint8Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  const b = Buffer.from(key);
  const i = from.length === 0 ? 0 : b.indexOf(Buffer.from(from));
  if (i < 0) return key;
  return Buffer.concat([b.subarray(0, i), Buffer.from(to), b.subarray(i + from.length)]);
}

function destAuth(ctx: RunContext): { username: string; password: string } | undefined {
  const user = ctx.flags.str("dest-user");
  const password = ctx.flags.str("dest-password");
  if (user === "") return undefined;
  if (password !== "") return { username: user, password };
  const i = user.indexOf(":");
  if (i < 0) return { username: user, password: askPassword("Destination Password: ") };
  return { username: user.slice(0, i), password: user.slice(i + 1) };
}

async function mirror(src: Conn, dst: Conn, prefix: string, destPrefix: string): Promise<string> {
  let total = 0;
  const ticker = setInterval(() => outln(String(total)), 30_000);
  const from = keyBytes(prefix);
  const to = keyBytes(destPrefix);
  try {
    // SyncBase: the keys as of the revision of a first read.
    const first = await src.unary(KVService.range, rangeRequest(keyBytes(prefix === "" ? "foo" : prefix)), {
      deadline: undefined,
      idempotent: true,
    });
    const rev = first.header?.revision ?? 0n;
    let key = prefix === "" ? new Uint8Array([0]) : from;
    const end = prefix === "" ? new Uint8Array([0]) : prefixRangeEnd(from);
    for (;;) {
      const resp = await src.unary(
        KVService.range,
        { ...rangeRequest(key, end), limit: BATCH, revision: rev },
        { deadline: undefined, idempotent: true },
      );
      for (const kv of resp.kvs) {
        await dst.unary(
          KVService.put,
          {
            key: modifyPrefix(kv.key, from, to),
            value: kv.value,
            lease: 0n,
            prevKv: false,
            ignoreValue: false,
            ignoreLease: false,
          },
          { deadline: undefined },
        );
        total++;
      }
      if (!resp.more) break;
      key = Buffer.concat([Buffer.from(resp.kvs[resp.kvs.length - 1]!.key), Buffer.from([0])]);
    }
    // SyncUpdates: every change after that revision, one destination txn per source revision.
    return await new Promise<string>((resolve) => {
      const ws = new WatchStream(src);
      let queue = Promise.resolve();
      ws.watch(
        {
          key: from.length === 0 ? new Uint8Array([0]) : from,
          rangeEnd: from.length === 0 ? new Uint8Array([0]) : prefixRangeEnd(from),
          startRevision: rev + 1n,
          prevKv: false,
          progressNotify: false,
        },
        {
          onResponse: (r) => {
            if (r.compactRevision !== 0n) {
              ws.close();
              resolve(COMPACTED);
              return;
            }
            queue = queue
              .then(async () => {
                let ops: RequestOp[] = [];
                let lastRev = 0n;
                const flush = async () => {
                  if (ops.length > 0)
                    await dst.unary(
                      KVService.txn,
                      { compare: [], success: ops, failure: [] },
                      { deadline: undefined },
                    );
                  ops = [];
                };
                for (const ev of r.events) {
                  const next = ev.kv!.modRevision;
                  if (lastRev !== 0n && next > lastRev) await flush();
                  lastRev = next;
                  const k = modifyPrefix(ev.kv!.key, from, to);
                  ops.push(
                    ev.type === Event_EventType.PUT
                      ? {
                          request: {
                            $case: "requestPut",
                            value: {
                              key: k,
                              value: ev.kv!.value,
                              lease: 0n,
                              prevKv: false,
                              ignoreValue: false,
                              ignoreLease: false,
                            },
                          },
                        }
                      : {
                          request: {
                            $case: "requestDeleteRange",
                            value: { key: k, rangeEnd: new Uint8Array(), prevKv: false },
                          },
                        },
                  );
                  total++;
                }
                await flush();
              })
              .catch((e: Error) => {
                ws.close();
                resolve(e.message);
              });
          },
          onClose: (err) => resolve(err ?? "watch closed"),
        },
      );
    });
  } finally {
    clearInterval(ticker);
  }
}

async function makeMirrorRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1) exitWithError(ExitBadArgs, "make-mirror takes one destination argument");
  const f = ctx.flags;
  const dstCfg = {
    endpoints: [ctx.args[0]!],
    dialTimeoutMs: f.ms("dial-timeout"),
    keepAliveTimeMs: f.ms("keepalive-time"),
    keepAliveTimeoutMs: f.ms("keepalive-timeout"),
    tls:
      f.str("dest-cert") || f.str("dest-key") || f.str("dest-cacert") || !f.bool("dest-insecure-transport")
        ? {
            cert: f.str("dest-cert") || undefined,
            key: f.str("dest-key") || undefined,
            cacert: f.str("dest-cacert") || undefined,
            insecureSkipVerify: false,
          }
        : undefined,
    auth: destAuth(ctx),
  };
  const dst = await newConn(dstCfg);
  const src = await mustClient(ctx);
  const prefix = f.str("prefix");
  let destPrefix = f.str("dest-prefix");
  if (f.bool("no-dest-prefix") && destPrefix.length > 0) {
    exitWithError(
      ExitBadArgs,
      "`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one",
    );
  }
  if (!f.bool("no-dest-prefix") && destPrefix.length === 0) destPrefix = prefix;
  const err = await mirror(src, dst, prefix, destPrefix).catch((e: Error) => e.message);
  exitWithError(ExitError, err);
}

export function makeMirrorSpec(): CommandSpec {
  return {
    use: "make-mirror [options] <destination>",
    short: "Makes a mirror at the destination etcd cluster",
    flags: [
      { name: "prefix", kind: "string", def: "", usage: "Key-value prefix to mirror" },
      {
        name: "dest-prefix",
        kind: "string",
        def: "",
        usage: "destination prefix to mirror a prefix to a different prefix in the destination cluster",
      },
      {
        name: "no-dest-prefix",
        kind: "bool",
        def: false,
        usage: "mirror key-values to the root of the destination cluster",
      },
      {
        name: "dest-cert",
        kind: "string",
        def: "",
        usage: "Identify secure client using this TLS certificate file for the destination cluster",
      },
      { name: "dest-key", kind: "string", def: "", usage: "Identify secure client using this TLS key file" },
      {
        name: "dest-cacert",
        kind: "string",
        def: "",
        usage: "Verify certificates of TLS enabled secure servers using this CA bundle",
      },
      {
        name: "dest-insecure-transport",
        kind: "bool",
        def: true,
        usage: "Disable transport security for client connections",
      },
      {
        name: "dest-user",
        kind: "string",
        def: "",
        usage: "Destination username[:password] for authentication (prompt if password is not supplied)",
      },
      {
        name: "dest-password",
        kind: "string",
        def: "",
        usage:
          "Destination password for authentication (if this option is used, --user option shouldn't include password)",
      },
    ],
    run: makeMirrorRun,
  };
}
