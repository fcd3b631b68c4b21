// types.NewURLs' checks on peer URLs, as clientv3's MemberAdd runs them before sending (the error text
// etcdctl prints for a bad URL).

import { parseEtcdURLs } from "../../etcd/goparse.js";

/** The error for the first unusable URL, or undefined when all are usable. */
export function checkURLs(urls: string[]): string | undefined {
  const r = parseEtcdURLs(urls);
  return "error" in r ? r.error : undefined;
}
