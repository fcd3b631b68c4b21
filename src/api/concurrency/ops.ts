// Request builders for the Lock and Election services, which run etcd's client-side recipes (concurrency
// package) inside the member, on the caller's behalf.

import * as pb from "../gen/etcdserverpb/rpc.js";

/** The end of the range of keys starting with `prefix` (etcd's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0]);
}

/** `<prefix><lease in hex>`: the key a session holds under a lock or election prefix (etcd's "%s%x"). */
export function sessionKey(prefix: Uint8Array, lease: bigint): Buffer {
  return Buffer.concat([prefix, Buffer.from(lease.toString(16))]);
}

export function withSlash(name: Uint8Array): Buffer {
  return Buffer.concat([name, Buffer.from("/")]);
}

export function createRevisionIs(key: Uint8Array, rev: bigint): pb.Compare {
  return {
    result: pb.Compare_CompareResult.EQUAL,
    target: pb.Compare_CompareTarget.CREATE,
    key,
    rangeEnd: new Uint8Array(),
    targetUnion: { $case: "createRevision", value: rev },
  };
}

export function put(key: Uint8Array, value: Uint8Array, lease: bigint): pb.RequestOp {
  return { request: { $case: "requestPut", value: pb.PutRequest.fromPartial({ key, value, lease }) } };
}

export function getRequest(key: Uint8Array): pb.RangeRequest {
  return pb.RangeRequest.fromPartial({ key });
}

export function get(key: Uint8Array): pb.RequestOp {
  return range(getRequest(key));
}

export function range(r: pb.RangeRequest): pb.RequestOp {
  return { request: { $case: "requestRange", value: r } };
}

export function del(key: Uint8Array): pb.RequestOp {
  return { request: { $case: "requestDeleteRange", value: pb.DeleteRangeRequest.fromPartial({ key }) } };
}

/** The key under `prefix` created first (the lock holder, the election leader). */
export function firstCreated(prefix: Uint8Array): pb.RangeRequest {
  return pb.RangeRequest.fromPartial({
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    sortTarget: pb.RangeRequest_SortTarget.CREATE,
    sortOrder: pb.RangeRequest_SortOrder.ASCEND,
    limit: 1n,
  });
}

/** The newest key under `prefix` created at or before `maxCreateRevision`. */
export function lastCreatedUpTo(prefix: Uint8Array, maxCreateRevision: bigint): pb.RangeRequest {
  return pb.RangeRequest.fromPartial({
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    sortTarget: pb.RangeRequest_SortTarget.CREATE,
    sortOrder: pb.RangeRequest_SortOrder.DESCEND,
    limit: 1n,
    maxCreateRevision,
  });
}

export function rangeOf(r: pb.ResponseOp | undefined): pb.RangeResponse | undefined {
  return r?.response?.$case === "responseRange" ? r.response.value : undefined;
}
