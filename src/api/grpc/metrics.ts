// The gRPC server metrics etcd exports (go-grpc-prometheus): calls started and handled (with their
// status code's Go name), messages received and sent, per service, method and call type; and, with
// --metrics=extensive, the handling-time histogram. etcd's dashboards and alerts (failed and slow RPCs)
// are written against these names and labels.

import type { ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import { Counter, Histogram, type Registry } from "prom-client";

/** Go's codes.Code names, by number. */
const CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

const LABELS = ["grpc_type", "grpc_service", "grpc_method"] as const;

export class GrpcMetrics {
  readonly started: Counter<string>;
  readonly handled: Counter<string>;
  readonly received: Counter<string>;
  readonly sent: Counter<string>;
  readonly handling: Histogram<string> | undefined;

  constructor(registry: Registry | undefined, extensive: boolean) {
    const registers = registry ? [registry] : [];
    this.started = new Counter({
      name: "grpc_server_started_total",
      help: "Total number of RPCs started on the server.",
      labelNames: LABELS,
      registers,
    });
    this.handled = new Counter({
      name: "grpc_server_handled_total",
      help: "Total number of RPCs completed on the server, regardless of success or failure.",
      labelNames: [...LABELS, "grpc_code"],
      registers,
    });
    this.received = new Counter({
      name: "grpc_server_msg_received_total",
      help: "Total number of RPC stream messages received on the server.",
      labelNames: LABELS,
      registers,
    });
    this.sent = new Counter({
      name: "grpc_server_msg_sent_total",
      help: "Total number of gRPC stream messages sent by the server.",
      labelNames: LABELS,
      registers,
    });
    this.handling = extensive
      ? new Histogram({
          name: "grpc_server_handling_seconds",
          help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
          labelNames: LABELS,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        })
      : undefined;
  }
}

type Labels = Record<(typeof LABELS)[number], string>;

interface StreamCall {
  write(...args: unknown[]): boolean;
  emit(event: string | symbol, ...args: unknown[]): boolean;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  once(event: string, fn: (...args: unknown[]) => void): unknown;
}

/** `impl` of `def` with every call counted in `m`. */
export function instrumented<T extends object>(def: ServiceDefinition, impl: T, m: GrpcMetrics): T {
  const out: Record<string, unknown> = {};
  for (const [name, h] of Object.entries(impl as UntypedServiceImplementation)) {
    const d = def[name];
    if (d === undefined) {
      out[name] = h;
      continue;
    }
    const [service, method] = d.path.slice(1).split("/") as [string, string];
    const type = d.requestStream
      ? d.responseStream
        ? "bidi_stream"
        : "client_stream"
      : d.responseStream
        ? "server_stream"
        : "unary";
    const labels: Labels = { grpc_type: type, grpc_service: service, grpc_method: method };
    const handler = h as (...args: unknown[]) => unknown;
    out[name] =
      type === "unary"
        ? (call: unknown, callback: (err: { code?: number } | null, value?: unknown) => void) => {
            const done = begin(m, labels);
            m.received.inc(labels);
            return handler(call, (err: { code?: number } | null, value?: unknown) => {
              done(err ? (err.code ?? 2) : 0);
              if (!err) m.sent.inc(labels);
              callback(err, value);
            });
          }
        : (call: StreamCall) => {
            const done = begin(m, labels);
            if (type === "server_stream") m.received.inc(labels);
            else call.on("data", () => m.received.inc(labels));
            const write = call.write.bind(call);
            call.write = (...args: unknown[]) => {
              m.sent.inc(labels);
              return write(...args);
            };
            // The status the call ends with: an emitted error's code, Canceled if the client went away,
            // else OK when the stream finished.
            const emit = call.emit.bind(call);
            call.emit = (event: string | symbol, ...args: unknown[]) => {
              if (event === "error") done((args[0] as { code?: number } | undefined)?.code ?? 2);
              return emit(event, ...args);
            };
            call.once("cancelled", () => done(1));
            call.once("finish", () => done(0));
            return handler(call);
          };
  }
  return out as T;
}

/** Counts a start; the returned function counts the end once, with its status code. */
function begin(m: GrpcMetrics, labels: Labels): (code: number) => void {
  m.started.inc(labels);
  const t0 = performance.now();
  let ended = false;
  return (code) => {
    if (ended) return;
    ended = true;
    m.handled.inc({ ...labels, grpc_code: CODE_NAMES[code] ?? "Unknown" });
    m.handling?.observe(labels, (performance.now() - t0) / 1000);
  };
}
