// From the TLS flags to what the listeners and dialers use, once at start, as etcd's embed does in
// configurePeerListeners / configureClientListeners: auto TLS replaces an empty side's settings by a
// self-signed certificate under <data-dir>/fixtures/{peer,client}; --cipher-suites and --tls-min/max-version
// apply to both sides; then every file is read and checked, so a missing file, a malformed certificate or
// key, or a key that does not match its certificate stops the member before it binds anything.

import { join } from "node:path";
import { ClientTls, ServerTls, type TlsLogger } from "./context.js";
import { revokedSerials } from "./crl.js";
import { emptyTlsInfo, opensslCiphers, type TlsConfig, type TlsInfo, tlsInfoEmpty } from "./info.js";
import { selfCert } from "./selfcert.js";

export interface TlsSetupInput {
  tls: TlsConfig;
  dataDir: string;
  listenClientUrls: readonly URL[];
  listenPeerUrls: readonly URL[];
  logger: TlsLogger;
}

export interface PreparedTls {
  /** The settings in effect (auto TLS resolved to its files). */
  config: TlsConfig;
  /** Serves https:// / unixs:// client URLs; undefined when the client side has no certificate. */
  clientServer: ServerTls | undefined;
  /** Serves https:// peer URLs; undefined when the peer side has no certificate. */
  peerServer: ServerTls | undefined;
  /** Dials other members (https:// peer URLs). */
  peerClient: ClientTls;
}

/** "host:port" of a URL as Go's url.URL.Host gives it. */
function hostOf(u: URL): string {
  return u.host;
}

/** The flag names of one side, for error messages. */
function flagNames(side: "client" | "peer") {
  const p = side === "peer" ? "peer-" : "";
  return {
    cert: `--${p}cert-file`,
    key: `--${p}key-file`,
    ca: side === "peer" ? "--peer-trusted-ca-file" : "--trusted-ca-file",
    clientCert: `--${p}client-cert-file`,
    clientKey: `--${p}client-key-file`,
    crl: side === "peer" ? "--peer-crl-file" : "--client-crl-file",
  };
}

function fail(side: "client" | "peer", info: TlsInfo, err: unknown): Error {
  const f = flagNames(side);
  const files = [
    [f.cert, info.certFile],
    [f.key, info.keyFile],
    [f.ca, info.trustedCaFile],
    [f.clientCert, info.clientCertFile],
    [f.clientKey, info.clientKeyFile],
  ]
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  const msg = err instanceof Error ? err.message : String(err);
  return new Error(`${side} TLS: ${msg}${files ? ` (${files})` : ""}`);
}

/** etcd's ClientSelfCert / PeerSelfCert: the side's settings, or a self-signed certificate's. */
function autoTls(
  side: "client" | "peer",
  info: TlsInfo,
  auto: boolean,
  input: TlsSetupInput,
  urls: readonly URL[],
): TlsInfo {
  if (!auto) return info;
  if (!tlsInfoEmpty(info)) {
    input.logger.warn({}, `ignoring ${side} auto TLS since certs given`);
    return info;
  }
  const dir = join(input.dataDir, "fixtures", side);
  const files = selfCert(dir, urls.map(hostOf), input.tls.selfSignedCertValidity);
  if (files.created) {
    input.logger.warn(
      { "certificate-validity-bound-not-after": files.notAfter?.toISOString() },
      "automatically generate certificates",
    );
  }
  // As etcd: the generated certificate replaces the side's settings (CA, client-cert-auth, CRL, ...).
  return {
    ...emptyTlsInfo(),
    certFile: files.certFile,
    keyFile: files.keyFile,
    clientCertFile: files.certFile,
    clientKeyFile: files.keyFile,
    cipherSuites: info.cipherSuites,
    minVersion: info.minVersion,
    maxVersion: info.maxVersion,
    selfCert: true,
  };
}

function checkSide(side: "client" | "peer", info: TlsInfo): void {
  const f = flagNames(side);
  opensslCiphers(info.cipherSuites); // "unexpected TLS cipher suite ..." for an unknown name
  if ((info.clientCertFile === "") !== (info.clientKeyFile === "")) {
    throw fail(
      side,
      info,
      `${f.clientKey} and ${f.clientCert} must both be present or both absent: key: ${info.clientKeyFile}, cert: ${info.clientCertFile}`,
    );
  }
  if (!tlsInfoEmpty(info) && (info.certFile === "" || info.keyFile === "")) {
    throw fail(
      side,
      info,
      `${f.key} and ${f.cert} must both be present[key: ${info.keyFile}, cert: ${info.certFile}]`,
    );
  }
  if (info.allowedCns.length > 0 && info.allowedHostnames.length > 0) {
    throw new Error(
      `AllowedCNs and AllowedHostnames are mutually exclusive (cns=${JSON.stringify(info.allowedCns)}, hostnames=${JSON.stringify(info.allowedHostnames)})`,
    );
  }
  if (info.crlFile !== "") {
    try {
      revokedSerials(info.crlFile);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : String(e);
      throw new Error(`${side} TLS: ${f.crl}=${info.crlFile}: ${why.replace(/^Error: /, "")}`);
    }
  }
}

const isTlsUrl = (u: URL) => u.protocol === "https:" || u.protocol === "unixs:";

/** Resolves auto TLS, checks every file and builds the contexts. Throws a clear error for bad input. */
export function prepareTls(input: TlsSetupInput): PreparedTls {
  const t = input.tls;
  const peer = autoTls("peer", t.peer, t.peerAutoTls, input, input.listenPeerUrls);
  const client = autoTls("client", t.client, t.clientAutoTls, input, input.listenClientUrls);
  checkSide("peer", peer);
  checkSide("client", client);

  for (const u of input.listenPeerUrls) {
    if (isTlsUrl(u) && tlsInfoEmpty(peer)) {
      throw new Error(`cannot listen on TLS for ${u.host}: KeyFile and CertFile are not presented`);
    }
    if (!isTlsUrl(u) && !tlsInfoEmpty(peer)) {
      input.logger.warn(
        { "peer-url": u.toString() },
        "scheme is HTTP while key and cert files are present; ignoring key and cert files",
      );
    }
    if (!isTlsUrl(u) && peer.clientCertAuth) {
      input.logger.warn(
        { "peer-url": u.toString() },
        "scheme is HTTP while --peer-client-cert-auth is enabled; ignoring client cert auth for this URL",
      );
    }
  }
  for (const u of input.listenClientUrls) {
    if (isTlsUrl(u) && tlsInfoEmpty(client)) {
      throw new Error(
        `TLS key/cert (--cert-file, --key-file) must be provided for client url ${u.toString()} with HTTPS scheme`,
      );
    }
    if (!isTlsUrl(u) && !tlsInfoEmpty(client)) {
      input.logger.warn(
        { "client-url": u.toString() },
        "scheme is http or unix while key and cert files are present; ignoring key and cert files",
      );
    }
    if (!isTlsUrl(u) && client.clientCertAuth) {
      input.logger.warn(
        { "client-url": u.toString() },
        "scheme is http or unix while --client-cert-auth is enabled; ignoring client cert auth for this URL",
      );
    }
  }

  const build = <T>(side: "client" | "peer", info: TlsInfo, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw fail(side, info, e);
    }
  };
  const peerServer = tlsInfoEmpty(peer)
    ? undefined
    : build("peer", peer, () => new ServerTls(peer, input.logger));
  const peerClient = build("peer", peer, () => new ClientTls(peer, input.logger));
  const clientServer = tlsInfoEmpty(client)
    ? undefined
    : build("client", client, () => new ServerTls(client, input.logger));
  if (peerServer !== undefined) {
    input.logger.info?.({ "tls-info": describe(peer) }, "starting with peer TLS");
  }
  if (clientServer !== undefined) {
    input.logger.info?.({ "tls-info": describe(client) }, "starting with client TLS");
  }
  return { config: { ...t, peer, client }, clientServer, peerServer, peerClient };
}

/** etcd's TLSInfo.String(). */
function describe(i: TlsInfo): string {
  return `cert = ${i.certFile}, key = ${i.keyFile}, client-cert=${i.clientCertFile}, client-key=${i.clientKeyFile}, trusted-ca = ${i.trustedCaFile}, client-cert-auth = ${i.clientCertAuth}, crl-file = ${i.crlFile}`;
}
