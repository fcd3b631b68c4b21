// Flag values: reading one from its command-line / environment text (Go flag.Value.Set semantics, with the
// error text etcd prints), and writing one back as text (to compare with the default and to report).

import type { EtcdURL } from "../../server/config.js";
import type { FlagSpec } from "./flags.js";
import {
  compareStrings,
  formatGoDuration,
  parseEtcdURLs,
  parseGoBool,
  parseGoDuration,
  parseGoInt,
  parseGoUint,
} from "./goparse.js";

/**
 * A flag's value: string (string, select, selectMulti joined), boolean, number (integers; durations in
 * nanoseconds), string[] (strings, uniqueStrings, cors) or EtcdURL[] (urls).
 */
export type Value = string | boolean | number | string[] | EtcdURL[];

export type SetResult = { value: Value } | { error: string };

function uniqueSorted(items: string[]): string[] {
  return [...new Set(items)].sort(compareStrings);
}

/** Drops repeated URLs (etcd's UniqueURLs), keeping the order. */
export function dedupeUrls(urls: EtcdURL[]): EtcdURL[] {
  const seen = new Set<string>();
  return urls.filter((u) => {
    if (seen.has(u.canonical)) return false;
    seen.add(u.canonical);
    return true;
  });
}

/** flag.Value.Set for `spec` given `raw`; `current` is the value it replaces. */
export function setFromText(spec: FlagSpec, raw: string, current: Value | undefined): SetResult {
  switch (spec.kind) {
    case "string":
      return { value: raw };
    case "bool": {
      const b = parseGoBool(raw);
      return typeof b === "boolean" ? { value: b } : { error: b };
    }
    case "uint":
    case "uint64": {
      const n = parseGoUint(raw, 64);
      return typeof n === "bigint" ? { value: Number(n) } : { error: n };
    }
    case "int":
    case "int64": {
      const n = parseGoInt(raw, 64);
      return typeof n === "bigint" ? { value: Number(n) } : { error: n };
    }
    case "uint32": {
      const n = parseGoUint(raw, 32);
      if (typeof n === "bigint") return { value: Number(n) };
      const why = n === "parse error" ? "invalid syntax" : "value out of range";
      return { error: `strconv.ParseUint: parsing ${JSON.stringify(raw)}: ${why}` };
    }
    case "duration": {
      const d = parseGoDuration(raw);
      return "ns" in d ? { value: d.ns } : { error: "parse error" };
    }
    case "urls": {
      if (raw === "") return { value: current ?? [] };
      const urls = parseEtcdURLs(raw.split(","));
      return Array.isArray(urls) ? { value: dedupeUrls(urls) } : urls;
    }
    case "cors": {
      if (raw === "*") return { value: ["*"] };
      const urls = parseEtcdURLs(raw.split(","));
      return Array.isArray(urls) ? { value: uniqueSorted(urls.map((u) => u.canonical)) } : urls;
    }
    case "select":
      return spec.choices!.includes(raw) ? { value: raw } : { error: "invalid value" };
    case "selectMulti": {
      const parts = raw.split(",");
      for (const p of parts) {
        if (!spec.choices!.includes(p)) return { error: `invalid value ${JSON.stringify(p)}` };
      }
      return { value: [...parts].sort(compareStrings).join(",") };
    }
    case "strings":
      return { value: raw.split(",") };
    case "uniqueStrings":
      return { value: uniqueSorted(raw.split(",")) };
    case "ignored":
      return { value: current ?? "" };
  }
}

/** A flag's default value. */
export function defaultValue(spec: FlagSpec): Value {
  switch (spec.kind) {
    case "urls":
      return spec.def === "" ? [] : (setFromText(spec, spec.def, []) as { value: Value }).value;
    case "strings":
      return spec.def === "" ? [] : spec.def.split(",");
    case "uniqueStrings":
      return spec.def === "" ? [] : uniqueSorted(spec.def.split(","));
    case "cors":
      return spec.def === "" ? [] : [spec.def];
    case "selectMulti":
    case "ignored":
      return spec.def;
    default: {
      const r = setFromText(spec, spec.def, undefined);
      if ("error" in r) throw new Error(`bad default for --${spec.name}: ${r.error}`);
      return r.value;
    }
  }
}

/** The value as flag text (durations as Go prints them, lists comma-joined). */
export function valueText(spec: FlagSpec, v: Value): string {
  if (spec.kind === "duration" && typeof v === "number") return formatGoDuration(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x : x.canonical)).join(",");
  return String(v);
}
