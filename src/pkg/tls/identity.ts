// Who is on the other end of a client connection: the common name of the client certificate that was
// verified in the handshake (--client-cert-auth). etcd's auth treats that CN as the user name
// (AuthInfoFromTLS): only a verified certificate counts, and only the leaf's CN.

import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { commonNameOf } from "./checks.js";

/**
 * The CN of the verified client certificate on `socket` (an HTTP request's `req.socket`, or a TLS socket
 * the listener accepted), or undefined: not TLS, no certificate, not verified, or no CN.
 */
export function verifiedCommonName(socket: Socket | undefined | null): string | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cn = commonNameOf(socket.getPeerCertificate());
  return cn === "" ? undefined : cn;
}

/** What grpc-js's ServerSurfaceCall.getAuthContext() returns (grpc-js >= 1.10). */
interface GrpcAuthContext {
  transportSecurityType?: string;
  sslPeerCertificate?: { subject?: Record<string, unknown> };
}

/**
 * The CN of the verified client certificate of a gRPC call (a ServerUnaryCall, ServerWritableStream,
 * ServerDuplexStream, ...), or undefined. grpc-js reports a certificate only when the TLS socket says it
 * was authorized.
 */
export function grpcCallCommonName(call: {
  getAuthContext?: () => GrpcAuthContext | null;
}): string | undefined {
  const ctx = call.getAuthContext?.();
  const subject = ctx?.sslPeerCertificate?.subject as { CN?: string | string[] } | undefined;
  const cn = subject?.CN;
  const v = Array.isArray(cn) ? cn[cn.length - 1] : cn;
  return v === undefined || v === "" ? undefined : v;
}
