// A tiny authoritative DNS server for tests: UDP on 127.0.0.1, answering SRV, A and AAAA questions from a
// table (RFC 1035 wire format; one question per query, answers with a pointer to the question's name).
// Unknown names get NXDOMAIN; a known name without records of the asked type gets an empty NOERROR.
// Every query is counted, so tests can check the lookups went here.

import dgram from "node:dgram";
import { isIPv4, isIPv6 } from "node:net";

export interface SrvTarget {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface DnsRecords {
  srv?: Record<string, SrvTarget[]>;
  /** Host name -> addresses (IPv4 answer A questions, IPv6 AAAA questions). */
  hosts?: Record<string, string[]>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const TYPE_SRV = 33;

const norm = (name: string) => name.toLowerCase().replace(/\.$/, "");

function encodeName(name: string): Buffer {
  const parts = norm(name)
    .split(".")
    .filter((p) => p !== "");
  return Buffer.concat([
    ...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, "ascii")])),
    Buffer.from([0]),
  ]);
}

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  for (;;) {
    const len = msg[i]!;
    if (len === 0) return { name: labels.join("."), end: i + 1 };
    if ((len & 0xc0) !== 0) throw new Error("compressed names in questions are not supported");
    labels.push(msg.subarray(i + 1, i + 1 + len).toString("ascii"));
    i += 1 + len;
  }
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, k) => {
    b.writeUInt16BE(Number.parseInt(g, 16), 2 * k);
  });
  return b;
}

export class TestDnsServer {
  private readonly sock = dgram.createSocket("udp4");
  /** Questions received, as "TYPE name". */
  readonly queries: string[] = [];
  port = 0;

  constructor(public records: DnsRecords) {}

  /** Starts listening on 127.0.0.1 (a free port); resolves with "127.0.0.1:<port>". */
  async start(): Promise<string> {
    this.sock.on("message", (msg, rinfo) => {
      let reply: Buffer;
      try {
        reply = this.answer(msg);
      } catch {
        return; // not a query we understand: drop it, as a server would drop garbage
      }
      this.sock.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => this.sock.bind(0, "127.0.0.1", resolve));
    this.port = this.sock.address().port;
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.sock.close(() => resolve()));
  }

  private answer(msg: Buffer): Buffer {
    const id = msg.readUInt16BE(0);
    const flags = msg.readUInt16BE(2);
    if (msg.readUInt16BE(4) !== 1) throw new Error("one question expected");
    const q = readName(msg, 12);
    const qtype = msg.readUInt16BE(q.end);
    const question = msg.subarray(12, q.end + 4);
    const name = norm(q.name);
    this.queries.push(
      `${qtype === TYPE_SRV ? "SRV" : qtype === TYPE_A ? "A" : qtype === TYPE_AAAA ? "AAAA" : qtype} ${name}`,
    );
    const srv = Object.entries(this.records.srv ?? {}).find(([k]) => norm(k) === name)?.[1];
    const hosts = Object.entries(this.records.hosts ?? {}).find(([k]) => norm(k) === name)?.[1];
    const rdatas: [number, Buffer][] = [];
    if (qtype === TYPE_SRV) {
      for (const s of srv ?? []) {
        const fixed = Buffer.alloc(6);
        fixed.writeUInt16BE(s.priority ?? 0, 0);
        fixed.writeUInt16BE(s.weight ?? 0, 2);
        fixed.writeUInt16BE(s.port, 4);
        rdatas.push([TYPE_SRV, Buffer.concat([fixed, encodeName(s.target)])]);
      }
    } else if (qtype === TYPE_A) {
      for (const ip of (hosts ?? []).filter((h) => isIPv4(h))) {
        rdatas.push([TYPE_A, Buffer.from(ip.split(".").map(Number))]);
      }
    } else if (qtype === TYPE_AAAA) {
      for (const ip of (hosts ?? []).filter((h) => isIPv6(h))) rdatas.push([TYPE_AAAA, ipv6Bytes(ip)]);
    }
    const known = srv !== undefined || hosts !== undefined;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    // QR, opcode and RD copied, AA, RA; rcode 3 (NXDOMAIN) for unknown names.
    header.writeUInt16BE(0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(rdatas.length, 6);
    const answers = rdatas.map(([type, rdata]) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the question's name
      rr.writeUInt16BE(type, 2);
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(5, 6); // TTL
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    return Buffer.concat([header, question, ...answers]);
  }
}
