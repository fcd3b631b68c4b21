// What the TLS flags say, as etcd's transport.TLSInfo holds it (one for the client port, one for the peer
// port), and the flags that apply to both (--cipher-suites, --tls-min-version, --tls-max-version,
// --auto-tls, --peer-auto-tls, --self-signed-cert-validity). Plain data: src/cli/etcd fills it from the
// flags, src/pkg/tls/setup.ts resolves auto TLS and checks the files, context.ts turns it into node:tls
// options.

export interface TlsInfo {
  /** The server certificate (--cert-file / --peer-cert-file); also the client certificate when dialing. */
  certFile: string;
  keyFile: string;
  /** An explicit certificate for dialing (--client-cert-file / --peer-client-cert-file); "" = certFile. */
  clientCertFile: string;
  clientKeyFile: string;
  /** CA bundle verifying the other side (--trusted-ca-file / --peer-trusted-ca-file). */
  trustedCaFile: string;
  /** Require and verify client certificates (--client-cert-auth / --peer-client-cert-auth). */
  clientCertAuth: boolean;
  /** Revocation list checked on each new connection (--client-crl-file / --peer-crl-file). */
  crlFile: string;
  /** --peer-cert-allowed-cn: the client certificate's CN must be one of these. */
  allowedCns: string[];
  /** --peer-cert-allowed-hostname / --client-cert-allowed-hostname: it must be valid for one of these. */
  allowedHostnames: string[];
  /**
   * Do not check that a peer's client certificate names the address it connects from
   * (--experimental-peer-skip-client-san-verification). Only the peer listener makes that check.
   */
  skipClientSanVerify: boolean;
  /** Do not verify the server's certificate when dialing. */
  insecureSkipVerify: boolean;
  /** Go names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ...), in order of preference; [] = defaults. */
  cipherSuites: string[];
  /** "TLS1.2" (default when "") or "TLS1.3". */
  minVersion: string;
  /** "TLS1.2", "TLS1.3", or "" (the highest supported). */
  maxVersion: string;
  /** A generated self-signed certificate (auto TLS): the dialing side skips verification, as etcd does. */
  selfCert: boolean;
}

export interface TlsConfig {
  client: TlsInfo;
  peer: TlsInfo;
  /** --auto-tls: generate a client certificate when --cert-file/--key-file are not given. */
  clientAutoTls: boolean;
  /** --peer-auto-tls. */
  peerAutoTls: boolean;
  /** --self-signed-cert-validity, in years (default 1). */
  selfSignedCertValidity: number;
}

export function emptyTlsInfo(): TlsInfo {
  return {
    certFile: "",
    keyFile: "",
    clientCertFile: "",
    clientKeyFile: "",
    trustedCaFile: "",
    clientCertAuth: false,
    crlFile: "",
    allowedCns: [],
    allowedHostnames: [],
    skipClientSanVerify: false,
    insecureSkipVerify: false,
    cipherSuites: [],
    minVersion: "",
    maxVersion: "",
    selfCert: false,
  };
}

/** What etcd's flags give by default: no TLS on either side (--tls-min-version TLS1.2). */
export function defaultTlsConfig(): TlsConfig {
  return {
    client: { ...emptyTlsInfo(), minVersion: "TLS1.2" },
    peer: { ...emptyTlsInfo(), minVersion: "TLS1.2" },
    clientAutoTls: false,
    peerAutoTls: false,
    selfSignedCertValidity: 1,
  };
}

/** etcd's TLSInfo.Empty(): no certificate and key given (the side does not serve TLS). */
export function tlsInfoEmpty(info: TlsInfo | undefined): boolean {
  return info === undefined || (info.certFile === "" && info.keyFile === "");
}

/** Go's cipher suite names (crypto/tls CipherSuites + InsecureCipherSuites, etcd's aliases) -> OpenSSL. */
export const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: "AES128-SHA",
  TLS_RSA_WITH_AES_256_CBC_SHA: "AES256-SHA",
  TLS_RSA_WITH_AES_128_GCM_SHA256: "AES128-GCM-SHA256",
  TLS_RSA_WITH_AES_256_GCM_SHA384: "AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_RSA_WITH_RC4_128_SHA: "RC4-SHA",
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: "DES-CBC3-SHA",
  TLS_RSA_WITH_AES_128_CBC_SHA256: "AES128-SHA256",
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: "ECDHE-ECDSA-RC4-SHA",
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: "ECDHE-RSA-RC4-SHA",
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: "ECDHE-RSA-DES-CBC3-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: "ECDHE-ECDSA-AES128-SHA256",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: "ECDHE-RSA-AES128-SHA256",
  // TLS 1.3 suites: Go accepts the names but they cannot be configured; TLS 1.3 keeps its defaults.
  TLS_AES_128_GCM_SHA256: "",
  TLS_AES_256_GCM_SHA384: "",
  TLS_CHACHA20_POLY1305_SHA256: "",
};

/** TLS 1.3 suites node offers by default (kept when --cipher-suites restricts the TLS 1.2 ones, as Go does). */
const TLS13_DEFAULT = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";

/** The OpenSSL cipher string for --cipher-suites (undefined = node's defaults); throws etcd's error. */
export function opensslCiphers(goNames: readonly string[]): string | undefined {
  if (goNames.length === 0) return undefined;
  const out: string[] = [];
  for (const n of goNames) {
    const o = CIPHER_SUITES[n];
    if (o === undefined) throw new Error(`unexpected TLS cipher suite ${JSON.stringify(n)}`);
    if (o !== "" && !out.includes(o)) out.push(o);
  }
  return [...out, TLS13_DEFAULT].join(":");
}

/** node's version name for etcd's "TLS1.2"/"TLS1.3" ("" = the default: TLS1.2 as minimum, none as maximum). */
export function nodeTlsVersion(v: string, which: "min" | "max"): "TLSv1.2" | "TLSv1.3" | undefined {
  if (v === "TLS1.2") return "TLSv1.2";
  if (v === "TLS1.3") return "TLSv1.3";
  if (v === "") return which === "min" ? "TLSv1.2" : undefined;
  throw new Error(`unexpected TLS version ${JSON.stringify(v)} (must be one of: TLS1.2, TLS1.3)`);
}
