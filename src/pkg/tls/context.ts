// node:tls options built from a TlsInfo, re-read when the files change on disk. etcd reads the
// certificate and key on every handshake (GetCertificate / GetClientCertificate), so replacing the files
// rotates the certificate for new connections without a restart. Here each new connection (accepted or
// dialed) first stats the files (cheap) and rebuilds the context only when one changed (size, mtime or
// inode). A rebuild that fails (a rotation half done: new certificate, old key) keeps the previous
// context and warns; the next connection tries again.

import { statSync } from "node:fs";
import { isIP } from "node:net";
import tls from "node:tls";
import { nodeTlsVersion, opensslCiphers, type TlsInfo } from "./info.js";
import { loadCaBundle, loadKeyPair } from "./load.js";

export interface TlsLogger {
  warn(fields: Record<string, unknown>, msg: string): void;
  info?(fields: Record<string, unknown>, msg: string): void;
}

export const noopTlsLogger: TlsLogger = { warn: () => {} };

/** A failed handshake's error as a short line ("tls: peer did not return a certificate"), not OpenSSL's dump. */
export function tlsErrorText(err: Error): string {
  const reason = (err as { reason?: unknown }).reason;
  return typeof reason === "string" && reason !== "" ? `tls: ${reason}` : err.message.trim();
}

/**
 * "ip:port" of the other end of a TLS socket, also after a failed handshake (then the wrapped TCP
 * socket may be the only one that still knows it); "" if unknown.
 */
export function remoteAddrOf(socket: tls.TLSSocket | undefined): string {
  const parent = (socket as { _parent?: { remoteAddress?: string; remotePort?: number } } | undefined)
    ?._parent;
  const addr = socket?.remoteAddress ?? parent?.remoteAddress;
  const port = socket?.remotePort ?? parent?.remotePort;
  if (addr === undefined) return "";
  return `${addr.includes(":") ? `[${addr}]` : addr}:${port ?? 0}`;
}

/** etcd's bound on one TLS handshake (tlsHandshakeTimeout). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

function stampOf(paths: readonly string[]): string {
  return paths
    .map((p) => {
      if (p === "") return "-";
      try {
        const st = statSync(p);
        return `${st.size}:${st.mtimeMs}:${st.ino}`;
      } catch {
        return "missing";
      }
    })
    .join("|");
}

/** Options shared by both sides: protocol versions and cipher suites. Throws etcd's errors for bad values. */
export function protocolOptions(info: TlsInfo): tls.SecureContextOptions {
  const o: tls.SecureContextOptions = { minVersion: nodeTlsVersion(info.minVersion, "min") };
  const max = nodeTlsVersion(info.maxVersion, "max");
  if (max !== undefined) o.maxVersion = max;
  const ciphers = opensslCiphers(info.cipherSuites);
  if (ciphers !== undefined) {
    o.ciphers = ciphers;
    o.honorCipherOrder = true;
  }
  return o;
}

/** A context rebuilt from files when they change. `build` reads the files and throws if they are bad. */
class Reloading<T> {
  private stamp = "";
  private value: T | undefined;

  constructor(
    private readonly paths: () => string[],
    private readonly build: () => T,
    private readonly logger: TlsLogger,
    private readonly what: string,
  ) {}

  /** The current value; `changed` when it was (re)built by this call. Throws only if never built. */
  get(): { value: T; changed: boolean } {
    const stamp = stampOf(this.paths());
    if (this.value !== undefined && stamp === this.stamp) return { value: this.value, changed: false };
    try {
      this.value = this.build();
      this.stamp = stamp;
      return { value: this.value, changed: true };
    } catch (e) {
      if (this.value === undefined) throw e;
      // Keep serving the last good certificate; retry at the next connection.
      this.logger.warn(
        { files: this.paths().filter((p) => p !== ""), error: e instanceof Error ? e.message : String(e) },
        `failed to reload ${this.what}; keeping the previous one`,
      );
      return { value: this.value, changed: false };
    }
  }
}

/** The serving side of a TLS port (client or peer listener). */
export class ServerTls {
  private readonly ctx: Reloading<tls.SecureContextOptions>;

  constructor(
    readonly info: TlsInfo,
    logger: TlsLogger = noopTlsLogger,
  ) {
    const base = protocolOptions(info);
    this.ctx = new Reloading(
      () => [info.certFile, info.keyFile, info.trustedCaFile],
      () => {
        const pair = loadKeyPair(info.certFile, info.keyFile);
        const o: tls.SecureContextOptions = { ...base, cert: pair.certPem, key: pair.keyPem };
        if (info.trustedCaFile !== "") o.ca = loadCaBundle(info.trustedCaFile).pem;
        tls.createSecureContext(o); // fail here (and keep the old one) rather than at a handshake
        return o;
      },
      logger,
      "server certificate",
    );
    this.ctx.get(); // throws for bad files now, at start
  }

  /** etcd's ServerConfig: a client certificate is required and verified with a trusted CA or client-cert-auth. */
  get requestCert(): boolean {
    return this.info.trustedCaFile !== "" || this.info.clientCertAuth;
  }

  /** Context options as of the files on disk now; `changed` when they differ from the last call's. */
  contextOptions(): { options: tls.SecureContextOptions; changed: boolean } {
    const { value, changed } = this.ctx.get();
    return { options: value, changed };
  }

  /**
   * Options for tls.createServer / https.createServer. `alpn`: the protocols offered, or a function
   * choosing among the client's (returning undefined refuses the handshake).
   */
  serverOptions(alpn: string[] | ((offered: string[]) => string | undefined)): tls.TlsOptions {
    const o: tls.TlsOptions = {
      ...this.contextOptions().options,
      requestCert: this.requestCert,
      rejectUnauthorized: this.requestCert,
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    };
    if (typeof alpn === "function") o.ALPNCallback = ({ protocols }) => alpn(protocols);
    else o.ALPNProtocols = alpn;
    return o;
  }

  /**
   * Before a tls.Server (or https.Server) handshakes a new connection: install the current context if
   * the files changed since the last connection.
   */
  refresh(server: tls.Server): void {
    const { options, changed } = this.contextOptions();
    if (changed) server.setSecureContext(options);
  }
}

/** The dialing side: the certificate to present (if any) and how to verify the server. */
export class ClientTls {
  private readonly ctx: Reloading<tls.SecureContext>;

  constructor(
    readonly info: TlsInfo,
    logger: TlsLogger = noopTlsLogger,
  ) {
    const base = protocolOptions(info);
    const certFile = info.clientCertFile !== "" ? info.clientCertFile : info.certFile;
    const keyFile = info.clientCertFile !== "" ? info.clientKeyFile : info.keyFile;
    this.ctx = new Reloading(
      () => [certFile, keyFile, info.trustedCaFile],
      () => {
        const o: tls.SecureContextOptions = { ...base };
        if (certFile !== "" && keyFile !== "") {
          const pair = loadKeyPair(certFile, keyFile);
          o.cert = pair.certPem;
          o.key = pair.keyPem;
        }
        if (info.trustedCaFile !== "") o.ca = loadCaBundle(info.trustedCaFile).pem;
        return tls.createSecureContext(o);
      },
      logger,
      "client certificate",
    );
    this.ctx.get();
  }

  /** Whether the server's certificate is verified (etcd skips it for self-signed auto TLS). */
  get verify(): boolean {
    return !(this.info.insecureSkipVerify || this.info.selfCert);
  }

  /** Options for tls.connect / https.request to `host` (a name or an IP literal). */
  connectOptions(host: string): tls.ConnectionOptions {
    const o: tls.ConnectionOptions = {
      secureContext: this.ctx.get().value,
      rejectUnauthorized: this.verify,
    };
    if (isIP(host) === 0 && host !== "") o.servername = host;
    if (!this.verify) o.checkServerIdentity = () => undefined;
    return o;
  }
}
