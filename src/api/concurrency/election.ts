// The Election service's recipes (etcd's v3election server over concurrency.Election). A candidate's
// key `<name>/<lease hex>` holds its proposal; the key created first is the leader. A LeaderKey (name,
// key, create revision, lease) identifies one leadership: Proclaim and Resign act only while that key
// still exists with that create revision.

import { EtcdError } from "../../server/errors.js";
import type * as pb from "../gen/etcdserverpb/rpc.js";
import type { KeyValue } from "../gen/mvccpb/kv.js";
import { Event_EventType } from "../gen/mvccpb/kv.js";
import type {
  CampaignResponse,
  LeaderKey,
  LeaderResponse,
  ProclaimResponse,
  ResignResponse,
} from "../gen/v3electionpb/v3election.js";
import type { V3Rpc } from "../v3rpc.js";
import { LocalWatch } from "./local_watch.js";
import { sessionLease } from "./lock.js";
import {
  createRevisionIs,
  del,
  firstCreated,
  get,
  prefixEnd,
  put,
  rangeOf,
  sessionKey,
  withSlash,
} from "./ops.js";
import { waitDeletes } from "./wait_deletes.js";

const UNKNOWN = 2;
export const ErrElectionNotLeader = () => new EtcdError(UNKNOWN, "election: not leader");
export const ErrElectionNoLeader = () => new EtcdError(UNKNOWN, "election: no leader");
export const ErrMissingLeaderKey = () => new EtcdError(UNKNOWN, '"leader" field must be provided');

export async function campaign(
  rpc: V3Rpc,
  name: Uint8Array,
  lease0: bigint,
  value: Uint8Array,
  signal: AbortSignal,
): Promise<CampaignResponse> {
  const lease = await sessionLease(rpc, lease0);
  const prefix = withSlash(name);
  const key = sessionKey(prefix, lease);
  const r = await rpc.txn({
    compare: [createRevisionIs(key, 0n)],
    success: [put(key, value, lease)],
    failure: [get(key)],
  });
  const leader: LeaderKey = { name, key, rev: r.header!.revision, lease };
  if (!r.succeeded) {
    const kv = rangeOf(r.responses[0])?.kvs[0];
    if (kv !== undefined) {
      leader.rev = kv.createRevision;
      if (!Buffer.from(kv.value).equals(Buffer.from(value))) {
        try {
          await proclaim(rpc, leader, value);
        } catch (e) {
          await resign(rpc, leader).catch(() => undefined);
          throw e;
        }
      }
    }
  }
  try {
    await waitDeletes(rpc, prefix, leader.rev - 1n, signal);
  } catch (e) {
    if (signal.aborted) await resign(rpc, leader).catch(() => undefined);
    throw e;
  }
  return { header: r.header, leader };
}

export async function proclaim(
  rpc: V3Rpc,
  leader: LeaderKey | undefined,
  value: Uint8Array,
): Promise<ProclaimResponse> {
  if (leader === undefined) throw ErrMissingLeaderKey();
  const r = await rpc.txn({
    compare: [createRevisionIs(leader.key, leader.rev)],
    success: [put(leader.key, value, leader.lease)],
    failure: [],
  });
  if (!r.succeeded) throw ErrElectionNotLeader();
  return { header: r.header };
}

export async function resign(rpc: V3Rpc, leader: LeaderKey | undefined): Promise<ResignResponse> {
  if (leader === undefined) throw ErrMissingLeaderKey();
  const r = await rpc.txn({
    compare: [createRevisionIs(leader.key, leader.rev)],
    success: [del(leader.key)],
    failure: [],
  });
  return { header: r.header };
}

export async function leader(rpc: V3Rpc, name: Uint8Array): Promise<LeaderResponse> {
  const r = await rpc.range(firstCreated(withSlash(name)));
  const kv = r.kvs[0];
  if (kv === undefined) throw ErrElectionNoLeader();
  return { header: r.header, kv };
}

/**
 * Sends the leader's key-value now and each time it changes (a new value or a new leader), until the
 * signal aborts. With no leader yet, waits for the first candidate to appear.
 */
export async function observe(
  rpc: V3Rpc,
  name: Uint8Array,
  signal: AbortSignal,
  send: (r: LeaderResponse) => Promise<void>,
): Promise<void> {
  const prefix = withSlash(name);
  while (!signal.aborted) {
    const r = await rpc.range(firstCreated(prefix));
    let header: pb.ResponseHeader = r.header!;
    let kv: KeyValue | undefined = r.kvs[0];
    if (kv === undefined) {
      const w = new LocalWatch(rpc, prefix, prefixEnd(prefix), header.revision, signal);
      try {
        while (kv === undefined) {
          const wr = await w.next();
          const ev = wr.events.find((e) => e.type === Event_EventType.PUT);
          if (ev?.kv !== undefined) {
            kv = ev.kv;
            header = { ...wr.header!, revision: kv.modRevision };
          }
        }
      } finally {
        w.close();
      }
    }
    await send({ header, kv });
    const w = new LocalWatch(rpc, kv.key, new Uint8Array(), header.revision + 1n, signal);
    try {
      for (let deleted = false; !deleted; ) {
        const wr = await w.next();
        for (const ev of wr.events) {
          if (ev.type === Event_EventType.DELETE) {
            deleted = true;
            break;
          }
          await send({ header: wr.header, kv: ev.kv });
        }
      }
    } finally {
      w.close();
    }
  }
}
