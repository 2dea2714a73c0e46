/**
 * The plain status page at `/` until the dashboard exists: health, lines, tenants, leases and
 * pacing as server-rendered tables, plus links to every endpoint. No scripts beyond moving a
 * `?token=` out of the address bar (so it is not left in history or bookmarks).
 */
import type { DaemonView } from "../view.js";

const esc = (v: unknown): string => String(v ?? "–").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function table(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return "<p><em>none</em></p>";
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`)
    .join("")}</table>`;
}

export async function statusPage(view: DaemonView): Promise<string> {
  const h = view.health();
  const info = view.info();
  const leases = view.registry.state === "open" ? await view.registry.list() : [];
  const pace = view.pace();
  const mock =
    h.upstream === "mock"
      ? `<p class="warn">Upstream is the BUILT-IN MOCK gateway (port ${esc(info.mockPort)}): synthetic prices, no real orders.</p>`
      : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}.healthy{color:#080}.degraded{color:#a60}.down{color:#c00}
.warn{background:#fff3cd;padding:.5em}</style></head><body>
<script>if(location.search.includes("token="))history.replaceState(null,"",location.pathname)</script>
<h1>Switchboard <small>${esc(info.version)}</small></h1>
<p>Status: <strong class="${esc(h.status)}">${esc(h.status)}</strong> · upstream ${esc(h.upstream)} · pid ${esc(info.pid)} · since ${esc(info.startedAt)}${info.readOnly ? " · read-only" : ""}</p>
${mock}
<h2>Lines</h2>
${table(
  [
    "name",
    "state",
    "reason",
    "upstream",
    "client id",
    "server version",
    "connected since",
    "heartbeat ago (ms)",
    "reconnects",
  ],
  h.lines.map((l) => [
    l.name,
    l.state,
    l.reason,
    l.upstream,
    l.clientId,
    l.serverVersion,
    l.connectedSince,
    l.lastHeartbeatAgoMs,
    l.reconnects,
  ]),
)}
<h2>Tenants</h2>
${table(
  ["id", "kind", "name", "client id", "state"],
  view.tenants().map((t) => [t.id, t.kind, t.name, t.clientId, t.state]),
)}
<h2>Client-id leases</h2>
${table(
  ["upstream", "id", "purpose", "owner", "pid", "expires"],
  leases.map((l) => [l.upstream, l.clientId, l.purpose, l.owner, l.pid, new Date(l.expiresAt).toISOString()]),
)}
<h2>Pacing</h2>
${table(
  ["rule", "type", "used", "target", "limit", "window (ms)"],
  pace.status.rules.map((r) => [r.ruleId, r.type, r.used, r.target, r.limit, r.windowMs]),
)}
<p>Released ${esc(pace.stats.released)} · waits p99 ${esc(pace.stats.waits.p99Ms)} ms · violations ${esc(pace.stats.violations.total)}</p>
<h2>Endpoints</h2>
<ul>${[
    "/health",
    "/metrics",
    "/events",
    "/api/ib/pool/status",
    "/api/ib/pool/metrics",
    "/api/ib/pool/health",
    "/api/ib/pace/status",
    "/api/ib/pace/stats",
    "/api/ids",
    "/openapi.json",
  ]
    .map((p) => `<li><code>${p}</code></li>`)
    .join("")}</ul>
</body></html>`;
}
