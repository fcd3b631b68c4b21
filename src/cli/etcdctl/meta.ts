// The version etcdctl reports: the etcd release etcd-ts implements, and its API version.

import { ETCD_SERVER_VERSION } from "../../server/config.js";

export const VERSION = ETCD_SERVER_VERSION;
export const API_VERSION = VERSION.split(".").slice(0, 2).join(".");
