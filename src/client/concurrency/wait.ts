// Waiting in line, as etcd's lock and election recipes do: every contender owns a key under a prefix,
// and the contender whose key was created first holds the lock (or leads). A contender waits only for
// the key created just before its own to be deleted, then looks again (the next one down may still be
// there); nobody watches the holder, so a release wakes exactly one waiter.

import type { Bytes } from "../bytes.js";
import type { Client } from "../client.js";
import { type CallOptions, canceled } from "../connection.js";
import { EtcdSessionExpiredError } from "../errors.js";
import type { Session } from "./session.js";

/** Resolves once `key` is deleted (watching from revision `rev` + 1). */
async function waitDelete(
  client: Client,
  key: Bytes,
  rev: bigint,
  session: Session,
  opts: CallOptions,
): Promise<void> {
  const w = await client.watch(key, { startRevision: rev + 1n, noPut: true, ...opts });
  try {
    const deleted = new Promise<void>((resolve) => {
      w.on("delete", () => resolve());
    });
    await Promise.race([deleted, w.done, ended(session), aborted(opts.signal)]);
  } finally {
    await w.cancel();
  }
}

/**
 * Resolves once no key under `prefix` has a create revision <= `maxCreateRev`: everyone ahead in line is
 * gone. Fails if the session ends (its own key is gone then) or the caller aborts.
 */
export async function waitDeletes(
  client: Client,
  prefix: string,
  maxCreateRev: bigint,
  session: Session,
  opts: CallOptions = {},
): Promise<void> {
  for (;;) {
    session.assertActive();
    if (opts.signal?.aborted) throw canceled(opts.signal);
    const r = await client.get(prefix, {
      ...opts,
      prefix: true,
      maxCreateRevision: maxCreateRev,
      sort: { target: "create", order: "descend" },
      limit: 1,
    });
    const last = r.kvs[0];
    if (last === undefined) return;
    await waitDelete(client, last.key, r.header.revision, session, opts);
  }
}

function ended(session: Session): Promise<never> {
  return session.done.then((e) => {
    throw e ?? new EtcdSessionExpiredError("session: closed");
  });
}

function aborted(signal: AbortSignal | undefined): Promise<never> {
  if (signal === undefined) return new Promise(() => {});
  return new Promise((_, reject) => {
    if (signal.aborted) reject(canceled(signal));
    else signal.addEventListener("abort", () => reject(canceled(signal)), { once: true });
  });
}
