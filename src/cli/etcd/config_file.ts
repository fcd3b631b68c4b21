// --config-file: etcd's YAML configuration (keys as etcd's server/embed/config.go json tags, e.g.
// etcd.conf.yml.sample). etcd converts the YAML to JSON and decodes that into its Config struct, so
// values must have the JSON type of the field (a number for heartbeat-interval, a string for
// auto-compaction-retention, nanoseconds for durations, a list for log-outputs) and the messages for a
// wrong type are encoding/json's. URL lists are comma-separated strings. Keys match case-insensitively;
// unknown keys are ignored (etcd-ts also warns about them).

import { parse as parseYaml } from "yaml";
import { FLAGS, type FlagSpec } from "./flags.js";
import { compareStrings, parseEtcdURLs } from "./goparse.js";
import { dedupeUrls, type Value } from "./values.js";

export interface FileApplyResult {
  /** Flags (by flag name) the file set. */
  set: Set<string>;
  /** Keys that are not etcd configuration keys (dotted for nested ones). */
  unknownKeys: string[];
  /**
   * The first error. `direct` errors are printed by etcd as they are (not as "failed to verify flags"),
   * for the URL lists and the proxy settings.
   */
  error?: { message: string; direct?: boolean };
}

type Target =
  | {
      spec: FlagSpec;
      struct: string;
      goType: string;
      mode: "value" | "urlString" | "corsString" | "setString";
    }
  | { nested: Map<string, Target>; struct: string; goType: string };

const GO_TYPE: Record<string, string> = {
  string: "string",
  bool: "bool",
  uint: "uint",
  uint64: "uint64",
  int: "int",
  int64: "int64",
  uint32: "uint32",
  duration: "time.Duration",
  select: "string",
  selectMulti: "config.V2DeprecationEnum",
  strings: "[]string",
  uniqueStrings: "[]string",
};

const PROXY_KEYS = new Set([
  "proxy",
  "proxy-failure-wait",
  "proxy-refresh-interval",
  "proxy-dial-timeout",
  "proxy-write-timeout",
  "proxy-read-timeout",
  "discovery-fallback",
]);

const NESTED_TYPES: Record<string, string> = {
  "client-transport-security": "embed.securityConfig",
  "peer-transport-security": "embed.securityConfig",
  "socket-options": "transport.SocketOpts",
};

function buildTargets(): Map<string, Target> {
  const top = new Map<string, Target>();
  for (const spec of FLAGS) {
    if (spec.yaml === null) continue;
    const key = spec.yaml ?? spec.name;
    const struct = PROXY_KEYS.has(key) ? "configProxy" : "configYAML";
    let mode: "value" | "urlString" | "corsString" | "setString" = "value";
    let goType = GO_TYPE[spec.kind] ?? "string";
    if (spec.kind === "urls") [mode, goType] = ["urlString", "string"];
    else if (spec.kind === "cors") [mode, goType] = ["corsString", "string"];
    else if (spec.name === "host-whitelist") [mode, goType] = ["setString", "string"];
    const target: Target = { spec, struct, goType, mode };
    const dot = key.indexOf(".");
    if (dot < 0) {
      top.set(key, target);
      continue;
    }
    const outer = key.slice(0, dot);
    let parent = top.get(outer);
    if (!parent) {
      parent = { nested: new Map(), struct, goType: NESTED_TYPES[outer] ?? "struct" };
      top.set(outer, parent);
    }
    if ("nested" in parent) parent.nested.set(key.slice(dot + 1), target);
  }
  return top;
}

const TARGETS = buildTargets();

function jsonType(v: unknown): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number" || typeof v === "bigint") return "number";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "array";
  if (v instanceof Date) return "string";
  return "object";
}

function typeError(v: unknown, path: string, struct: string, goType: string, withNumber = false): string {
  const what = withNumber ? `number ${String(v)}` : jsonType(v);
  return `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${what} into Go struct field ${struct}.${path} of type ${goType}`;
}

/** encoding/json's field lookup: exact key first, then case-insensitive. */
function lookup(map: Map<string, Target>, key: string): Target | undefined {
  const exact = map.get(key);
  if (exact) return exact;
  const lower = key.toLowerCase();
  for (const [k, t] of map) if (k.toLowerCase() === lower) return t;
  return undefined;
}

const UINT_MAX: Record<string, number> = { uint: 2 ** 64 - 1, uint64: 2 ** 64 - 1, uint32: 2 ** 32 - 1 };
const INT_RANGE = 2 ** 63;

function decodeScalar(
  t: Extract<Target, { spec: FlagSpec }>,
  v: unknown,
  path: string,
  current: Value,
): { value?: Value; error?: { message: string; direct?: boolean } } {
  const { spec, struct, goType } = t;
  const bad = (withNumber = false) => ({
    error: { message: typeError(v, path, struct, goType, withNumber) },
  });
  if (t.mode === "urlString" || t.mode === "corsString" || t.mode === "setString") {
    if (typeof v !== "string") return bad();
    if (v === "") return {};
    if (t.mode === "setString") return { value: [...new Set(v.split(","))].sort(compareStrings) };
    if (t.mode === "corsString" && v === "*") return { value: ["*"] };
    const urls = parseEtcdURLs(v.split(","));
    if (!Array.isArray(urls)) {
      return { error: { message: `unexpected error setting up ${path}: ${urls.error}`, direct: true } };
    }
    if (t.mode === "corsString")
      return { value: [...new Set(urls.map((u) => u.canonical))].sort(compareStrings) };
    return { value: dedupeUrls(urls) };
  }
  switch (spec.kind) {
    case "string":
    case "selectMulti":
      if (v instanceof Date) return { value: v.toISOString() };
      return typeof v === "string" ? { value: v } : bad();
    case "select":
      if (typeof v !== "string") return bad();
      if (spec.name === "initial-cluster-state") return { value: v }; // checked by validation, as etcd
      if (v === "") return {};
      if (!spec.choices!.includes(v)) {
        const what = spec.name === "proxy" ? "proxyFlag" : `${spec.name} flag`;
        return { error: { message: `unexpected error setting up ${what}: invalid value`, direct: true } };
      }
      return { value: v };
    case "bool":
      return typeof v === "boolean" ? { value: v } : bad();
    case "uint":
    case "uint64":
    case "uint32":
    case "int":
    case "int64":
    case "duration": {
      if (typeof v !== "number") return bad();
      const signed = spec.kind === "int" || spec.kind === "int64" || spec.kind === "duration";
      const ok =
        Number.isInteger(v) &&
        (signed ? v >= -INT_RANGE && v < INT_RANGE : v >= 0 && v <= UINT_MAX[spec.kind]!);
      return ok ? { value: v } : bad(true);
    }
    case "strings":
    case "uniqueStrings": {
      if (!Array.isArray(v)) return bad();
      const out: string[] = [];
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        if (item === null) {
          out.push("");
          continue;
        }
        if (typeof item !== "string") {
          return { error: { message: typeError(item, path, struct, "string") } };
        }
        out.push(item);
      }
      return { value: out };
    }
    default:
      return { value: current };
  }
}

/**
 * Applies the YAML text to `values` (which holds etcd's defaults). Returns what it set, the unknown keys
 * and the first error.
 */
export function applyConfigFile(text: string, values: Map<string, Value>): FileApplyResult {
  const result: FileApplyResult = { set: new Set(), unknownKeys: [] };
  let doc: unknown;
  try {
    doc = parseYaml(text, { version: "1.1", uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
    result.error = { message: `error converting YAML to JSON: yaml: ${msg}` };
    return result;
  }
  if (doc === null || doc === undefined) return result;
  if (typeof doc !== "object" || Array.isArray(doc) || doc instanceof Date) {
    result.error = {
      message: `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonType(doc)} into Go value of type embed.configYAML`,
    };
    return result;
  }
  const walk = (obj: Record<string, unknown>, targets: Map<string, Target>, prefix: string) => {
    for (const [key, v] of Object.entries(obj)) {
      const path = prefix === "" ? key : `${prefix}.${key}`;
      const t = lookup(targets, key);
      if (!t) {
        result.unknownKeys.push(path);
        continue;
      }
      if (v === null || v === undefined) continue; // JSON null leaves the field as it is
      if ("nested" in t) {
        if (typeof v !== "object" || Array.isArray(v)) {
          result.error ??= { message: typeError(v, path, t.struct, t.goType) };
          continue;
        }
        walk(v as Record<string, unknown>, t.nested, path);
        continue;
      }
      const r = decodeScalar(t, v, path, values.get(t.spec.name)!);
      if (r.error) {
        result.error ??= r.error;
        continue;
      }
      if (r.value !== undefined) {
        values.set(t.spec.name, r.value);
        result.set.add(t.spec.name);
      }
    }
  };
  walk(doc as Record<string, unknown>, TARGETS, "");
  return result;
}
