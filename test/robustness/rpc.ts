// Raw gRPC access to one member (the generated etcdserverpb clients, no retries, no failover): what the
// "raw" workload clients use, and the harness's own status/hash/member queries. Each RawEndpoint has
// its own channel with quick reconnects (members restart within seconds).

import { Channel, type ChannelOptions, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import {
  ClusterClient,
  KVClient,
  LeaseClient,
  MaintenanceClient,
  WatchClient,
} from "../../src/api/gen/etcdserverpb/rpc.js";

const CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 1000,
  "grpc.use_local_subchannel_pool": 1,
  "grpc.max_receive_message_length": -1,
};

export class RawEndpoint {
  readonly channel: Channel;
  readonly kv: KVClient;
  readonly watch: WatchClient;
  readonly lease: LeaseClient;
  readonly cluster: ClusterClient;
  readonly maintenance: MaintenanceClient;

  /** `target`: "127.0.0.1:port". */
  constructor(readonly target: string) {
    const creds = credentials.createInsecure();
    this.channel = new Channel(target, creds, CHANNEL_OPTIONS);
    const o = { channelOverride: this.channel };
    this.kv = new KVClient(target, creds, o);
    this.watch = new WatchClient(target, creds, o);
    this.lease = new LeaseClient(target, creds, o);
    this.cluster = new ClusterClient(target, creds, o);
    this.maintenance = new MaintenanceClient(target, creds, o);
  }

  close(): void {
    this.channel.close();
  }
}

/** etcd's require-leader metadata: a member without a leader refuses at once instead of timing out. */
export function leaderMetadata(): Metadata {
  const md = new Metadata();
  md.set("hasleader", "true");
  return md;
}

type UnaryFn<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: { deadline: number },
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/** Calls a generated unary method with a deadline; rejects with the ServiceError. */
export function call<Req, Res>(
  fn: UnaryFn<Req, Res>,
  self: unknown,
  req: Req,
  timeoutMs: number,
  md: Metadata = new Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn.call(self, req, md, { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

export const utf8 = (b: Uint8Array | undefined): string =>
  Buffer.from(b ?? new Uint8Array(0)).toString("utf8");
export const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "utf8"));
