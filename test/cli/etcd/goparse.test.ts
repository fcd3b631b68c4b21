import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatGoDuration,
  parseEtcdURLs,
  parseGoBool,
  parseGoDuration,
  parseGoInt,
  parseGoUint,
  splitHostPort,
} from "../../../src/cli/etcd/goparse.js";
import { EtcdURL, urlHostPort, urlToString } from "../../../src/server/config.js";

test("goparse: ParseUint/ParseInt with base 0, as Go's flag package reads uint and int flags", () => {
  assert.equal(parseGoUint("100", 64), 100n);
  assert.equal(parseGoUint("0x10", 64), 16n);
  assert.equal(parseGoUint("0o17", 64), 15n);
  assert.equal(parseGoUint("017", 64), 15n); // a leading 0 means octal
  assert.equal(parseGoUint("0b101", 64), 5n);
  assert.equal(parseGoUint("1_000", 64), 1000n);
  assert.equal(parseGoUint("0", 64), 0n);
  assert.equal(parseGoUint("18446744073709551615", 64), 18446744073709551615n);
  for (const bad of ["", "abc", "-1", "+1", "08", "1__0", "_1", "1_", "1.5", " 1"]) {
    assert.equal(parseGoUint(bad, 64), "parse error", bad);
  }
  assert.equal(parseGoUint("18446744073709551616", 64), "value out of range");
  assert.equal(parseGoUint("4294967296", 32), "value out of range");
  assert.equal(parseGoInt("-5", 64), -5n);
  assert.equal(parseGoInt("+5", 64), 5n);
  assert.equal(parseGoInt("9223372036854775807", 64), 9223372036854775807n);
  assert.equal(parseGoInt("-9223372036854775808", 64), -9223372036854775808n);
  assert.equal(parseGoInt("9223372036854775808", 64), "value out of range");
  assert.equal(parseGoInt("-", 64), "parse error");
});

test("goparse: ParseBool accepts exactly Go's spellings", () => {
  for (const t of ["1", "t", "T", "TRUE", "true", "True"]) assert.equal(parseGoBool(t), true);
  for (const f of ["0", "f", "F", "FALSE", "false", "False"]) assert.equal(parseGoBool(f), false);
  for (const bad of ["yes", "on", "tRUE", "", "2"]) assert.equal(parseGoBool(bad), "parse error");
});

test("goparse: ParseDuration and Duration.String", () => {
  assert.deepEqual(parseGoDuration("100ms"), { ns: 100e6 });
  assert.deepEqual(parseGoDuration("1h30m"), { ns: 5400e9 });
  assert.deepEqual(parseGoDuration("1.5s"), { ns: 1.5e9 });
  assert.deepEqual(parseGoDuration(".5s"), { ns: 0.5e9 });
  assert.deepEqual(parseGoDuration("0"), { ns: 0 });
  assert.deepEqual(parseGoDuration("-2us"), { ns: -2000 });
  assert.deepEqual(parseGoDuration("100"), { error: 'time: missing unit in duration "100"' });
  assert.deepEqual(parseGoDuration("5d"), { error: 'time: unknown unit "d" in duration "5d"' });
  assert.deepEqual(parseGoDuration(""), { error: 'time: invalid duration ""' });
  assert.deepEqual(parseGoDuration("abc"), { error: 'time: invalid duration "abc"' });
  assert.equal(formatGoDuration(0), "0s");
  assert.equal(formatGoDuration(100e6), "100ms");
  assert.equal(formatGoDuration(60e9), "1m0s");
  assert.equal(formatGoDuration(7200e9), "2h0m0s");
  assert.equal(formatGoDuration(1.5e9), "1.5s");
  assert.equal(formatGoDuration(-1e9), "-1s");
});

test("goparse: SplitHostPort errors as Go's", () => {
  assert.deepEqual(splitHostPort("a:1"), { host: "a", port: "1" });
  assert.deepEqual(splitHostPort("[::1]:2380"), { host: "::1", port: "2380" });
  assert.deepEqual(splitHostPort(":2380"), { host: "", port: "2380" });
  assert.deepEqual(splitHostPort("a"), { error: "address a: missing port in address" });
  assert.deepEqual(splitHostPort(""), { error: "missing port in address" });
  assert.deepEqual(splitHostPort("::1:2"), { error: "address ::1:2: too many colons in address" });
  assert.deepEqual(splitHostPort("[::1]"), { error: "address [::1]: missing port in address" });
});

test("goparse: etcd's URL lists (types.NewURLs): accepted forms, sorting, and etcd's error texts", () => {
  const ok = parseEtcdURLs(["http://127.0.0.1:2380", " https://10.0.0.1:2380 ", "unix://localhost:1234"]);
  assert.ok(Array.isArray(ok));
  assert.deepEqual(
    ok.map((u) => String(u)),
    ["http://127.0.0.1:2380", "https://10.0.0.1:2380", "unix://localhost:1234"],
  );
  const sorted = parseEtcdURLs(["http://b:1", "http://a:1", "HTTP://c:1"]);
  assert.ok(Array.isArray(sorted));
  assert.deepEqual(
    sorted.map((u) => u.canonical),
    ["http://a:1", "http://b:1", "http://c:1"],
  );
  const cases: [string, string][] = [
    ["localhost:2380", "URL scheme must be http, https, unix, or unixs: localhost:2380"],
    ["127.0.0.1:2380", 'parse "127.0.0.1:2380": first path segment in URL cannot contain colon'],
    ["http://127.0.0.1", 'URL address does not have the form "host:port": http://127.0.0.1'],
    ["http://127.0.0.1:abc", 'parse "http://127.0.0.1:abc": invalid port ":abc" after host'],
    ["http://127.0.0.1:2380/x", "URL must not contain a path: http://127.0.0.1:2380/x"],
    ["http://127.0.0.1:2380/", "URL must not contain a path: http://127.0.0.1:2380/"],
    ["ftp://127.0.0.1:2380", "URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:2380"],
    [":2380", 'parse ":2380": missing protocol scheme'],
    ["", "URL scheme must be http, https, unix, or unixs: "],
    ["http://a b:1", 'parse "http://a b:1": invalid character " " in host name'],
    ["http:foo", 'URL address does not have the form "host:port": http:foo'],
  ];
  for (const [input, error] of cases) assert.deepEqual(parseEtcdURLs([input]), { error }, input);
  assert.deepEqual(parseEtcdURLs([]), { error: "no valid URLs given" });
});

test("config: EtcdURL prints as etcd does, keeps explicit default ports, and tells what to bind", () => {
  const u = new EtcdURL("http://10.0.0.1:80");
  assert.equal(String(u), "http://10.0.0.1:80");
  assert.equal(JSON.stringify({ u }), '{"u":"http://10.0.0.1:80"}');
  assert.equal(u.href, "http://10.0.0.1/"); // WHATWG's own normalisation stays available
  assert.deepEqual(urlHostPort(u), { host: "10.0.0.1", port: 80 });
  assert.deepEqual(urlHostPort(new EtcdURL("http://[::1]:2380")), { host: "::1", port: 2380 });
  assert.equal(urlToString(new URL("http://a:2380")), "http://a:2380");
  assert.ok(u instanceof URL);
});
