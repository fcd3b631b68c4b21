// Compact binary encoding of the Raft wire types, shared by the transport and the WAL.
//
// Every top-level encoding starts with a one-byte format version (FORMAT_VERSION). After it:
//
//   Message           type flags [to] [from] [term] [logTerm] [index] [entries] [commit]
//                     [rejectHint] [context] [snapshot]
//   Entry             term index type data
//   Entries           count Entry*
//   HardState         term vote commit
//   ConfState         voters learners votersOutgoing learnersNext autoLeave
//   SnapshotMetadata  ConfState index term
//   Snapshot          SnapshotMetadata data
//   ConfChange        transition count (type nodeId)* context
//
// Numbers (terms, indexes, counts, lengths, enum values) are unsigned LEB128 varints; node IDs are
// varints over the full uint64 range; byte arrays and ID lists are a varint length then the items;
// booleans are one byte, 0 or 1. A message's `flags` varint has one bit per optional field (MSG_*
// below) and only fields whose bit is set follow, in the order shown; `reject` is a bit with no
// payload. A message with small IDs and no optional payload thus costs a handful of bytes.
//
// Decoding checks structure, not meaning: truncated input, trailing bytes, an unknown version, flag
// or enum value, a boolean byte other than 0/1, or a number past 2^53-1 (2^64-1 for node IDs) throws
// CodecError. Corrupted input may still decode to a different valid value: detecting corruption is the
// job of the WAL's and the transport's checksums.
//
// Decoded byte fields (entry data, contexts, snapshot data) are views into the input buffer, not
// copies: callers that reuse or mutate the input must copy the fields they keep. Empty fields are the
// shared `emptyBytes`, so they pin no input buffer.

import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  emptyBytes,
  type HardState,
  type Message,
  MessageType,
  type NodeId,
  None,
  type Snapshot,
  type SnapshotMetadata,
} from "./types.js";

/** Thrown on malformed input to a decoder, or on a value an encoder cannot represent. */
export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CodecError";
  }
}

export const FORMAT_VERSION = 1;

const MSG_TO = 1 << 0;
const MSG_FROM = 1 << 1;
const MSG_TERM = 1 << 2;
const MSG_LOG_TERM = 1 << 3;
const MSG_INDEX = 1 << 4;
const MSG_COMMIT = 1 << 5;
const MSG_ENTRIES = 1 << 6;
// Bits from 7 on cost a second flags byte: they are kept for fields that are rarely set.
const MSG_REJECT = 1 << 7;
const MSG_REJECT_HINT = 1 << 8;
const MSG_CONTEXT = 1 << 9;
const MSG_SNAPSHOT = 1 << 10;
/** Every bit below this is a known flag; a larger flags value names an unknown field. */
const MSG_FLAGS_LIMIT = 1 << 11;

const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
/** A number varint carries at most 53 bits, so it is at most 8 bytes. */
const MAX_UINT_BYTES = 8;

/** Number of values of a dense numeric enum (values 0..n-1). */
function enumSize(e: object): number {
  return Object.values(e).filter((v) => typeof v === "number").length;
}
const MESSAGE_TYPES = enumSize(MessageType);
const ENTRY_TYPES = enumSize(EntryType);
const CONF_CHANGE_TYPES = enumSize(ConfChangeType);
const CONF_CHANGE_TRANSITIONS = enumSize(ConfChangeTransition);

function invalid(what: string, v: unknown): never {
  const shown = typeof v === "bigint" ? `${v}n` : String(v);
  throw new CodecError(`codec: cannot encode ${what}: ${shown} is out of range`);
}

// The writer grows by doubling; one module-level instance is reused by every encode, whose result is
// an exact-size copy, so steady-state encoding allocates only its output.
const INITIAL_CAPACITY = 4096;
/** A scratch buffer grown past this (by a large snapshot) is dropped after use, not retained. */
const RETAIN_LIMIT = 4 << 20;

class Writer {
  buf = new Uint8Array(INITIAL_CAPACITY);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }

  private grow(need: number): void {
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bool(v: boolean, what: string): void {
    if (typeof v !== "boolean") invalid(what, v);
    this.byte(v ? 1 : 0);
  }

  uint(v: number, what: string): void {
    if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v))) invalid(what, v);
    this.ensure(MAX_UINT_BYTES);
    const buf = this.buf;
    let pos = this.pos;
    // `v & 0x7f` is exact for any integer: ToInt32 keeps the low 32 bits.
    while (v > 0x7fff_ffff) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  enumValue(v: number, size: number, what: string): void {
    if (!(Number.isInteger(v) && v >= 0 && v < size)) invalid(what, v);
    this.uint(v, what);
  }

  bigUint(v: bigint, what: string): void {
    if (typeof v !== "bigint" || v < 0n || v > MAX_UINT64) invalid(what, v);
    if (v <= MAX_SAFE_BIG) {
      this.uint(Number(v), what);
      return;
    }
    // v >= 2^53, so hi >= 2^21: the varint is at least 8 bytes and the fifth byte always continues.
    let lo = Number(v & 0xffff_ffffn);
    let hi = Number(v >> 32n);
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < 4; i++) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo | ((hi & 0x07) << 4) | 0x80;
    hi >>>= 3;
    while (hi >= 0x80) {
      buf[pos++] = (hi & 0x7f) | 0x80;
      hi >>>= 7;
    }
    buf[pos++] = hi;
    this.pos = pos;
  }

  bytes(data: Uint8Array, what: string): void {
    const n = data.length;
    this.uint(n, what);
    this.ensure(n);
    this.buf.set(data, this.pos);
    this.pos += n;
  }

  ids(ids: readonly NodeId[], what: string): void {
    this.uint(ids.length, what);
    for (const id of ids) this.bigUint(id, what);
  }

  /** Returns an exact-size copy of what was written and resets for the next encoding. */
  finish(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    if (this.buf.length > RETAIN_LIMIT) this.buf = new Uint8Array(INITIAL_CAPACITY);
    this.pos = 0;
    return out;
  }
}

const scratch = new Writer();

function encode<T>(write: (w: Writer, v: T) => void, v: T): Uint8Array {
  // Reset first: a previous encode may have thrown midway on an invalid value.
  scratch.pos = 0;
  scratch.byte(FORMAT_VERSION);
  write(scratch, v);
  return scratch.finish();
}

class Reader {
  readonly buf: Uint8Array;
  readonly end: number;
  pos = 0;

  constructor(input: Uint8Array) {
    // Views handed out must be plain Uint8Arrays even when the input is a Buffer or other subclass.
    this.buf =
      Object.getPrototypeOf(input) === Uint8Array.prototype
        ? input
        : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.end = this.buf.length;
  }

  truncated(what: string, at: number): never {
    throw new CodecError(`codec: truncated input reading ${what} at offset ${at} (length ${this.end})`);
  }

  bad(what: string, detail: string, at: number): never {
    throw new CodecError(`codec: invalid ${what} at offset ${at}: ${detail}`);
  }

  byte(what: string): number {
    if (this.pos >= this.end) this.truncated(what, this.pos);
    return this.buf[this.pos++];
  }

  bool(what: string): boolean {
    const at = this.pos;
    const b = this.byte(what);
    if (b > 1) this.bad(what, `boolean byte ${b}`, at);
    return b === 1;
  }

  uint(what: string): number {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    if (pos < this.end && buf[pos] < 0x80) {
      this.pos = pos + 1;
      return buf[pos];
    }
    let result = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (pos >= this.end) this.truncated(what, start);
      const b = buf[pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) break;
      if (i === MAX_UINT_BYTES - 1) this.bad(what, "varint longer than 8 bytes", start);
      scale *= 128;
    }
    // Rounding is monotonic, so an inexact sum of a value >= 2^53 still lands above MAX_SAFE_INTEGER.
    if (result > Number.MAX_SAFE_INTEGER) this.bad(what, "number exceeds 2^53-1", start);
    this.pos = pos;
    return result;
  }

  enumValue(size: number, what: string): number {
    const at = this.pos;
    const v = this.uint(what);
    if (v >= size) this.bad(what, `unknown value ${v}`, at);
    return v;
  }

  /** A count of items that each take at least one byte, so it cannot exceed the bytes left. */
  count(what: string): number {
    const at = this.pos;
    const n = this.uint(what);
    if (n > this.end - this.pos) this.truncated(`${what} (${n} items)`, at);
    return n;
  }

  bigUint(what: string): bigint {
    const buf = this.buf;
    const end = this.end;
    const start = this.pos;
    let pos = start;
    let b = 0;
    let lo = 0;
    // Bytes 0-3 carry bits 0-27.
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.truncated(what, start);
      b = buf[pos++];
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return BigInt(lo);
      }
    }
    // Byte 4 carries bits 28-31 (into lo) and 32-34 (into hi); bytes 5-9 carry bits 35-63.
    if (pos >= end) this.truncated(what, start);
    b = buf[pos++];
    lo = (lo | ((b & 0x0f) << 28)) >>> 0;
    let hi = (b & 0x7f) >>> 4;
    for (let shift = 3; b >= 0x80; shift += 7) {
      if (pos >= end) this.truncated(what, start);
      b = buf[pos++];
      if (shift === 31 && b > 1) this.bad(what, "node ID exceeds 2^64-1", start);
      hi |= (b & 0x7f) << shift;
    }
    hi >>>= 0;
    this.pos = pos;
    return hi < 0x20_0000 ? BigInt(hi * 0x1_0000_0000 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  bytes(what: string): Uint8Array {
    const at = this.pos;
    const n = this.uint(what);
    if (n === 0) return emptyBytes;
    if (n > this.end - this.pos) this.truncated(`${what} (${n} bytes)`, at);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  ids(what: string): NodeId[] {
    const n = this.count(what);
    const out: NodeId[] = [];
    for (let i = 0; i < n; i++) out.push(this.bigUint(what));
    return out;
  }
}

function decode<T>(input: Uint8Array, read: (r: Reader) => T, what: string): T {
  const r = new Reader(input);
  const at = r.pos;
  const version = r.byte(`${what} format version`);
  if (version !== FORMAT_VERSION) r.bad(`${what} format version`, `unsupported version ${version}`, at);
  const out = read(r);
  if (r.pos !== r.end) {
    throw new CodecError(`codec: ${r.end - r.pos} trailing bytes after ${what} at offset ${r.pos}`);
  }
  return out;
}

function writeEntry(w: Writer, e: Entry): void {
  w.uint(e.term, "entry term");
  w.uint(e.index, "entry index");
  w.enumValue(e.type, ENTRY_TYPES, "entry type");
  w.bytes(e.data, "entry data");
}

function readEntry(r: Reader): Entry {
  const term = r.uint("entry term");
  const index = r.uint("entry index");
  const type: EntryType = r.enumValue(ENTRY_TYPES, "entry type");
  const data = r.bytes("entry data");
  return { term, index, type, data };
}

function writeEntries(w: Writer, ents: readonly Entry[]): void {
  w.uint(ents.length, "entry count");
  for (const e of ents) writeEntry(w, e);
}

function readEntries(r: Reader): Entry[] {
  const n = r.count("entry count");
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push(readEntry(r));
  return out;
}

function writeHardState(w: Writer, hs: HardState): void {
  w.uint(hs.term, "hard state term");
  w.bigUint(hs.vote, "hard state vote");
  w.uint(hs.commit, "hard state commit");
}

function readHardState(r: Reader): HardState {
  const term = r.uint("hard state term");
  const vote = r.bigUint("hard state vote");
  const commit = r.uint("hard state commit");
  return { term, vote, commit };
}

function writeConfState(w: Writer, cs: ConfState): void {
  w.ids(cs.voters, "conf state voters");
  w.ids(cs.learners, "conf state learners");
  w.ids(cs.votersOutgoing, "conf state outgoing voters");
  w.ids(cs.learnersNext, "conf state next learners");
  w.bool(cs.autoLeave, "conf state autoLeave");
}

function readConfState(r: Reader): ConfState {
  const voters = r.ids("conf state voters");
  const learners = r.ids("conf state learners");
  const votersOutgoing = r.ids("conf state outgoing voters");
  const learnersNext = r.ids("conf state next learners");
  const autoLeave = r.bool("conf state autoLeave");
  return { voters, learners, votersOutgoing, learnersNext, autoLeave };
}

function writeSnapshotMetadata(w: Writer, md: SnapshotMetadata): void {
  writeConfState(w, md.confState);
  w.uint(md.index, "snapshot index");
  w.uint(md.term, "snapshot term");
}

function readSnapshotMetadata(r: Reader): SnapshotMetadata {
  const confState = readConfState(r);
  const index = r.uint("snapshot index");
  const term = r.uint("snapshot term");
  return { confState, index, term };
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  writeSnapshotMetadata(w, s.metadata);
  w.bytes(s.data, "snapshot data");
}

function readSnapshot(r: Reader): Snapshot {
  const metadata = readSnapshotMetadata(r);
  const data = r.bytes("snapshot data");
  return { data, metadata };
}

function writeConfChange(w: Writer, cc: ConfChange): void {
  w.enumValue(cc.transition, CONF_CHANGE_TRANSITIONS, "conf change transition");
  w.uint(cc.changes.length, "conf change count");
  for (const c of cc.changes) {
    w.enumValue(c.type, CONF_CHANGE_TYPES, "conf change type");
    w.bigUint(c.nodeId, "conf change node ID");
  }
  w.bytes(cc.context, "conf change context");
}

function readConfChange(r: Reader): ConfChange {
  const transition: ConfChangeTransition = r.enumValue(CONF_CHANGE_TRANSITIONS, "conf change transition");
  const n = r.count("conf change count");
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < n; i++) {
    const type: ConfChangeType = r.enumValue(CONF_CHANGE_TYPES, "conf change type");
    const nodeId = r.bigUint("conf change node ID");
    changes.push({ type, nodeId });
  }
  const context = r.bytes("conf change context");
  return { transition, changes, context };
}

function writeMessage(w: Writer, m: Message): void {
  w.enumValue(m.type, MESSAGE_TYPES, "message type");
  if (typeof m.reject !== "boolean") invalid("message reject", m.reject);
  // A field is written when it differs from its zero value; anything invalid then fails its write.
  const flags =
    (m.to !== None ? MSG_TO : 0) |
    (m.from !== None ? MSG_FROM : 0) |
    (m.term !== 0 ? MSG_TERM : 0) |
    (m.logTerm !== 0 ? MSG_LOG_TERM : 0) |
    (m.index !== 0 ? MSG_INDEX : 0) |
    (m.commit !== 0 ? MSG_COMMIT : 0) |
    (m.entries.length !== 0 ? MSG_ENTRIES : 0) |
    (m.reject ? MSG_REJECT : 0) |
    (m.rejectHint !== 0 ? MSG_REJECT_HINT : 0) |
    (m.context.length !== 0 ? MSG_CONTEXT : 0) |
    (m.snapshot !== undefined ? MSG_SNAPSHOT : 0);
  w.uint(flags, "message flags");
  if (flags & MSG_TO) w.bigUint(m.to, "message to");
  if (flags & MSG_FROM) w.bigUint(m.from, "message from");
  if (flags & MSG_TERM) w.uint(m.term, "message term");
  if (flags & MSG_LOG_TERM) w.uint(m.logTerm, "message logTerm");
  if (flags & MSG_INDEX) w.uint(m.index, "message index");
  if (flags & MSG_ENTRIES) writeEntries(w, m.entries);
  if (flags & MSG_COMMIT) w.uint(m.commit, "message commit");
  if (flags & MSG_REJECT_HINT) w.uint(m.rejectHint, "message rejectHint");
  if (flags & MSG_CONTEXT) w.bytes(m.context, "message context");
  if (m.snapshot !== undefined) writeSnapshot(w, m.snapshot);
}

function readMessage(r: Reader): Message {
  const type: MessageType = r.enumValue(MESSAGE_TYPES, "message type");
  const at = r.pos;
  const flags = r.uint("message flags");
  if (flags >= MSG_FLAGS_LIMIT) r.bad("message flags", `unknown flags ${flags.toString(2)}`, at);
  // Properties are read in encoding order: object literals evaluate in source order.
  const m: Message = {
    type,
    to: flags & MSG_TO ? r.bigUint("message to") : None,
    from: flags & MSG_FROM ? r.bigUint("message from") : None,
    term: flags & MSG_TERM ? r.uint("message term") : 0,
    logTerm: flags & MSG_LOG_TERM ? r.uint("message logTerm") : 0,
    index: flags & MSG_INDEX ? r.uint("message index") : 0,
    entries: flags & MSG_ENTRIES ? readEntries(r) : [],
    commit: flags & MSG_COMMIT ? r.uint("message commit") : 0,
    reject: (flags & MSG_REJECT) !== 0,
    rejectHint: flags & MSG_REJECT_HINT ? r.uint("message rejectHint") : 0,
    context: flags & MSG_CONTEXT ? r.bytes("message context") : emptyBytes,
  };
  if (flags & MSG_SNAPSHOT) m.snapshot = readSnapshot(r);
  return m;
}

export function encodeMessage(m: Message): Uint8Array {
  return encode(writeMessage, m);
}

/** Byte fields of the result are views into `buf` (see the file comment). */
export function decodeMessage(buf: Uint8Array): Message {
  return decode(buf, readMessage, "message");
}

export function encodeEntry(e: Entry): Uint8Array {
  return encode(writeEntry, e);
}

/** `data` of the result is a view into `buf`. */
export function decodeEntry(buf: Uint8Array): Entry {
  return decode(buf, readEntry, "entry");
}

export function encodeEntries(ents: readonly Entry[]): Uint8Array {
  return encode(writeEntries, ents);
}

/** `data` of each entry is a view into `buf`. */
export function decodeEntries(buf: Uint8Array): Entry[] {
  return decode(buf, readEntries, "entries");
}

export function encodeHardState(hs: HardState): Uint8Array {
  return encode(writeHardState, hs);
}

export function decodeHardState(buf: Uint8Array): HardState {
  return decode(buf, readHardState, "hard state");
}

export function encodeConfState(cs: ConfState): Uint8Array {
  return encode(writeConfState, cs);
}

export function decodeConfState(buf: Uint8Array): ConfState {
  return decode(buf, readConfState, "conf state");
}

export function encodeSnapshotMetadata(md: SnapshotMetadata): Uint8Array {
  return encode(writeSnapshotMetadata, md);
}

export function decodeSnapshotMetadata(buf: Uint8Array): SnapshotMetadata {
  return decode(buf, readSnapshotMetadata, "snapshot metadata");
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  return encode(writeSnapshot, s);
}

/** `data` of the result is a view into `buf`. */
export function decodeSnapshot(buf: Uint8Array): Snapshot {
  return decode(buf, readSnapshot, "snapshot");
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encode(writeConfChange, cc);
}

/** `context` of the result is a view into `buf`. */
export function decodeConfChange(buf: Uint8Array): ConfChange {
  return decode(buf, readConfChange, "conf change");
}
