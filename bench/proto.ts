// Encode and decode cost of the generated etcd v3 messages (src/api/gen), as the grpc-js service
// definitions use them: encode then copy into a Buffer, decode from a Buffer. Two messages: a
// PutRequest (34-byte key, 100-byte value, a lease) and a RangeResponse of 100 such keys.
//
//   node dist/bench/proto.js [--runs 7]
//
// Prints one JSON object: for each case the best of `runs` timed loops, in microseconds per
// message and messages per second.

import { loadavg } from "node:os";
import { PutRequest, RangeResponse } from "../src/api/gen/etcdserverpb/rpc.js";
import type { KeyValue } from "../src/api/gen/mvccpb/kv.js";

const i = process.argv.indexOf("--runs");
const runs = i >= 0 ? Number(process.argv[i + 1]) : 7;

function keyOf(n: number): Uint8Array {
  return Buffer.from(`/registry/pods/default/nginx-${String(n).padStart(4, "0")}`, "latin1");
}

function measure(iterations: number, fn: () => unknown): { us: number; perSecond: number } {
  for (let n = 0; n < Math.min(iterations, 20_000); n++) fn();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let n = 0; n < iterations; n++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / iterations);
  }
  return { us: Math.round(best) / 1000, perSecond: Math.round(1e9 / best) };
}

const value = new Uint8Array(100).fill(0x61);
const put: PutRequest = PutRequest.fromPartial({ key: keyOf(1), value, lease: 0x694d8059e8c3a001n });
const putBytes = Buffer.from(PutRequest.encode(put).finish());

const kvs: KeyValue[] = [];
for (let n = 0; n < 100; n++) {
  kvs.push({
    key: keyOf(n),
    value,
    createRevision: 1000n + BigInt(n),
    modRevision: 5000n,
    version: 3n,
    lease: 0n,
  });
}
const range: RangeResponse = RangeResponse.fromPartial({
  header: { clusterId: 0xffffffffffffffffn, memberId: 0xfedcba9876543210n, revision: 123456n, raftTerm: 5n },
  kvs,
  count: 100n,
});
const rangeBytes = Buffer.from(RangeResponse.encode(range).finish());

console.log(
  JSON.stringify({
    loadavg: loadavg()[0],
    bytes: { putRequest: putBytes.length, rangeResponse100: rangeBytes.length },
    putRequestEncode: measure(200_000, () => Buffer.from(PutRequest.encode(put).finish())),
    putRequestDecode: measure(200_000, () => PutRequest.decode(putBytes)),
    rangeResponse100Encode: measure(5_000, () => Buffer.from(RangeResponse.encode(range).finish())),
    rangeResponse100Decode: measure(5_000, () => RangeResponse.decode(rangeBytes)),
  }),
);
