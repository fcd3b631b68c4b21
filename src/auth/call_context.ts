// The credentials of the client call being served: the token from its gRPC metadata ("token", or
// "authorization" as the gateway forwards it, "Bearer " stripped) and the common name of its verified
// client certificate. The gRPC services and the HTTP gateway run each call inside callCredentials.run(),
// and the API layer reads them where it decides who is asking (V3Rpc). An AsyncLocalStorage carries
// them so that the services' handlers need not pass them along.

import { AsyncLocalStorage } from "node:async_hooks";

export interface CallCredentials {
  /** The auth token the client sent, if any. */
  readonly token?: string;
  /** The CN of the client's verified TLS certificate (used as the user with --client-cert-auth). */
  readonly certCommonName?: string;
}

export const callCredentials = new AsyncLocalStorage<CallCredentials>();

/** The credentials of the call being served here (none outside a call). */
export function currentCredentials(): CallCredentials {
  return callCredentials.getStore() ?? {};
}

/** gRPC metadata keys carrying the token (etcd's TokenFieldNameGRPC and TokenFieldNameSwagger). */
export const TOKEN_METADATA_KEYS = ["token", "authorization"] as const;

/** The token of a call from its metadata values (first "token", else "authorization" minus "Bearer "). */
export function tokenFromMetadata(get: (key: string) => unknown[]): string | undefined {
  for (const key of TOKEN_METADATA_KEYS) {
    const v = get(key);
    if (v.length > 0) {
      const s = String(v[0]);
      return s.startsWith("Bearer ") ? s.slice("Bearer ".length) : s;
    }
  }
  return undefined;
}
