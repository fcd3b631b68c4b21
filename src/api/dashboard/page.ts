// The dashboard page: one self-contained HTML document (no external assets), served by every member.
// Its script polls /dashboard/api/cluster every second for the members' roles, terms and indices, and
// uses the /v3 JSON gateway for the key browser (range, put, delete), the watch stream and member
// operations, sending the token from /v3/auth/authenticate when auth is on.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>etcd-ts dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2433; background: #f5f6f8; }
  header { background: #1d2433; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 12px 16px; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceef2; font-variant-numeric: tabular-nums; }
  th { font-weight: 600; color: #5a6478; }
  tr.leader td:first-child::before { content: "\\2605 "; color: #d4a000; }
  tr.down td { color: #b3261e; }
  input[type=text], input[type=password] { padding: 4px 6px; border: 1px solid #c5cad3; border-radius: 4px; }
  button { padding: 4px 10px; border: 1px solid #8a93a5; border-radius: 4px; background: #fff; cursor: pointer; }
  button:hover { background: #eef0f4; }
  .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
  .muted { color: #5a6478; }
  .err { color: #b3261e; white-space: pre-wrap; }
  pre { background: #f5f6f8; padding: 8px; max-height: 260px; overflow: auto; margin: 0; }
  td.value { max-width: 480px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
</style>
</head>
<body>
<header><h1>etcd-ts</h1><span id="summary" class="muted"></span></header>
<main>
  <section id="login" hidden>
    <h2>Sign in (auth is enabled)</h2>
    <div class="row"><input id="user" type="text" placeholder="user"><input id="pass" type="password" placeholder="password"><button id="signin">Sign in</button></div>
  </section>
  <section>
    <h2>Members</h2>
    <table><thead><tr><th>name</th><th>ID</th><th>role</th><th>term</th><th>commit</th><th>applied</th><th>revision</th><th>DB size</th><th>version</th><th>alarms</th><th>client URLs</th><th></th></tr></thead>
    <tbody id="members"></tbody></table>
    <div class="row" style="margin-top:8px"><input id="peerurl" type="text" size="32" placeholder="http://127.0.0.1:2380"><label><input id="learner" type="checkbox"> learner</label><button id="add">Add member</button></div>
    <pre id="addout" hidden></pre>
  </section>
  <section>
    <h2>Keys</h2>
    <div class="row"><input id="prefix" type="text" placeholder="prefix (empty: all)"><button id="list">List</button><span id="count" class="muted"></span></div>
    <table><thead><tr><th>key</th><th>value</th><th>mod rev</th><th>version</th><th>lease</th><th></th></tr></thead><tbody id="keys"></tbody></table>
    <div class="row" style="margin-top:8px"><input id="pkey" type="text" placeholder="key"><input id="pval" type="text" size="40" placeholder="value"><button id="put">Put</button></div>
  </section>
  <section>
    <h2>Watch</h2>
    <div class="row"><input id="wprefix" type="text" placeholder="prefix (empty: all)"><button id="watch">Watch</button><button id="unwatch" disabled>Stop</button></div>
    <pre id="events"></pre>
  </section>
  <div id="error" class="err"></div>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const enc = new TextEncoder(), dec = new TextDecoder();
const b64 = (s) => btoa(String.fromCharCode(...enc.encode(s)));
const unb64 = (s) => (s ? dec.decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0))) : "");
const pick = (o, snake, camel) => (o ? o[snake] ?? o[camel] : undefined);
function prefixEnd(s) {
  const b = enc.encode(s);
  for (let i = b.length - 1; i >= 0; i--) if (b[i] < 0xff) { const e = b.slice(0, i + 1); e[i]++; return e; }
  return new Uint8Array([0]);
}
const bytesB64 = (b) => btoa(String.fromCharCode(...b));
const size = (n) => (n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MiB" : n >= 1024 ? (n / 1024).toFixed(1) + " KiB" : n + " B");
let token = sessionStorage.getItem("etcd-ts-token") || "";

function headers() { return token ? { Authorization: token } : {}; }
function showError(e) { $("error").textContent = e ? String(e.message || e) : ""; }
function needLogin(status, body) {
  if (status === 401 || /user name is empty|invalid auth token/.test(body)) { $("login").hidden = false; return true; }
  return false;
}
async function api(path, body) {
  const r = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify(body || {}) });
  const text = await r.text();
  if (!r.ok) { needLogin(r.status, text); let m = text; try { m = JSON.parse(text).message || text; } catch {} throw new Error(path + ": " + m); }
  return JSON.parse(text);
}
function cell(tr, text, cls) { const td = tr.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
function button(td, label, fn) { const b = document.createElement("button"); b.textContent = label; b.onclick = () => fn().then(() => showError(), showError); td.append(b, " "); }

async function refresh() {
  try {
    const r = await fetch("/dashboard/api/cluster", { headers: headers() });
    const text = await r.text();
    if (!r.ok) { needLogin(r.status, text); throw new Error("cluster: " + text); }
    const view = JSON.parse(text);
    const tbody = $("members"); tbody.textContent = "";
    let leader = "", term = 0;
    for (const m of view.members) {
      const s = m.status, tr = tbody.insertRow();
      const isLeader = s && s.leader === m.id;
      if (isLeader) { tr.className = "leader"; leader = m.name || m.id; }
      if (!s) tr.className = "down";
      if (s) term = Math.max(term, s.raftTerm);
      cell(tr, (m.name || "(unstarted)") + (m.id === view.self ? " (this)" : ""));
      cell(tr, m.id);
      cell(tr, !s ? "unreachable" : m.isLearner ? "learner" : isLeader ? "leader" : "follower");
      for (const v of s ? [s.raftTerm, s.raftIndex, s.raftAppliedIndex, s.revision, size(s.dbSize), s.version, s.errors.join(", ")] : ["", "", "", "", "", "", m.error || ""]) cell(tr, String(v));
      cell(tr, m.clientURLs.join(", "));
      const td = tr.insertCell();
      if (m.isLearner) button(td, "Promote", () => api("/v3/cluster/member/promote", { ID: BigInt("0x" + m.id).toString() }));
      // Only the leader hands its leadership over: offered on the leader's own dashboard.
      const selfLeads = view.members.some((x) => x.id === view.self && x.status && x.status.leader === x.id);
      if (s && selfLeads && !isLeader && !m.isLearner) button(td, "Make leader", () => api("/v3/maintenance/transfer-leadership", { targetID: BigInt("0x" + m.id).toString() }));
      button(td, "Remove", async () => { if (confirm("Remove member " + (m.name || m.id) + "?")) await api("/v3/cluster/member/remove", { ID: BigInt("0x" + m.id).toString() }); });
    }
    $("summary").textContent = view.members.length + " members, leader " + (leader || "none") + ", term " + term;
  } catch (e) { showError(e); }
}

async function listKeys() {
  const p = $("prefix").value;
  const req = { key: b64(p || "\\0"), range_end: p ? bytesB64(prefixEnd(p)) : b64("\\0"), limit: 200 };
  const r = await api("/v3/kv/range", req);
  const kvs = r.kvs || [], tbody = $("keys"); tbody.textContent = "";
  for (const kv of kvs) {
    const tr = tbody.insertRow(), key = unb64(kv.key);
    cell(tr, key); cell(tr, unb64(kv.value), "value");
    cell(tr, pick(kv, "mod_revision", "modRevision") || ""); cell(tr, kv.version || ""); cell(tr, kv.lease && kv.lease !== "0" ? BigInt(kv.lease).toString(16) : "");
    button(tr.insertCell(), "Delete", async () => { await api("/v3/kv/deleterange", { key: kv.key }); await listKeys(); });
  }
  $("count").textContent = (r.count || 0) + " keys" + (r.more ? " (first 200 shown)" : "");
}

let watching;
async function watch() {
  const p = $("wprefix").value, out = $("events");
  watching = new AbortController();
  $("watch").disabled = true; $("unwatch").disabled = false; out.textContent = "";
  const create = { create_request: { key: b64(p || "\\0"), range_end: p ? bytesB64(prefixEnd(p)) : b64("\\0") } };
  try {
    const r = await fetch("/v3/watch", { method: "POST", headers: headers(), body: JSON.stringify(create), signal: watching.signal });
    const reader = r.body.getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\\n")) >= 0) {
        const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line), res = msg.result || {};
        if (msg.error) { out.textContent += "error: " + (msg.error.message || JSON.stringify(msg.error)) + "\\n"; continue; }
        for (const ev of res.events || []) {
          const kv = ev.kv || {};
          out.textContent += (ev.type || "PUT") + " " + unb64(kv.key) + (ev.type === "DELETE" ? "" : " = " + unb64(kv.value)) + "  (rev " + (pick(kv, "mod_revision", "modRevision") || "") + ")\\n";
        }
        out.scrollTop = out.scrollHeight;
      }
    }
  } catch (e) { if (e.name !== "AbortError") showError(e); }
  $("watch").disabled = false; $("unwatch").disabled = true;
}

$("signin").onclick = async () => {
  try {
    const r = await api("/v3/auth/authenticate", { name: $("user").value, password: $("pass").value });
    token = r.token; sessionStorage.setItem("etcd-ts-token", token); $("login").hidden = true; showError(); refresh();
  } catch (e) { showError(e); }
};
$("list").onclick = () => listKeys().then(() => showError(), showError);
$("put").onclick = () => api("/v3/kv/put", { key: b64($("pkey").value), value: b64($("pval").value) }).then(listKeys).then(() => showError(), showError);
$("watch").onclick = () => watch();
$("unwatch").onclick = () => watching && watching.abort();
$("add").onclick = async () => {
  try {
    const r = await api("/v3/cluster/member/add", { peerURLs: [$("peerurl").value], isLearner: $("learner").checked });
    const m = r.member || {};
    const out = $("addout"); out.hidden = false;
    out.textContent = "Added member " + BigInt(m.ID).toString(16) + ". Start it with --initial-cluster-state existing and the current --initial-cluster.";
    showError(); refresh();
  } catch (e) { showError(e); }
};
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
