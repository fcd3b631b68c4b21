// One handler per trace command. Each handler reads its arguments from the parsed command, acts on the
// environment, and prints into env.out; the runner turns an empty output into "ok". Node IDs are
// small integers in the text and bigints here. Lists are written (1,2,3).
//
// Cluster
//   add-nodes N [voters=(..)] [learners=(..)] [index=I content=S]  N nodes with the next free IDs;
//       index>0 bootstraps from a snapshot at I (term 1) holding the membership and content S;
//       without voters/learners the node starts empty (it joins via the leader). Options:
//       prevote= checkquorum= read-only=safe|lease election-tick=3 heartbeat-tick=1 max-inflight=
//       max-inflight-bytes= max-size-per-msg= max-uncommitted-size= max-committed-size-per-ready=
//       disable-forwarding= step-down-on-removal= seed= (randomized election timeouts)
//   restart ID..            rebuild from storage; everything not persisted is lost
//   set-log ID terms=(..) [term=T] [commit=C]   replace the persisted log (paper figures), restart
//   compact ID I            snapshot the state machine at applied index I, drop entries <= I
// Driving
//   campaign ID..  tick ID.. [n=K]  tick-election ID..  tick-heartbeat ID..
//   propose ID data   propose-conf-change ID [transition=auto|implicit|explicit] v2 l3 r4 u5
//   transfer-leadership from=A to=B   read-index ID ctx   report-unreachable A B
//   report-leader-down A L   (A's host saw leader L's peer URLs refuse connections)
//   report-snapshot A B [ok=true|false]   set-randomized-election-timeout ID timeout=T
// Ready and network
//   process-ready ID..   deliver-msgs [type=MsgApp] [from=ID] [drop=(..)] ID..   stabilize [ID..]
//   isolate ID..   partition (1,2) (3,4,5)   heal        (cut links drop messages on delivery)
// Inspection
//   status ID..   raft-state   raft-log ID..   app-state ID..   timers [ID..]
//   log-level debug|info|warn|error|none   (threshold for the core's log lines; none also hides
//       the harness output, for quiet setup)

import { ReadOnlyOption } from "../../../src/raft/config.js";
import { RaftError } from "../../../src/raft/errors.js";
import { seededRand } from "../../../src/raft/rand.js";
import { MemoryStorage } from "../../../src/raft/storage.js";
import {
  type ConfChange,
  ConfChangeTransition,
  type ConfState,
  type Entry,
  EntryType,
  emptyBytes,
  emptyConfState,
  type NodeId,
} from "../../../src/raft/types.js";
import { type Applied, type InteractionEnv, type Level, type TraceNode, TraceRand } from "./env.js";
import { fmtConfState, fmtEntry, parseConfChangeSingle, stateName } from "./format.js";
import type { Command } from "./runner.js";

const enc = new TextEncoder();

type Handler = (env: InteractionEnv, cmd: Command) => void;

function toId(s: string): NodeId {
  if (!/^\d+$/.test(s)) throw new Error(`bad node id "${s}"`);
  return BigInt(s);
}

function toInt(s: string, what: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`bad ${what} "${s}"`);
  return Number(s);
}

function toBool(s: string): boolean {
  if (s !== "true" && s !== "false") throw new Error(`bad boolean "${s}"`);
  return s === "true";
}

/** The single value of key=value, or undefined. */
function arg(cmd: Command, key: string): string | undefined {
  const v = cmd.args.get(key);
  if (v === undefined) return undefined;
  if (v.length !== 1) throw new Error(`${key} takes one value`);
  return v[0];
}

function intArg(cmd: Command, key: string): number | undefined {
  const v = arg(cmd, key);
  return v === undefined ? undefined : toInt(v, key);
}

function boolArg(cmd: Command, key: string): boolean | undefined {
  const v = arg(cmd, key);
  return v === undefined ? undefined : toBool(v);
}

function idList(cmd: Command, key: string): NodeId[] {
  return (cmd.args.get(key) ?? []).map(toId);
}

/** The positional node IDs; at least `min` of them. */
function posIds(cmd: Command, min = 1): NodeId[] {
  const ids = cmd.pos.map(toId);
  if (ids.length < min) throw new Error(`${cmd.name} needs ${min} node id(s)`);
  return ids;
}

function checkArgs(cmd: Command, allowed: readonly string[]): void {
  for (const k of cmd.args.keys()) {
    if (!allowed.includes(k)) throw new Error(`${cmd.name}: unknown argument ${k}`);
  }
}

/** Runs f, printing a RaftError (proposal dropped, invalid change...) instead of failing the trace. */
function printingErrors(env: InteractionEnv, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof RaftError)) throw e;
    env.out.error(`error: ${e.message}`);
  }
}

/** One line with a node's view of itself: role, hard state, log position and configuration. */
function describeNode(n: TraceNode): string {
  const st = n.rn.status();
  const last = `${n.rn.raft.raftLog.lastTerm()}/${st.lastIndex}`;
  return (
    `${n.id}: ${stateName(st.raftState)} Term:${st.term} Vote:${st.vote} Lead:${st.lead} ` +
    `Commit:${st.commit} Applied:${st.applied} Last:${last} ${fmtConfState(st.config)}`
  );
}

const addNodes: Handler = (env, cmd) => {
  checkArgs(cmd, [
    "voters",
    "learners",
    "index",
    "content",
    "prevote",
    "checkquorum",
    "read-only",
    "election-tick",
    "heartbeat-tick",
    "max-inflight",
    "max-inflight-bytes",
    "max-size-per-msg",
    "max-uncommitted-size",
    "max-committed-size-per-ready",
    "disable-forwarding",
    "step-down-on-removal",
    "seed",
  ]);
  const count = toInt(cmd.pos[0] ?? "", "node count");
  const voters = idList(cmd, "voters");
  const learners = idList(cmd, "learners");
  const index = intArg(cmd, "index") ?? 0;
  const content = arg(cmd, "content") ?? "";
  if (content !== "" && index === 0) throw new Error("content needs index > 0 (it is the snapshot's data)");
  const ro = arg(cmd, "read-only") ?? "safe";
  if (ro !== "safe" && ro !== "lease") throw new Error(`read-only must be safe or lease, not ${ro}`);
  const seed = intArg(cmd, "seed");
  const confState: ConfState = { ...emptyConfState(), voters, learners };
  for (let i = 0; i < count; i++) {
    const id = env.nextId();
    let storage: MemoryStorage;
    let base: Applied;
    if (index > 0) {
      // Bootstrap from a snapshot at `index` (term 1) holding the membership and the content, as a
      // cluster created by a tool would; entries up to `index` are applied and compacted away.
      // The hard state's term must not be below the log's last term (a node never holds an entry of
      // a term it has not seen), so the node starts in term 1 with the snapshot committed.
      storage = new MemoryStorage();
      storage.applySnapshot({ data: enc.encode(content), metadata: { index, term: 1, confState } });
      storage.setHardState({ term: 1, vote: 0n, commit: index });
      base = env.emptyApplied(index, 1, confState, content);
    } else if (voters.length > 0 || learners.length > 0) {
      storage = MemoryStorage.withMembers(voters, learners);
      base = env.emptyApplied(0, 0, confState);
    } else {
      // A node joining later: it learns the membership from the leader (by snapshot or log).
      storage = new MemoryStorage();
      base = env.emptyApplied(0, 0);
    }
    const rand = new TraceRand(seed === undefined ? undefined : seededRand(seed * 1000 + Number(id)));
    const n = env.startNode({
      id,
      storage,
      rand,
      history: [base],
      config: {
        id,
        electionTick: intArg(cmd, "election-tick") ?? 3,
        heartbeatTick: intArg(cmd, "heartbeat-tick") ?? 1,
        storage,
        applied: index,
        maxSizePerMsg: intArg(cmd, "max-size-per-msg") ?? Number.MAX_SAFE_INTEGER,
        maxInflightMsgs: intArg(cmd, "max-inflight") ?? 256,
        maxInflightBytes: intArg(cmd, "max-inflight-bytes") ?? 0,
        maxUncommittedEntriesSize: intArg(cmd, "max-uncommitted-size") ?? 0,
        maxCommittedSizePerReady: intArg(cmd, "max-committed-size-per-ready") ?? Number.MAX_SAFE_INTEGER,
        preVote: boolArg(cmd, "prevote") ?? false,
        checkQuorum: boolArg(cmd, "checkquorum") ?? false,
        readOnlyOption: ro === "lease" ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
        disableProposalForwarding: boolArg(cmd, "disable-forwarding") ?? false,
        stepDownOnRemoval: boolArg(cmd, "step-down-on-removal") ?? false,
        rand,
      },
    });
    env.out.line(describeNode(n));
  }
};

const campaign: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  for (const id of posIds(cmd)) printingErrors(env, () => env.node(id).rn.campaign());
};

function ticker(which: "election" | "heartbeat" | "n"): Handler {
  return (env, cmd) => {
    checkArgs(cmd, which === "n" ? ["n"] : []);
    for (const id of posIds(cmd)) {
      const n = env.node(id);
      const count =
        which === "election"
          ? n.config.electionTick
          : which === "heartbeat"
            ? n.config.heartbeatTick
            : (intArg(cmd, "n") ?? 1);
      for (let i = 0; i < count; i++) n.rn.tick();
    }
  };
}

const propose: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const [id, data] = cmd.pos;
  if (id === undefined || data === undefined) throw new Error("usage: propose ID data");
  printingErrors(env, () => env.node(toId(id)).rn.propose(enc.encode(data)));
};

const proposeConfChange: Handler = (env, cmd) => {
  checkArgs(cmd, ["transition", "context"]);
  const [id, ...changes] = cmd.pos;
  if (id === undefined)
    throw new Error("usage: propose-conf-change ID [transition=auto|implicit|explicit] v2 l3 r4");
  const transitions: Record<string, ConfChangeTransition> = {
    auto: ConfChangeTransition.Auto,
    implicit: ConfChangeTransition.JointImplicit,
    explicit: ConfChangeTransition.JointExplicit,
  };
  const t = arg(cmd, "transition") ?? "auto";
  const transition = transitions[t];
  if (transition === undefined) throw new Error(`unknown transition ${t}`);
  const cc: ConfChange = {
    transition,
    changes: changes.map(parseConfChangeSingle),
    context: enc.encode(arg(cmd, "context") ?? ""),
  };
  printingErrors(env, () => env.node(toId(id)).rn.proposeConfChange(cc));
};

const processReady: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const ids = posIds(cmd);
  for (const id of ids) {
    if (ids.length === 1) {
      env.processReady(id);
      continue;
    }
    env.out.line(`> ${id} handling Ready`);
    env.out.nested(() => env.processReady(id));
  }
};

const deliverMsgs: Handler = (env, cmd) => {
  checkArgs(cmd, ["drop", "type", "from"]);
  const type = arg(cmd, "type");
  const f = arg(cmd, "from");
  const from = f === undefined ? undefined : toId(f);
  let n = 0;
  for (const id of posIds(cmd, 0)) n += env.deliver(id, false, type, from);
  for (const id of idList(cmd, "drop")) n += env.deliver(id, true, type, from);
  if (n === 0) env.out.line("no messages");
};

const stabilize: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  env.stabilize(posIds(cmd, 0));
};

const status: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  for (const id of posIds(cmd)) {
    const n = env.node(id);
    env.out.line(describeNode(n));
    const st = n.rn.status();
    if (st.leadTransferee !== 0n) env.out.line(`  transferring leadership to ${st.leadTransferee}`);
    const ids = [...st.progress.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const pid of ids) env.out.line(`  ${pid}: ${progressLine(n, pid)}`);
  }
};

/** The leader's view of one follower: state, match/next, and the flow-control flags. */
function progressLine(n: TraceNode, id: NodeId): string {
  const pr = n.rn.status().progress.get(id)!;
  let s = `${pr.state} match=${pr.match} next=${pr.next}`;
  if (pr.isLearner) s += " learner";
  if (pr.paused) s += " paused";
  if (pr.pendingSnapshot > 0) s += ` pendingSnap=${pr.pendingSnapshot}`;
  if (!pr.recentActive) s += " inactive";
  if (pr.inflight > 0) s += ` inflight=${pr.inflight}`;
  return s;
}

const raftLog: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const ids = posIds(cmd);
  for (const id of ids) {
    if (ids.length === 1) {
      printLog(env, env.node(id));
      continue;
    }
    env.out.line(`> ${id}`);
    env.out.nested(() => printLog(env, env.node(id)));
  }
};

function printLog(env: InteractionEnv, n: TraceNode): void {
  const first = n.storage.firstIndex();
  const last = n.storage.lastIndex();
  if (last < first) {
    env.out.line(`log is empty: first index=${first}, last index=${last}`);
    return;
  }
  for (const e of n.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER)) env.out.line(fmtEntry(e));
}

const raftState: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  for (const id of env.sortedIds()) {
    const st = env.node(id).rn.status();
    const voter = st.config.voters.includes(id) || st.config.votersOutgoing.includes(id);
    env.out.line(
      `${id}: ${stateName(st.raftState)} (${voter ? "Voter" : "Non-Voter"}) Term:${st.term} Lead:${st.lead}`,
    );
  }
};

const logLevel: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const l = cmd.pos[0];
  if (l !== "debug" && l !== "info" && l !== "warn" && l !== "error" && l !== "none") {
    throw new Error("log-level takes debug, info, warn, error or none");
  }
  env.out.level = l as Level;
};

const compact: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const [id, idx] = cmd.pos;
  const n = env.node(toId(id ?? ""));
  const index = toInt(idx ?? "", "index");
  // A snapshot is the state machine as of an applied index; compaction drops the entries it covers.
  const st = n.history.find((h) => h.index === index);
  if (st === undefined) throw new Error(`node ${n.id} has not applied index ${index}`);
  n.storage.createSnapshot(index, st.confState, enc.encode(st.content));
  n.storage.compact(index);
  printLog(env, n);
};

const transferLeadership: Handler = (env, cmd) => {
  checkArgs(cmd, ["from", "to"]);
  const from = toId(arg(cmd, "from") ?? "");
  const to = toId(arg(cmd, "to") ?? "");
  printingErrors(env, () => env.node(from).rn.transferLeader(to));
};

const readIndex: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const [id, ctx] = cmd.pos;
  if (id === undefined || ctx === undefined) throw new Error("usage: read-index ID ctx");
  printingErrors(env, () => env.node(toId(id)).rn.readIndex(enc.encode(ctx)));
};

const reportUnreachable: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const [a, b] = posIds(cmd, 2);
  env.node(a!).rn.reportUnreachable(b!);
};

const reportLeaderDown: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const [a, b] = posIds(cmd, 2);
  env.node(a!).rn.reportLeaderDown(b!);
};

const reportSnapshot: Handler = (env, cmd) => {
  checkArgs(cmd, ["ok"]);
  const [a, b] = posIds(cmd, 2);
  env.node(a!).rn.reportSnapshot(b!, boolArg(cmd, "ok") ?? true);
};

/**
 * Restarts a node from its storage: everything not persisted (unstable entries, pending proposals,
 * progress, read requests, elapsed ticks) is lost. The state machine restarts from the storage's
 * snapshot and committed entries after it are applied again.
 */
const restart: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  for (const id of posIds(cmd)) {
    const n = env.node(id);
    const snapIndex = n.storage.firstIndex() - 1;
    const history = n.history.filter((h) => h.index <= snapIndex);
    if (history.length === 0 || history[history.length - 1]!.index !== snapIndex) {
      throw new Error(`node ${id} has no applied state at its snapshot index ${snapIndex}`);
    }
    const started = env.startNode({ ...n, history, config: { ...n.config, applied: snapIndex } });
    env.out.line(describeNode(started));
  }
};

/**
 * Replaces a node's persisted log with entries of the given terms at indexes 1, 2, ... (empty normal
 * entries), sets its term, then restarts it. Used to set up the paper's figures directly.
 */
const setLog: Handler = (env, cmd) => {
  checkArgs(cmd, ["terms", "term", "commit"]);
  const n = env.node(posIds(cmd)[0]!);
  const terms = (cmd.args.get("terms") ?? []).map((t) => toInt(t, "term"));
  const cs = n.history[0]!.confState;
  const storage = MemoryStorage.withMembers(cs.voters, cs.learners);
  const ents: Entry[] = terms.map((term, i) => ({
    term,
    index: i + 1,
    type: EntryType.Normal,
    data: emptyBytes,
  }));
  storage.append(ents);
  const term = Math.max(intArg(cmd, "term") ?? 0, terms[terms.length - 1] ?? 0);
  storage.setHardState({ term, vote: 0n, commit: intArg(cmd, "commit") ?? 0 });
  const started = env.startNode({
    ...n,
    storage,
    history: [env.emptyApplied(0, 0, cs)],
    config: { ...n.config, storage, applied: 0 },
  });
  env.out.line(describeNode(started));
};

function parseGroup(tok: string): NodeId[] {
  const inner = tok.startsWith("(") && tok.endsWith(")") ? tok.slice(1, -1) : tok;
  return inner
    .split(/[\s,]+/)
    .filter((s) => s !== "")
    .map(toId);
}

/** Cuts both directions of every link between the given node and all others. */
const isolate: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  for (const id of posIds(cmd)) {
    for (const other of env.sortedIds()) {
      if (other === id) continue;
      env.cut.add(`${id}->${other}`);
      env.cut.add(`${other}->${id}`);
    }
  }
};

/** `partition (1,2) (3,4,5)`: cuts every link between nodes of different groups. */
const partition: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const groups = cmd.pos.map(parseGroup);
  for (let i = 0; i < groups.length; i++) {
    for (let j = 0; j < groups.length; j++) {
      if (i === j) continue;
      for (const a of groups[i]!) for (const b of groups[j]!) env.cut.add(`${a}->${b}`);
    }
  }
};

const heal: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  env.cut.clear();
};

const setRandomizedElectionTimeout: Handler = (env, cmd) => {
  checkArgs(cmd, ["timeout"]);
  const n = env.node(posIds(cmd)[0]!);
  const timeout = intArg(cmd, "timeout");
  const et = n.config.electionTick;
  if (timeout === undefined || timeout < et || timeout >= 2 * et) {
    throw new Error(`timeout must be in [${et}, ${2 * et})`);
  }
  // Like a reset would: the value holds until the node's next role change, which draws a new one.
  n.rn.raft.randomizedElectionTimeout = timeout;
};

/** Each node's election clock: ticks since the last reset against its randomized timeout. */
const timers: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  const ids = cmd.pos.length > 0 ? posIds(cmd) : env.sortedIds();
  for (const id of ids) {
    const r = env.node(id).rn.raft;
    env.out.line(`${id}: election elapsed=${r.electionElapsed} timeout=${r.randomizedElectionTimeout}`);
  }
};

const appState: Handler = (env, cmd) => {
  checkArgs(cmd, []);
  for (const id of posIds(cmd)) {
    const a = env.applied(env.node(id));
    env.out.line(
      `${id}: applied=${a.index} content=${JSON.stringify(a.content)} ${fmtConfState(a.confState)}`,
    );
  }
};

export const handlers: Record<string, Handler> = {
  "add-nodes": addNodes,
  campaign,
  tick: ticker("n"),
  "tick-election": ticker("election"),
  "tick-heartbeat": ticker("heartbeat"),
  propose,
  "propose-conf-change": proposeConfChange,
  "process-ready": processReady,
  "deliver-msgs": deliverMsgs,
  stabilize,
  status,
  "raft-log": raftLog,
  "raft-state": raftState,
  "log-level": logLevel,
  compact,
  "transfer-leadership": transferLeadership,
  "read-index": readIndex,
  "report-unreachable": reportUnreachable,
  "report-snapshot": reportSnapshot,
  "report-leader-down": reportLeaderDown,
  restart,
  "set-log": setLog,
  isolate,
  partition,
  heal,
  "set-randomized-election-timeout": setRandomizedElectionTimeout,
  "app-state": appState,
  timers,
};
