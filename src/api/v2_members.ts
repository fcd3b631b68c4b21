// etcd's v2 members API on the client port, served by default so the guide's `curl .../v2/members`
// works: GET /v2/members, GET /v2/members/leader, POST /v2/members (add), DELETE /v2/members/<id>
// (remove), PUT /v2/members/<id> (update peer URLs). Status codes and messages as etcd's v2http.

import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ErrGRPCMemberBadURLs,
  ErrGRPCMemberExist,
  ErrGRPCMemberNotFound,
  ErrGRPCPeerURLExist,
  toEtcdError,
} from "../server/errors.js";
import type * as pb from "./gen/etcdserverpb/rpc.js";
import type { V3Rpc } from "./v3rpc.js";

/** A member as etcd's v2 API shows it (httptypes.Member). */
function v2Member(m: pb.Member): { id: string; name: string; peerURLs: string[]; clientURLs: string[] } {
  return { id: m.ID.toString(16), name: m.name, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs] };
}

function send(res: ServerResponse, rpc: V3Rpc, status: number, body?: object): void {
  const headers: Record<string, string> = { "X-Etcd-Cluster-ID": rpc.header().clusterId.toString(16) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  res.writeHead(status, headers);
  res.end(body !== undefined ? `${JSON.stringify(body)}\n` : undefined);
}

/** Reads `{"peerURLs": [...]}` (etcd's MemberCreateRequest / MemberUpdateRequest). */
async function readPeerUrls(req: IncomingMessage): Promise<string[] | string> {
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return "Bad Content-Type";
  let body = "";
  req.setEncoding("utf8");
  for await (const c of req) body += c as string;
  try {
    const o = JSON.parse(body) as { peerURLs?: unknown };
    if (!Array.isArray(o.peerURLs) || o.peerURLs.some((u) => typeof u !== "string")) {
      return "peerURLs must be a list of URLs";
    }
    return o.peerURLs as string[];
  } catch (e) {
    return String((e as Error).message);
  }
}

/** etcd's v2 texts for membership errors (membership.Err*). */
function v2Error(err: unknown, id: string): { status: number; message: string } {
  const e = toEtcdError(err);
  if (ErrGRPCMemberExist.matches(e)) return { status: 409, message: "membership: ID exists" };
  if (ErrGRPCPeerURLExist.matches(e)) return { status: 409, message: "membership: peerURL exists" };
  if (ErrGRPCMemberNotFound.matches(e)) return { status: 404, message: `No such member: ${id}` };
  if (ErrGRPCMemberBadURLs.matches(e)) return { status: 400, message: e.message };
  return { status: 500, message: e.message };
}

export async function serveV2Members(
  rpc: V3Rpc,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const sub = path.slice("/v2/members".length).replace(/^\/+/, "");
  const s = rpc.server;
  const method = req.method ?? "GET";
  const notAllowed = (allow: string) => {
    res.setHeader("Allow", allow);
    send(res, rpc, 405, { message: "Method Not Allowed" });
  };
  try {
    if (sub === "") {
      if (method === "GET") {
        const list = [...(await s.memberList(false)).members];
        list.sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
        send(res, rpc, 200, { members: list.map(v2Member) });
        return;
      }
      if (method !== "POST" || s.memberAdd === undefined) return notAllowed("GET, POST");
      const urls = await readPeerUrls(req);
      if (typeof urls === "string")
        return send(res, rpc, urls === "Bad Content-Type" ? 415 : 400, { message: urls });
      const r = await s.memberAdd({ peerURLs: urls, isLearner: false });
      send(res, rpc, 201, v2Member(r.member!));
      return;
    }
    if (sub === "leader") {
      if (method !== "GET") return notAllowed("GET");
      const id = s.leader();
      const leader = (await s.memberList(false)).members.find((m) => m.ID === id);
      if (id === 0n || leader === undefined) return send(res, rpc, 503, { message: "During election" });
      send(res, rpc, 200, v2Member(leader));
      return;
    }
    if (!/^[0-9a-fA-F]{1,16}$/.test(sub)) return send(res, rpc, 404, { message: `No such member: ${sub}` });
    const id = BigInt(`0x${sub}`);
    if (method === "DELETE" && s.memberRemove !== undefined) {
      await s.memberRemove({ ID: id });
      send(res, rpc, 204);
      return;
    }
    if (method === "PUT" && s.memberUpdate !== undefined) {
      const urls = await readPeerUrls(req);
      if (typeof urls === "string")
        return send(res, rpc, urls === "Bad Content-Type" ? 415 : 400, { message: urls });
      await s.memberUpdate({ ID: id, peerURLs: urls });
      send(res, rpc, 204);
      return;
    }
    notAllowed("DELETE, PUT");
  } catch (e) {
    const { status, message } = v2Error(e, sub);
    send(res, rpc, status, { message });
  }
}
