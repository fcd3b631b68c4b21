// TLS for the client and peer ports, with etcd's flags and semantics (see each module).

export { checkAccepted, commonNameOf } from "./checks.js";
export { ClientTls, noopTlsLogger, ServerTls, TLS_HANDSHAKE_TIMEOUT_MS, type TlsLogger } from "./context.js";
export { checkCrl, parseCrlSerials } from "./crl.js";
export { grpcCallCommonName, verifiedCommonName } from "./identity.js";
export {
  CIPHER_SUITES,
  defaultTlsConfig,
  emptyTlsInfo,
  type TlsConfig,
  type TlsInfo,
  tlsInfoEmpty,
} from "./info.js";
export { loadKeyPair, parseKeyPair } from "./load.js";
export { clientTlsFor, type PeerFetchInit, type PeerResponse, peerFetch } from "./peer_fetch.js";
export { makeSelfSignedCert, selfCert } from "./selfcert.js";
export { type PreparedTls, prepareTls, type TlsSetupInput } from "./setup.js";
