#!/usr/bin/env node
// The npm registry reachable from these machines serves platform packages for Linux only, so
// `npm install` leaves the other platforms' optional packages out of package-lock.json and `npm ci`
// then refuses the lock as out of sync. This adds a platform-tagged optional entry for each missing
// one; npm ci skips them on Linux. Run after every `npm install` that changes the lock.
import { readFileSync, writeFileSync } from "node:fs";

const path = "package-lock.json";
const lock = JSON.parse(readFileSync(path, "utf8"));
const pkgs = lock.packages;
const added = [];
for (const [, info] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(info.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (pkgs[key]) continue;
    const name = dep.split("/").pop();
    const os =
      ["darwin", "win32", "android", "freebsd", "openbsd", "sunos", "aix"].find((o) => name.includes(o)) ??
      "linux";
    const cpu =
      ["arm64", "ia32", "ppc64", "s390x", "riscv64", "loong64"].find((c) => name.includes(c)) ??
      (/-arm(-|$)/.test(name) ? "arm" : "x64");
    const entry = { version, cpu: [cpu], optional: true, os: [os] };
    if (info.dev) entry.dev = true;
    if (name.includes("musl")) entry.libc = ["musl"];
    pkgs[key] = entry;
    added.push(key);
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added ${added.length} platform entries` : "lock already complete");
