// A throwaway PKI for tests, made with the openssl CLI (`openssl ca`, so certificates can be dated in the
// past and revoked): CAs, leaf certificates for servers and clients with IP/DNS SANs and a CN, expired
// certificates, and CRLs. Everything lives under one directory the test removes.

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

export interface Ca extends CertFiles {
  name: string;
  dir: string;
  config: string;
}

export interface LeafOptions {
  cn: string;
  ips?: string[];
  dns?: string[];
  /** Validity: [start, end] as openssl's YYYYMMDDHHMMSSZ; default now-1h .. now+1d. */
  dates?: [string, string];
  /** File name stem (default: the CN). */
  file?: string;
}

function openssl(args: string[], cwd?: string): string {
  return execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] }).toString("utf8");
}

/** openssl's date form for `ms` since the epoch. */
export function opensslDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:T]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

export class TestPki {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** A self-signed CA (EC P-256) with its own `openssl ca` database. */
  ca(name: string): Ca {
    const dir = join(this.dir, name);
    mkdirSync(join(dir, "newcerts"), { recursive: true });
    writeFileSync(join(dir, "index.txt"), "");
    // A random start (8 hex digits: openssl wants an even count), so CAs do not share serial numbers.
    const serial = 0x10000000 + Math.floor(Math.random() * 0x6fffffff);
    writeFileSync(join(dir, "serial"), `${serial.toString(16)}\n`);
    writeFileSync(join(dir, "crlnumber"), "1000\n");
    const config = join(dir, "ca.cnf");
    writeFileSync(
      config,
      [
        "[ ca ]",
        "default_ca = CA_default",
        "[ CA_default ]",
        `dir = ${dir}`,
        `database = ${dir}/index.txt`,
        `new_certs_dir = ${dir}/newcerts`,
        `serial = ${dir}/serial`,
        `crlnumber = ${dir}/crlnumber`,
        `certificate = ${dir}/ca.pem`,
        `private_key = ${dir}/ca-key.pem`,
        "default_md = sha256",
        "default_days = 1",
        "default_crl_days = 1",
        "policy = policy_any",
        "unique_subject = no",
        "copy_extensions = none",
        "[ policy_any ]",
        "commonName = supplied",
        "",
      ].join("\n"),
    );
    const certFile = join(dir, "ca.pem");
    const keyFile = join(dir, "ca-key.pem");
    openssl([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-subj",
      `/CN=${name}`,
      "-days",
      "2",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    ]);
    return { name, dir, config, certFile, keyFile };
  }

  /** A leaf certificate signed by `ca`, usable as server and client certificate. */
  issue(ca: Ca, o: LeafOptions): CertFiles {
    const stem = join(ca.dir, o.file ?? o.cn);
    const keyFile = `${stem}-key.pem`;
    const certFile = `${stem}.pem`;
    const csr = `${stem}.csr`;
    openssl([
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      csr,
      "-subj",
      `/CN=${o.cn}`,
    ]);
    const san = [...(o.ips ?? []).map((i) => `IP:${i}`), ...(o.dns ?? []).map((d) => `DNS:${d}`)];
    const ext = `${stem}.ext`;
    writeFileSync(
      ext,
      [
        "basicConstraints = CA:FALSE",
        "keyUsage = critical, digitalSignature, keyEncipherment",
        "extendedKeyUsage = serverAuth, clientAuth",
        ...(san.length > 0 ? [`subjectAltName = ${san.join(", ")}`] : []),
        "",
      ].join("\n"),
    );
    const now = Date.now();
    const [start, end] = o.dates ?? [opensslDate(now - 3600_000), opensslDate(now + 86400_000)];
    openssl([
      "ca",
      "-batch",
      "-notext",
      "-config",
      ca.config,
      "-in",
      csr,
      "-out",
      certFile,
      "-extfile",
      ext,
      "-startdate",
      start,
      "-enddate",
      end,
    ]);
    return { certFile, keyFile };
  }

  /** Revokes `cert` in `ca`'s database and writes a fresh CRL (PEM); returns its path. */
  revoke(ca: Ca, cert: CertFiles, crlFile = join(ca.dir, "crl.pem")): string {
    openssl(["ca", "-config", ca.config, "-revoke", cert.certFile]);
    openssl(["ca", "-config", ca.config, "-gencrl", "-out", crlFile]);
    return crlFile;
  }

  /** An empty CRL of `ca` (nothing revoked yet). */
  crl(ca: Ca, crlFile = join(ca.dir, "crl.pem")): string {
    openssl(["ca", "-config", ca.config, "-gencrl", "-out", crlFile]);
    return crlFile;
  }
}

/** The serial number of a certificate file, as openssl prints it (upper-case hex). */
export function serialOf(certFile: string): string {
  return openssl(["x509", "-in", certFile, "-noout", "-serial"])
    .trim()
    .replace(/^serial=/, "");
}
