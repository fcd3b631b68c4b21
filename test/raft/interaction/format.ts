// Compact, deterministic text forms of Raft values for interaction traces.
//
// Every function here is pure and prints fields in a fixed order, so a trace changes only when
// behaviour does. No output line is ever empty (a blank line ends a block in the trace file).

import { decodeConfChange } from "../../../src/raft/codec.js";
import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type Snapshot,
} from "../../../src/raft/types.js";

const decoder = new TextDecoder();

/** Byte strings print as JSON string literals: printable, unambiguous, and quotes are escaped. */
export function fmtBytes(b: Uint8Array): string {
  return JSON.stringify(decoder.decode(b));
}

const changeLetter: Record<ConfChangeType, string> = {
  [ConfChangeType.AddNode]: "v",
  [ConfChangeType.AddLearnerNode]: "l",
  [ConfChangeType.RemoveNode]: "r",
  [ConfChangeType.UpdateNode]: "u",
};

const letterChange: Record<string, ConfChangeType> = {
  v: ConfChangeType.AddNode,
  l: ConfChangeType.AddLearnerNode,
  r: ConfChangeType.RemoveNode,
  u: ConfChangeType.UpdateNode,
};

/** Parses `v2`, `l4`, `r5`, `u3` (add voter, add learner, remove, update) into a single change. */
export function parseConfChangeSingle(tok: string): ConfChangeSingle {
  const type = letterChange[tok[0] ?? ""];
  const id = tok.slice(1);
  if (type === undefined || !/^\d+$/.test(id))
    throw new Error(`bad conf change "${tok}" (want v2, l3, r4 or u5)`);
  return { type, nodeId: BigInt(id) };
}

export function fmtConfChange(cc: ConfChange): string {
  const parts: string[] = [];
  if (cc.transition === ConfChangeTransition.JointImplicit) parts.push("transition=implicit");
  if (cc.transition === ConfChangeTransition.JointExplicit) parts.push("transition=explicit");
  for (const c of cc.changes) parts.push(`${changeLetter[c.type]}${c.nodeId}`);
  // An empty auto change is the request to leave a joint configuration.
  if (parts.length === 0) parts.push("<leave-joint>");
  return parts.join(" ");
}

export function fmtEntry(e: Entry): string {
  const head = `${e.term}/${e.index}`;
  if (e.type === EntryType.ConfChange) {
    let body: string;
    try {
      body = fmtConfChange(decodeConfChange(e.data));
    } catch (err) {
      body = `<undecodable: ${err instanceof Error ? err.message : String(err)}>`;
    }
    return `${head} EntryConfChange ${body}`;
  }
  return `${head} EntryNormal ${fmtBytes(e.data)}`;
}

export function fmtEntries(ents: readonly Entry[]): string {
  return `[${ents.map(fmtEntry).join(", ")}]`;
}

function ids(xs: readonly bigint[]): string {
  return [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(" ");
}

/** `voters=(1 2 3)&&(1 2) learners=(4) learners_next=(3) autoleave`: the joint half only when joint. */
export function fmtConfState(cs: ConfState): string {
  let s = `voters=(${ids(cs.voters)})`;
  if (cs.votersOutgoing.length > 0) s += `&&(${ids(cs.votersOutgoing)})`;
  if (cs.learners.length > 0) s += ` learners=(${ids(cs.learners)})`;
  if (cs.learnersNext.length > 0) s += ` learners_next=(${ids(cs.learnersNext)})`;
  if (cs.autoLeave) s += " autoleave";
  return s;
}

export function fmtSnapshot(s: Snapshot): string {
  const md = s.metadata;
  return `Index:${md.index} Term:${md.term} ${fmtConfState(md.confState)} Data:${fmtBytes(s.data)}`;
}

export function fmtHardState(hs: HardState): string {
  return `Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`;
}

/**
 * `1->2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal "foo"]`. Log is logTerm/index, always
 * printed; Commit, rejection, context, entries and snapshot only when set.
 */
export function fmtMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${MessageType[m.type]} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  // Only append rejections carry a meaningful hint.
  if (m.reject) s += m.type === MessageType.MsgAppResp ? ` Rejected (Hint: ${m.rejectHint})` : " Rejected";
  if (m.context.length > 0) s += ` Context:${fmtBytes(m.context)}`;
  if (m.entries.length > 0) s += ` Entries:${fmtEntries(m.entries)}`;
  if (m.snapshot !== undefined && m.snapshot.metadata.index > 0)
    s += ` Snapshot:{${fmtSnapshot(m.snapshot)}}`;
  return s;
}

export function stateName(s: number): string {
  return ["StateFollower", "StateCandidate", "StateLeader", "StatePreCandidate"][s] ?? `State(${s})`;
}
