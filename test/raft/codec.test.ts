import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  CodecError,
  decodeConfChange,
  decodeConfState,
  decodeEntries,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfState,
  encodeEntries,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  encodeSnapshotMetadata,
  FORMAT_VERSION,
} from "../../src/raft/codec.js";
import {
  type ConfChange,
  ConfChangeTransition,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  emptyConfState,
  type HardState,
  type Message,
  MessageType,
  msg,
  type Snapshot,
  type SnapshotMetadata,
} from "../../src/raft/types.js";

const MAX_UINT64 = 0xffff_ffff_ffff_ffffn;

function enumValues(e: object): number[] {
  return Object.values(e).filter((v): v is number => typeof v === "number");
}

// Boundaries of the varint byte lengths and of the number/bigint fast paths are weighted in.
const nodeId = fc.oneof(
  fc.constantFrom(
    0n,
    1n,
    127n,
    128n,
    2n ** 32n - 1n,
    2n ** 32n,
    2n ** 53n - 1n,
    2n ** 53n,
    2n ** 63n,
    MAX_UINT64,
  ),
  fc.bigInt({ min: 0n, max: 1000n }),
  fc.bigInt({ min: 0n, max: MAX_UINT64 }),
);
const u53 = fc.oneof(
  fc.constantFrom(0, 1, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 49, Number.MAX_SAFE_INTEGER),
  fc.nat(1000),
  fc.maxSafeNat(),
);
const bytes = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 300 }));
const ids = fc.array(nodeId, { maxLength: 7 });

// Plain objects only: decoders build ordinary objects, and deepStrictEqual compares prototypes.
const plain = { noNullPrototype: true };

const entry: fc.Arbitrary<Entry> = fc.record(
  {
    term: u53,
    index: u53,
    type: fc.constantFrom(...(enumValues(EntryType) as EntryType[])),
    data: bytes,
  },
  plain,
);
const entries = fc.array(entry, { maxLength: 8 });
const hardState: fc.Arbitrary<HardState> = fc.record({ term: u53, vote: nodeId, commit: u53 }, plain);
const confState: fc.Arbitrary<ConfState> = fc.record(
  {
    voters: ids,
    learners: ids,
    votersOutgoing: ids,
    learnersNext: ids,
    autoLeave: fc.boolean(),
  },
  plain,
);
const snapshotMetadata: fc.Arbitrary<SnapshotMetadata> = fc.record(
  { confState, index: u53, term: u53 },
  plain,
);
const snapshot: fc.Arbitrary<Snapshot> = fc.record({ data: bytes, metadata: snapshotMetadata }, plain);
const confChange: fc.Arbitrary<ConfChange> = fc.record(
  {
    transition: fc.constantFrom(...(enumValues(ConfChangeTransition) as ConfChangeTransition[])),
    changes: fc.array(
      fc.record(
        { type: fc.constantFrom(...(enumValues(ConfChangeType) as ConfChangeType[])), nodeId },
        plain,
      ),
      { maxLength: 6 },
    ),
    context: bytes,
  },
  plain,
);
// Each optional field is either at its zero value (and skipped by the encoding) or arbitrary.
const message: fc.Arbitrary<Message> = fc
  .record(
    {
      type: fc.constantFrom(...(enumValues(MessageType) as MessageType[])),
      to: nodeId,
      from: nodeId,
      term: u53,
      logTerm: u53,
      index: u53,
      entries,
      commit: u53,
      reject: fc.boolean(),
      rejectHint: u53,
      context: bytes,
      snapshot,
    },
    { requiredKeys: ["type"], noNullPrototype: true },
  )
  .map((m) => msg(m));

interface Codec<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  encode: (v: T) => Uint8Array;
  decode: (b: Uint8Array) => T;
}

function codec<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  encode: (v: T) => Uint8Array,
  decode: (b: Uint8Array) => T,
): Codec<unknown> {
  return { name, arb, encode, decode } as Codec<unknown>;
}

const codecs: Codec<unknown>[] = [
  codec("Message", message, encodeMessage, decodeMessage),
  codec("Entry", entry, encodeEntry, decodeEntry),
  codec("Entries", entries, encodeEntries, decodeEntries),
  codec("HardState", hardState, encodeHardState, decodeHardState),
  codec("ConfState", confState, encodeConfState, decodeConfState),
  codec("SnapshotMetadata", snapshotMetadata, encodeSnapshotMetadata, decodeSnapshotMetadata),
  codec("Snapshot", snapshot, encodeSnapshot, decodeSnapshot),
  codec("ConfChange", confChange, encodeConfChange, decodeConfChange),
];

function decodesOrCodecError(decode: (b: Uint8Array) => unknown, buf: Uint8Array): void {
  try {
    decode(buf);
  } catch (err) {
    if (!(err instanceof CodecError)) throw err;
  }
}

function entriesOf(n: number, size: number, firstIndex = 1): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ term: 7, index: firstIndex + i, type: EntryType.Normal, data: new Uint8Array(size).fill(i) });
  }
  return out;
}

// Messages of each shape the transport sends, for the exhaustive truncation tests.
const samples: Message[] = [
  msg({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 5, commit: 100 }),
  msg({
    type: MessageType.MsgApp,
    to: 0x8e9e05c52164694dn,
    from: MAX_UINT64,
    term: 3,
    logTerm: 3,
    index: 41,
    commit: 40,
    entries: entriesOf(3, 20, 42),
  }),
  msg({ type: MessageType.MsgAppResp, to: 1n, from: 3n, term: 9, index: 12, reject: true, rejectHint: 10 }),
  msg({
    type: MessageType.MsgSnap,
    to: 3n,
    from: 1n,
    term: 4,
    snapshot: {
      data: new Uint8Array([1, 2, 3, 4, 5]),
      metadata: {
        index: 2 ** 40,
        term: 4,
        confState: { ...emptyConfState(), voters: [1n, 2n, MAX_UINT64], learners: [4n], autoLeave: true },
      },
    },
  }),
  msg({ type: MessageType.MsgReadIndex, to: 1n, from: 2n, context: new Uint8Array([9, 9, 9]) }),
];

describe("codec round trip", () => {
  for (const c of codecs) {
    test(c.name, () => {
      fc.assert(
        fc.property(c.arb, (v) => {
          assert.deepStrictEqual(c.decode(c.encode(v)), v);
        }),
        { numRuns: 300 },
      );
    });
  }

  test("every message type", () => {
    for (const type of enumValues(MessageType) as MessageType[]) {
      const m = msg({ type, to: 1n, from: 2n, term: 3 });
      assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m);
    }
  });

  test("node IDs at the uint64 boundaries encode exactly", () => {
    const cases: [bigint, number][] = [
      [0n, 1],
      [127n, 1],
      [128n, 2],
      [2n ** 53n - 1n, 8],
      [2n ** 53n, 8],
      [2n ** 56n, 9],
      [2n ** 63n, 10],
      [MAX_UINT64, 10],
    ];
    for (const [vote, size] of cases) {
      const buf = encodeHardState({ term: 0, vote, commit: 0 });
      assert.equal(buf.length, 1 + 1 + size + 1, `size of ${vote}`);
      assert.equal(decodeHardState(buf).vote, vote);
    }
  });

  test("max uint64 is ten bytes ending in 0x01", () => {
    const buf = encodeHardState({ term: 0, vote: MAX_UINT64, commit: 0 });
    assert.deepStrictEqual(
      [...buf],
      [FORMAT_VERSION, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0],
    );
  });

  test("the snapshot's presence survives, even when empty", () => {
    const m = msg({
      type: MessageType.MsgSnap,
      snapshot: { data: new Uint8Array(0), metadata: { confState: emptyConfState(), index: 0, term: 0 } },
    });
    assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m);
    assert.equal("snapshot" in decodeMessage(encodeMessage(msg({ type: MessageType.MsgApp }))), false);
  });
});

describe("codec layout", () => {
  test("an empty heartbeat is tiny", () => {
    const buf = encodeMessage(msg({ type: MessageType.MsgHeartbeat }));
    assert.ok(buf.length <= 16, `${buf.length} bytes`);
    assert.deepStrictEqual([...buf], [FORMAT_VERSION, MessageType.MsgHeartbeat, 0]);
  });

  test("a heartbeat with small IDs is a handful of bytes", () => {
    const buf = encodeMessage(samples[0]);
    // version, type, flags (to|from|term|commit), to, from, term, commit
    assert.deepStrictEqual([...buf], [FORMAT_VERSION, MessageType.MsgHeartbeat, 0b100111, 2, 1, 5, 100]);
  });

  test("results are exact-size copies that later encodings do not overwrite", () => {
    const first = encodeMessage(samples[1]);
    const copy = first.slice();
    assert.equal(first.buffer.byteLength, first.length);
    encodeMessage(samples[3]);
    encodeEntries(entriesOf(10, 1 << 20));
    assert.deepStrictEqual(first, copy);
    assert.deepStrictEqual(decodeMessage(first), samples[1]);
  });

  test("decoded entry data are views into the input", () => {
    const buf = encodeEntries(entriesOf(2, 8));
    const ents = decodeEntries(buf);
    assert.equal(ents[0].data.buffer, buf.buffer);
    assert.equal(Object.getPrototypeOf(ents[0].data), Uint8Array.prototype);
  });

  test("decodes from an offset view and from a Buffer", () => {
    const enc = encodeMessage(samples[1]);
    const padded = new Uint8Array(enc.length + 10);
    padded.set(enc, 5);
    assert.deepStrictEqual(decodeMessage(padded.subarray(5, 5 + enc.length)), samples[1]);
    const fromBuffer = decodeMessage(Buffer.from(enc));
    assert.equal(Object.getPrototypeOf(fromBuffer.entries[0].data), Uint8Array.prototype);
    assert.deepStrictEqual(fromBuffer, samples[1]);
  });
});

describe("codec rejects malformed input", () => {
  test("every truncation of sample messages throws CodecError", () => {
    for (const m of samples) {
      const buf = encodeMessage(m);
      for (let n = 0; n < buf.length; n++) {
        assert.throws(
          () => decodeMessage(buf.subarray(0, n)),
          CodecError,
          `truncated to ${n} of ${buf.length}`,
        );
      }
    }
  });

  for (const c of codecs) {
    test(`every truncation of ${c.name} throws CodecError`, () => {
      fc.assert(
        fc.property(c.arb, (v) => {
          const buf = c.encode(v);
          for (let n = 0; n < buf.length; n++) assert.throws(() => c.decode(buf.subarray(0, n)), CodecError);
        }),
        { numRuns: 50 },
      );
    });

    test(`trailing bytes after ${c.name} throw CodecError`, () => {
      fc.assert(
        fc.property(c.arb, fc.uint8Array({ minLength: 1, maxLength: 4 }), (v, extra) => {
          const buf = c.encode(v);
          const longer = new Uint8Array(buf.length + extra.length);
          longer.set(buf);
          longer.set(extra, buf.length);
          assert.throws(() => c.decode(longer), /trailing bytes/);
        }),
        { numRuns: 50 },
      );
    });

    test(`byte flips in ${c.name} decode or throw CodecError`, () => {
      fc.assert(
        fc.property(
          c.arb,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }),
          (v, flips) => {
            const buf = c.encode(v);
            for (const [at, mask] of flips) buf[at % buf.length] ^= mask;
            decodesOrCodecError(c.decode, buf);
          },
        ),
        { numRuns: 500 },
      );
    });

    test(`random bytes given to ${c.name} decode or throw CodecError`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
          const buf = new Uint8Array(tail.length + 1);
          buf[0] = FORMAT_VERSION;
          buf.set(tail, 1);
          decodesOrCodecError(c.decode, buf);
        }),
        { numRuns: 500 },
      );
    });
  }

  const bad: [string, () => unknown, RegExp][] = [
    ["empty input", () => decodeMessage(new Uint8Array(0)), /truncated input reading message format version/],
    ["unknown version", () => decodeHardState(Uint8Array.of(2, 0, 0, 0)), /unsupported version 2/],
    ["unknown message type", () => decodeMessage(Uint8Array.of(1, 19, 0)), /message type at offset 1/],
    ["unknown message flag", () => decodeMessage(Uint8Array.of(1, 8, 0x80, 0x10)), /unknown flags/],
    ["unknown entry type", () => decodeEntry(Uint8Array.of(1, 1, 1, 2, 0)), /entry type at offset 3/],
    ["unknown conf change type", () => decodeConfChange(Uint8Array.of(1, 0, 1, 4, 1, 0)), /conf change type/],
    ["unknown transition", () => decodeConfChange(Uint8Array.of(1, 3, 0, 0)), /conf change transition/],
    ["boolean byte 2", () => decodeConfState(Uint8Array.of(1, 0, 0, 0, 0, 2)), /boolean byte 2/],
    [
      "number above 2^53-1",
      () => decodeHardState(Uint8Array.of(1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0)),
      /exceeds 2\^53-1/,
    ],
    [
      "number varint longer than 8 bytes",
      () => decodeHardState(Uint8Array.of(1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0)),
      /longer than 8 bytes/,
    ],
    [
      "node ID above 2^64-1",
      () =>
        decodeHardState(Uint8Array.of(1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0)),
      /exceeds 2\^64-1/,
    ],
    [
      "entry data past the end",
      () => decodeEntry(Uint8Array.of(1, 1, 1, 0, 5, 1, 2)),
      /entry data \(5 bytes\)/,
    ],
    ["huge entry count", () => decodeEntries(Uint8Array.of(1, 0xff, 0xff, 0xff, 0x7f)), /entry count/],
  ];
  for (const [name, f, message] of bad) {
    test(name, () => {
      assert.throws(f, (err: unknown) => err instanceof CodecError && message.test(err.message));
    });
  }
});

describe("codec rejects values it cannot represent", () => {
  const cases: [string, () => unknown][] = [
    ["negative term", () => encodeHardState({ term: -1, vote: 0n, commit: 0 })],
    ["fractional commit", () => encodeHardState({ term: 0, vote: 0n, commit: 1.5 })],
    ["NaN index", () => encodeMessage(msg({ type: MessageType.MsgApp, index: Number.NaN }))],
    [
      "unsafe index",
      () => encodeEntry({ term: 1, index: 2 ** 53, type: EntryType.Normal, data: new Uint8Array() }),
    ],
    ["negative node ID", () => encodeHardState({ term: 0, vote: -1n, commit: 0 })],
    ["node ID above uint64", () => encodeMessage(msg({ type: MessageType.MsgApp, to: MAX_UINT64 + 1n }))],
    ["number node ID", () => encodeMessage(msg({ type: MessageType.MsgApp, to: 1 as unknown as bigint }))],
    ["unknown message type", () => encodeMessage(msg({ type: 19 as MessageType }))],
    [
      "unknown entry type",
      () => encodeEntry({ term: 1, index: 1, type: 2 as EntryType, data: new Uint8Array() }),
    ],
  ];
  for (const [name, f] of cases) {
    test(name, () => assert.throws(f, CodecError));
  }

  test("a failed encoding does not leak into the next", () => {
    assert.throws(() => encodeMessage(msg({ type: MessageType.MsgApp, term: 3, index: -1 })), CodecError);
    assert.deepStrictEqual(decodeMessage(encodeMessage(samples[0])), samples[0]);
  });
});

test("encode+decode of a MsgApp with 100 entries of 256 bytes stays fast", () => {
  const m = msg({
    type: MessageType.MsgApp,
    to: 0x8e9e05c52164694dn,
    from: 0x91bc3c398fb3c146n,
    term: 12,
    logTerm: 12,
    index: 1_000_000,
    commit: 999_990,
    entries: entriesOf(100, 256, 1_000_001),
  });
  for (let i = 0; i < 200; i++) decodeMessage(encodeMessage(m));
  const rounds = 1000;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) decodeMessage(encodeMessage(m));
  const perRound = ((performance.now() - start) * 1000) / rounds;
  // A loose bound that only catches pathological regressions; the target is well under 50 µs.
  assert.ok(perRound < 1000, `${perRound.toFixed(1)} µs per encode+decode`);
});
