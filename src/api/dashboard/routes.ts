// The dashboard on the client port (etcd-ts only): GET /dashboard is the page, GET /dashboard/api/cluster
// every member's status as JSON. The page reads and changes the cluster through the /v3 gateway, so it
// can do nothing the API does not let its user do; the cluster view needs what Status needs (any user
// when auth is on: the request's token, as for the gateway).

import type { IncomingMessage, ServerResponse } from "node:http";
import { callCredentials } from "../../auth/call_context.js";
import { statusJson } from "../../server/cluster_status.js";
import { toEtcdError } from "../../server/errors.js";
import { gatewayCredentials, httpStatusOf } from "../gateway.js";
import type { V3Rpc } from "../v3rpc.js";
import { DASHBOARD_HTML } from "./page.js";

export function isDashboardPath(path: string): boolean {
  return path === "/dashboard" || path === "/dashboard/" || path.startsWith("/dashboard/api/");
}

export async function serveDashboard(
  rpc: V3Rpc,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  if (req.method !== "GET") {
    res.writeHead(405, { "Content-Type": "text/plain; charset=utf-8" });
    res.end("Method Not Allowed\n");
    return;
  }
  if (path === "/dashboard" || path === "/dashboard/") {
    res.writeHead(200, {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
      "X-Content-Type-Options": "nosniff",
    });
    res.end(DASHBOARD_HTML);
    return;
  }
  if (path === "/dashboard/api/cluster") {
    try {
      const own = await callCredentials.run(gatewayCredentials(req), () => rpc.status());
      const members = rpc.server.clusterStatus
        ? await rpc.server.clusterStatus()
        : [
            {
              id: statusJson(own).id,
              name: "",
              peerURLs: [],
              clientURLs: [],
              isLearner: own.isLearner,
              status: statusJson(own),
            },
          ];
      res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
      res.end(JSON.stringify({ self: statusJson(own).id, members }));
    } catch (err) {
      const e = toEtcdError(err);
      res.writeHead(httpStatusOf(e.code), { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: e.message, code: e.code }));
    }
    return;
  }
  res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
  res.end("404 page not found\n");
}
