#!/usr/bin/env bash
# Regenerates src/api/gen/ (TypeScript for etcd's v3 wire format) from proto/*.proto with ts-proto.
# Run by hand after changing a .proto file and commit the result: builds and `npm ci` never run this.
# Needs the devDependencies `protoc` (the compiler's binaries ship inside the npm package) and `ts-proto`.
set -euo pipefail
cd "$(dirname "$0")/.."

out=src/api/gen
# ts-proto options, each chosen for etcd's API:
#   forceLong=bigint         every int64/uint64 is a bigint: member, cluster and lease IDs stay exact
#   env=both                 bytes fields are plain Uint8Array; decoding returns views, no copies
#   outputServices=grpc-js   service definitions, server interfaces and clients for @grpc/grpc-js
#   importSuffix=.js         relative imports that work under ESM NodeNext
#   snakeToCamel=keys        TypeScript keys in camelCase (rangeEnd); JSON keys stay as in the .proto
#   protoJsonFormat=false    ... so toJSON/fromJSON use etcd's gateway names (range_end, cluster_id)
#   oneof=unions-value       a oneof is one property: { $case: "requestPut", value: PutRequest }
#   unrecognizedEnum=false   no synthetic UNRECOGNIZED (-1) member in enums
opts="forceLong=bigint,env=both,outputServices=grpc-js,importSuffix=.js,snakeToCamel=keys"
opts="$opts,protoJsonFormat=false,oneof=unions-value,unrecognizedEnum=false"

rm -rf "$out"
mkdir -p "$out"
# shellcheck disable=SC2046
node_modules/.bin/protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --proto_path=proto \
  --ts_proto_out="$out" \
  --ts_proto_opt="$opts" \
  $(find proto -name '*.proto' | LC_ALL=C sort)
echo "generated: $(find "$out" -name '*.ts' | LC_ALL=C sort | tr '\n' ' ')"
