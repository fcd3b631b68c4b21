// Configuration of one Raft node. Every field's default is what etcd's server uses.

import type { RaftLogger } from "./logger.js";
import type { Rand } from "./rand.js";
import type { Storage } from "./storage.js";
import type { NodeId } from "./types.js";

export enum ReadOnlyOption {
  /** Linearizable reads confirmed by a quorum heartbeat round (the default). */
  Safe = 0,
  /** Reads served on the leader's lease; relies on bounded clock drift. Requires checkQuorum. */
  LeaseBased = 1,
}

export interface Config {
  /** This node's ID; never 0. */
  id: NodeId;
  /** Ticks a follower waits without hearing from a leader before campaigning (randomised in [e, 2e)). */
  electionTick: number;
  /** Ticks between a leader's heartbeats. Must be < electionTick. */
  heartbeatTick: number;
  storage: Storage;
  /** Last applied index, when restarting. Entries up to it are not handed out again. */
  applied?: number;
  /** Upper bound in bytes of entries in one MsgApp (at least one entry is always sent). */
  maxSizePerMsg?: number;
  /** Upper bound in bytes of committed entries in one Ready. */
  maxCommittedSizePerReady?: number;
  /** Upper bound in bytes of uncommitted entries on the leader; proposals beyond are dropped. 0 = no limit. */
  maxUncommittedEntriesSize?: number;
  /** Maximum MsgApp in flight to one follower while replicating optimistically. */
  maxInflightMsgs?: number;
  /** Maximum bytes of entries in flight to one follower. 0 = no limit. */
  maxInflightBytes?: number;
  /** A leader steps down when it has not heard from a quorum within an election timeout. */
  checkQuorum?: boolean;
  /** Run a pre-election first, so a partitioned node cannot disrupt the cluster on rejoining. */
  preVote?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** A leader that is removed from the configuration steps down once the removal is applied. */
  stepDownOnRemoval?: boolean;
  rand: Rand;
  logger?: RaftLogger;
}

export const noLimit = Number.MAX_SAFE_INTEGER;

export function validateConfig(c: Config): void {
  if (c.id === 0n) throw new Error("cannot use none as id");
  if (c.heartbeatTick <= 0) throw new Error("heartbeat tick must be greater than 0");
  if (c.electionTick <= c.heartbeatTick) throw new Error("election tick must be greater than heartbeat tick");
  if ((c.maxInflightMsgs ?? 256) <= 0) throw new Error("max inflight messages must be greater than 0");
  if (c.readOnlyOption === ReadOnlyOption.LeaseBased && !c.checkQuorum) {
    throw new Error("CheckQuorum must be enabled when ReadOnlyOption is ReadOnlyLeaseBased");
  }
}
