// The error catalog, the wire <-> mvcc conversions and request checks (src/server/errors.ts,
// src/server/convert.ts), and the pure parts of the API layer (HPACK :authority fix, gateway JSON).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { jsonValues, normalizeNames } from "../../src/api/gateway.js";
import * as pb from "../../src/api/gen/etcdserverpb/rpc.js";
import {
  EMPTY_SETTINGS_FRAME,
  fixAuthorityInBlock,
  fixAuthorityInHeadersFrame,
  huffmanDecode,
  huffmanEncode,
  sanitizeAuthority,
  writeInt,
} from "../../src/api/h2_authority.js";
import { H2Preamble, HTTP2_PREFACE, listenTarget } from "../../src/api/listener.js";
import { LeaseExistsError, LeaseNotFoundError, LeaseTTLTooLargeError } from "../../src/lease/errors.js";
import { CompactedError, FutureRevError } from "../../src/mvcc/errors.js";
import { CompareResult, CompareTarget } from "../../src/mvcc/requests.js";
import { EventType } from "../../src/mvcc/types.js";
import * as c from "../../src/server/convert.js";
import {
  catalog,
  catalogEntry,
  ErrGRPCCompacted,
  ErrGRPCDuplicateKey,
  ErrGRPCEmptyKey,
  ErrGRPCFutureRev,
  ErrGRPCKeyNotFound,
  ErrGRPCLeaseExist,
  ErrGRPCLeaseNotFound,
  ErrGRPCLeaseProvided,
  ErrGRPCLeaseTTLTooLarge,
  ErrGRPCNoLeader,
  ErrGRPCNoSpace,
  ErrGRPCRequestTooLarge,
  ErrGRPCTimeout,
  ErrGRPCTooManyOps,
  ErrGRPCValueProvided,
  EtcdError,
  toEtcdError,
} from "../../src/server/errors.js";

const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "latin1"));
const S = grpc.status;

describe("error catalog", () => {
  test("texts and codes are etcd's", () => {
    const cases: [ReturnType<typeof ErrGRPCEmptyKey>, number, string][] = [
      [ErrGRPCEmptyKey(), S.INVALID_ARGUMENT, "etcdserver: key is not provided"],
      [ErrGRPCTooManyOps(), S.INVALID_ARGUMENT, "etcdserver: too many operations in txn request"],
      [ErrGRPCCompacted(), S.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"],
      [ErrGRPCFutureRev(), S.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"],
      [ErrGRPCNoSpace(), S.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded"],
      [ErrGRPCLeaseNotFound(), S.NOT_FOUND, "etcdserver: requested lease not found"],
      [ErrGRPCRequestTooLarge(), S.INVALID_ARGUMENT, "etcdserver: request is too large"],
      [ErrGRPCNoLeader(), S.UNAVAILABLE, "etcdserver: no leader"],
      [ErrGRPCTimeout(), S.UNAVAILABLE, "etcdserver: request timed out"],
    ];
    for (const [e, code, msg] of cases) {
      assert.ok(e instanceof EtcdError);
      assert.equal(e.code, code);
      assert.equal(e.message, msg);
      assert.deepEqual(e.toStatus(), { code, details: msg });
    }
    assert.ok(ErrGRPCNoLeader.matches(ErrGRPCNoLeader()));
    assert.ok(!ErrGRPCNoLeader.matches(ErrGRPCTimeout()));
    assert.ok(ErrGRPCNoLeader().is(ErrGRPCNoLeader));
    assert.equal(ErrGRPCNoLeader.name, "ErrGRPCNoLeader");
  });

  test("every message is unique, starts with etcdserver:, and is found by catalogEntry", () => {
    const all = catalog();
    assert.ok(all.length >= 60);
    for (const e of all) {
      assert.match(e.message, /^etcdserver: /);
      assert.equal(catalogEntry(e.message), e);
    }
    assert.equal(catalogEntry("no such error"), undefined);
  });

  test("mvcc and lease errors map as etcd's togRPCError; others are UNKNOWN with their text", () => {
    assert.ok(ErrGRPCCompacted.matches(toEtcdError(new CompactedError())));
    assert.ok(ErrGRPCFutureRev.matches(toEtcdError(new FutureRevError())));
    assert.ok(ErrGRPCLeaseNotFound.matches(toEtcdError(new LeaseNotFoundError())));
    assert.ok(ErrGRPCLeaseExist.matches(toEtcdError(new LeaseExistsError())));
    assert.ok(ErrGRPCLeaseTTLTooLarge.matches(toEtcdError(new LeaseTTLTooLargeError())));
    const e = ErrGRPCTimeout();
    assert.equal(toEtcdError(e), e);
    assert.deepEqual(toEtcdError(new Error("boom")).toStatus(), { code: S.UNKNOWN, details: "boom" });
    assert.deepEqual(toEtcdError({ code: S.ABORTED, details: "x" }).toStatus(), {
      code: S.ABORTED,
      details: "x",
    });
  });
});

describe("conversions", () => {
  const kv = {
    key: bytes("k"),
    createRevision: 2,
    modRevision: 7,
    version: 3,
    value: bytes("v"),
    lease: 0x694d8059e8c3a001n,
  };

  test("KeyValue and Event: numbers <-> int64, lease stays exact", () => {
    const p = c.kvToPb(kv);
    assert.deepEqual(p, { ...kv, createRevision: 2n, modRevision: 7n, version: 3n });
    assert.deepEqual(c.kvFromPb(p), kv);
    const ev = { type: EventType.DELETE, kv, prevKv: kv };
    const pe = c.eventToPb(ev);
    assert.equal(pe.type, 1);
    assert.deepEqual(c.eventFromPb(pe), ev);
    assert.equal(c.eventToPb({ type: EventType.PUT, kv }).prevKv, undefined);
  });

  test("Range request and response round-trip", () => {
    const r = pb.RangeRequest.fromPartial({
      key: bytes("a"),
      rangeEnd: bytes("z"),
      limit: 5n,
      revision: 9n,
      sortOrder: 2,
      sortTarget: 3,
      serializable: true,
      keysOnly: true,
      maxModRevision: -1n,
    });
    const m = c.rangeRequestFromPb(r);
    assert.equal(m.limit, 5);
    assert.equal(m.revision, 9);
    assert.equal(m.maxModRevision, -1);
    assert.deepEqual(c.rangeRequestToPb(m), r);
    const resp = { header: { revision: 9 }, kvs: [kv], more: true, count: 12 };
    const pr = c.rangeResponseToPb(resp);
    assert.equal(pr.count, 12n);
    assert.equal(pr.header?.revision, 9n);
    assert.deepEqual(c.rangeResponseFromPb(pr), {
      ...resp,
      header: { clusterId: 0n, memberId: 0n, revision: 9, raftTerm: 0 },
    });
  });

  test("Txn: compares' target_union, nested oneofs, both directions", () => {
    const r = pb.TxnRequest.fromPartial({
      compare: [
        { result: 3, target: 3, key: bytes("k"), targetUnion: { $case: "value", value: bytes("v") } },
        {
          result: 1,
          target: 2,
          key: bytes("k"),
          targetUnion: { $case: "modRevision", value: 4n },
          rangeEnd: bytes("l"),
        },
        { result: 0, target: 4, key: bytes("k"), targetUnion: { $case: "lease", value: 7n } },
      ],
      success: [
        { request: { $case: "requestPut", value: { key: bytes("k"), value: bytes("w") } } },
        {
          request: {
            $case: "requestTxn",
            value: { success: [{ request: { $case: "requestDeleteRange", value: { key: bytes("d") } } }] },
          },
        },
      ],
      failure: [{ request: { $case: "requestRange", value: { key: bytes("k") } } }],
    } as never);
    const m = c.txnRequestFromPb(r);
    assert.deepEqual(m.compare![0], {
      result: CompareResult.NOT_EQUAL,
      target: CompareTarget.VALUE,
      key: bytes("k"),
      value: bytes("v"),
    });
    assert.deepEqual(m.compare![1], {
      result: CompareResult.GREATER,
      target: CompareTarget.MOD,
      key: bytes("k"),
      rangeEnd: bytes("l"),
      modRevision: 4,
    });
    assert.equal(m.compare![2]!.lease, 7n);
    assert.ok("requestPut" in m.success![0]!);
    const nested = m.success![1]!;
    assert.ok("requestTxn" in nested && "requestDeleteRange" in nested.requestTxn.success![0]!);
    assert.deepEqual(c.txnRequestToPb(m), r);

    const resp = {
      header: { revision: 5 },
      succeeded: true,
      responses: [
        { responsePut: { header: { revision: 5 }, prevKv: kv } },
        { responseTxn: { header: { revision: 5 }, succeeded: false, responses: [] } },
        { responseDeleteRange: { header: { revision: 5 }, deleted: 2, prevKvs: [kv] } },
        { responseRange: { header: { revision: 5 }, kvs: [], more: false, count: 0 } },
      ],
    };
    const pr = c.txnResponseToPb(resp);
    assert.deepEqual(
      pr.responses.map((o) => o.response?.$case),
      ["responsePut", "responseTxn", "responseDeleteRange", "responseRange"],
    );
    assert.equal(c.txnResponseFromPb(pr).responses.length, 4);
    // The wire format carries it unchanged.
    assert.deepEqual(pb.TxnResponse.decode(pb.TxnResponse.encode(pr).finish()), pr);
  });

  test("compaction and HashKV (compact revision -1 when never compacted)", () => {
    assert.deepEqual(c.compactionRequestFromPb({ revision: 8n, physical: true }), {
      revision: 8,
      physical: true,
    });
    const h = c.hashKVResponseToPb({
      header: { revision: 3 },
      hash: 0xdeadbeef,
      compactRevision: -1,
      hashRevision: 3,
    });
    assert.equal(h.compactRevision, -1n);
    assert.equal(h.hash, 0xdeadbeef);
    assert.deepEqual(c.hashKVResponseFromPb(h).compactRevision, -1);
  });
});

describe("request checks (etcd's v3rpc)", () => {
  const put = (key: string, extra: Partial<pb.PutRequest> = {}): pb.RequestOp => ({
    request: { $case: "requestPut", value: pb.PutRequest.fromPartial({ key: bytes(key), ...extra }) },
  });
  const del = (key: string, end = ""): pb.RequestOp => ({
    request: {
      $case: "requestDeleteRange",
      value: pb.DeleteRangeRequest.fromPartial({ key: bytes(key), rangeEnd: bytes(end) }),
    },
  });
  const txn = (t: Partial<pb.TxnRequest>): pb.TxnRequest => pb.TxnRequest.fromPartial(t as never);
  const rejects = (fn: () => void, entry: { matches(e: unknown): boolean }) =>
    assert.throws(fn, (e: unknown) => entry.matches(e));

  test("keys, values and leases", () => {
    rejects(() => c.checkRangeRequest(pb.RangeRequest.fromPartial({})), ErrGRPCEmptyKey);
    rejects(() => c.checkDeleteRangeRequest(pb.DeleteRangeRequest.fromPartial({})), ErrGRPCEmptyKey);
    rejects(
      () =>
        c.checkPutRequest(
          pb.PutRequest.fromPartial({ key: bytes("k"), ignoreValue: true, value: bytes("v") }),
        ),
      ErrGRPCValueProvided,
    );
    rejects(
      () => c.checkPutRequest(pb.PutRequest.fromPartial({ key: bytes("k"), ignoreLease: true, lease: 5n })),
      ErrGRPCLeaseProvided,
    );
    c.checkPutRequest(pb.PutRequest.fromPartial({ key: bytes("k"), ignoreValue: true }));
  });

  test("txn: too many ops (nested txns share the budget), empty ops, duplicate keys", () => {
    const many = Array.from({ length: 4 }, (_, i) => put(`k${i}`));
    c.checkTxnRequest(txn({ success: many }), 4);
    rejects(() => c.checkTxnRequest(txn({ success: many }), 3), ErrGRPCTooManyOps);
    // Outer branch of 2 leaves 4 - 2 = 2 for a nested one.
    const nested = {
      request: { $case: "requestTxn" as const, value: txn({ success: [put("a"), put("b"), put("c")] }) },
    };
    rejects(() => c.checkTxnRequest(txn({ success: [nested, put("z")] }), 4), ErrGRPCTooManyOps);
    rejects(() => c.checkTxnRequest(txn({ success: [{ request: undefined }] })), ErrGRPCKeyNotFound);
    rejects(() => c.checkTxnRequest(txn({ compare: [pb.Compare.fromPartial({})] })), ErrGRPCEmptyKey);
    rejects(() => c.checkTxnRequest(txn({ success: [put("a"), put("a")] })), ErrGRPCDuplicateKey);
    rejects(() => c.checkTxnRequest(txn({ success: [del("a", "c"), put("b")] })), ErrGRPCDuplicateKey);
    // The two branches of a nested txn exclude each other.
    const branches = {
      request: { $case: "requestTxn" as const, value: txn({ success: [put("a")], failure: [put("a")] }) },
    };
    c.checkTxnRequest(txn({ success: [branches] }));
    c.checkTxnRequest(txn({ success: [put("a")], failure: [put("a")] }));
  });

  test("request size", () => {
    c.checkRequestSize(c.DEFAULT_MAX_REQUEST_BYTES);
    rejects(() => c.checkRequestSize(c.DEFAULT_MAX_REQUEST_BYTES + 1), ErrGRPCRequestTooLarge);
    rejects(() => c.checkRequestSize(11, 10), ErrGRPCRequestTooLarge);
  });
});

describe("HTTP/2 :authority fix (etcdctl 3.4's passthrough:///http://host:port)", () => {
  test("Huffman: known codes, round trip of every byte", () => {
    // RFC 7541 C.4.1: "www.example.com"
    assert.equal(huffmanEncode(Buffer.from("www.example.com")).toString("hex"), "f1e3c2e5f23a6ba0ab90f4ff");
    assert.equal(
      huffmanDecode(Buffer.from("f1e3c2e5f23a6ba0ab90f4ff", "hex"))?.toString(),
      "www.example.com",
    );
    const all = Buffer.from([...Array(256).keys()]);
    assert.deepEqual(huffmanDecode(huffmanEncode(all)), all);
    assert.equal(huffmanDecode(Buffer.from([0x00])), undefined); // padding not all ones
  });

  test("sanitizeAuthority keeps lengths and valid values", () => {
    assert.equal(sanitizeAuthority(Buffer.from("127.0.0.1:2379")), undefined);
    assert.equal(sanitizeAuthority(Buffer.from("[::1]:2379")), undefined);
    assert.equal(
      sanitizeAuthority(Buffer.from("http://127.0.0.1:2379"))?.toString(),
      "http:__127.0.0.1:2379",
    );
  });

  const literal = (nameIndex: number, value: string, huffman: boolean): number[] => {
    const v = huffman ? huffmanEncode(Buffer.from(value)) : Buffer.from(value);
    return [...writeInt(nameIndex, 6, 0x40), ...writeInt(v.length, 7, huffman ? 0x80 : 0), ...v];
  };

  test("header blocks: literal :authority (indexed name, Huffman or raw) is fixed; others untouched", () => {
    for (const huffman of [true, false]) {
      // :method POST (indexed 3), :scheme http (indexed 6), :path literal (name 4), :authority literal (name 1)
      const block = Buffer.from([
        0x83,
        0x86,
        ...literal(4, "/etcdserverpb.Maintenance/Status", huffman),
        ...literal(1, "http://127.0.0.1:2379", huffman),
      ]);
      const fixed = fixAuthorityInBlock(block)!;
      assert.ok(fixed);
      const expected = Buffer.from([
        0x83,
        0x86,
        ...literal(4, "/etcdserverpb.Maintenance/Status", huffman),
        ...literal(1, "http:__127.0.0.1:2379", huffman),
      ]);
      assert.deepEqual(fixed, expected);
      const ok = Buffer.from([0x83, ...literal(1, "127.0.0.1:2379", huffman)]);
      assert.equal(fixAuthorityInBlock(ok), undefined);
    }
    // A literal name ":authority" (name index 0) is recognised too.
    const named = Buffer.from([0x40, 10, ...Buffer.from(":authority"), 3, ...Buffer.from("a/b")]);
    assert.deepEqual(
      fixAuthorityInBlock(named),
      Buffer.from([0x40, 10, ...Buffer.from(":authority"), 3, ...Buffer.from("a_b")]),
    );
  });

  test("HEADERS frames with padding and priority; the preamble drops our SETTINGS ACK only", () => {
    const block = Buffer.from(literal(1, "http://h:1", true));
    const payload = Buffer.concat([Buffer.from([2]), Buffer.from([0, 0, 0, 0, 16]), block, Buffer.alloc(2)]);
    const head = Buffer.from([0, 0, 0, 1, 0x4 | 0x8 | 0x20, 0, 0, 0, 1]);
    head.writeUIntBE(payload.length, 0, 3);
    const frame = Buffer.concat([head, payload]);
    const fixed = fixAuthorityInHeadersFrame(frame)!;
    assert.equal(fixed.readUIntBE(0, 3), fixed.length - 9);
    assert.ok(fixed.includes(huffmanEncode(Buffer.from("http:__h:1"))));
    // Without END_HEADERS the block continues elsewhere: left alone.
    const partial = Buffer.from(frame);
    partial[4] = 0x8 | 0x20;
    assert.equal(fixAuthorityInHeadersFrame(partial), undefined);

    const settings = Buffer.from([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
    const ack = Buffer.from([0, 0, 0, 4, 1, 0, 0, 0, 0]);
    const p = new H2Preamble();
    const input = Buffer.concat([settings, ack, frame]);
    for (const byte of input) p.feed(Buffer.from([byte])); // one byte at a time
    assert.ok(p.acked && p.requestSeen && p.ready);
    assert.deepEqual(p.take(), Buffer.concat([HTTP2_PREFACE, settings, fixed]));
    assert.equal(EMPTY_SETTINGS_FRAME.length, 9);
  });
});

describe("listener targets, gateway JSON", () => {
  test("client URLs", () => {
    assert.deepEqual(
      (({ kind, host, port }) => ({ kind, host, port }))(listenTarget("http://127.0.0.1:2379")),
      { kind: "tcp", host: "127.0.0.1", port: 2379 },
    );
    assert.equal(listenTarget("http://[::1]:2379").host, "::1");
    assert.equal(listenTarget("http://localhost").port, 80);
    assert.equal(listenTarget("unix://localhost:2379").host, "localhost:2379");
    assert.equal(listenTarget("https://127.0.0.1:2379").secure, true);
    assert.equal(listenTarget("https://localhost").port, 443);
    assert.equal(listenTarget("http://localhost").secure, false);
    assert.throws(() => listenTarget("ftp://x:1"), /unsupported URL scheme "ftp"/);
  });

  test("request bodies as a stream of JSON values; camelCase names accepted", async () => {
    async function* chunks(...parts: string[]) {
      yield* parts;
    }
    const out: unknown[] = [];
    for await (const v of jsonValues(chunks('{"a":"}{"', ',"b":[1,{"c":2}]}  {"d"', ":3}\n"))) out.push(v);
    assert.deepEqual(out, [{ a: "}{", b: [1, { c: 2 }] }, { d: 3 }]);
    await assert.rejects(async () => {
      for await (const _ of jsonValues(chunks('{"a":'))) {
      }
    });
    assert.deepEqual(
      normalizeNames({ rangeEnd: "AA==", key: "x", requestPut: { prevKv: true }, TTL: "5", remainingTTL: 1 }),
      {
        range_end: "AA==",
        key: "x",
        request_put: { prev_kv: true },
        TTL: "5",
        remaining_TTL: 1,
      },
    );
  });
});
