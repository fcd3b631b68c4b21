// Keys of the v2 store and how nodes appear on the wire (etcd's v2store NodeExtern and Event).
//
// Paths are etcd's: absolute, cleaned as Go's path.Clean does ("/a//b/../c" is "/a/c"), "/" the root
// directory. A name starting with "_" is hidden: listed by no directory GET and reported to no recursive
// watcher above it (the discovery registry keeps its `_config` there).

/** A node as the API shows it, fields in etcd's JSON order. Absent fields are left out, as etcd's omitempty. */
export interface NodeExtern {
  key?: string;
  value?: string;
  dir?: true;
  nodes?: NodeExtern[];
  modifiedIndex?: number;
  createdIndex?: number;
}

export type V2Action = "get" | "set" | "create" | "update" | "compareAndSwap" | "delete" | "compareAndDelete";

/** A change (or a read) as the API answers it. */
export interface V2Event {
  action: V2Action;
  node: NodeExtern;
  prevNode?: NodeExtern;
}

/** Go's path.Clean(path.Join("/", p)). */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/** The parent directory of a cleaned path other than "/". */
export function parentOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

/** The last component of a cleaned path ("" for "/"). */
export function baseOf(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** True when `key`, seen from the watched or listed `from`, passes through a hidden ("_") name. */
export function isHidden(from: string, key: string): boolean {
  if (from.length > key.length) return false;
  return cleanPath(`/${key.slice(from.length)}`).includes("/_");
}

/** `p` and every ancestor directory, root first: "/a/b" gives ["/", "/a", "/a/b"]. */
export function pathAndAncestors(p: string): string[] {
  const out = ["/"];
  let cur = "";
  for (const part of p.split("/")) {
    if (part === "") continue;
    cur += `/${part}`;
    out.push(cur);
  }
  return out;
}
