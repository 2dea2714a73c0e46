/**
 * One card per line (paper and live side by side): state (the words the daemon uses, with a colour that only repeats them),
 * its identity in capitals beside the name (PAPER, LIVE or MOCK: which money the line can
 * move must never take reading to find), what it connects to, server version, client id, uptime of the current socket, the last
 * heartbeat round trip and reconnects since start, its own proxy port, whether it takes orders
 * and the tenants on it.
 */
import { dash, duration, h, num, swap } from "../dom.js";
import type { LineView, Tenant } from "../types.js";

const GOOD = new Set(["ready"]);
const WARN = new Set(["degraded", "connecting", "handshaking", "reconnecting"]);

export function tone(state: string): "good" | "warn" | "bad" {
  return GOOD.has(state) ? "good" : WARN.has(state) ? "warn" : "bad";
}

function row(term: string, value: Node | string): HTMLElement[] {
  return [h("dt", {}, term), h("dd", {}, value)];
}

const IDENTITY_LABEL = { paper: "PAPER", live: "LIVE", mock: "MOCK" } as const;

/** The identity badge: the word says it; the colour (live loud, paper calm) only repeats it. */
export function identityBadge(l: LineView): HTMLElement {
  const mode = l.identity.mode;
  const accounts = l.identity.accounts.join(", ");
  const title =
    mode === null
      ? "identity not known yet: recorded at the line's first ready"
      : `${mode}${accounts ? ` ${accounts}` : ""} (${l.identity.source === "config" ? "pinned by the config" : l.identity.source})`;
  return h(
    "span",
    { class: `identity identity-${mode ?? "unknown"}`, "data-identity": mode ?? "unknown", title },
    mode === null ? "PAPER/LIVE ?" : IDENTITY_LABEL[mode],
  );
}

/** The tenants of a line, by id (at most a few named; the count says how many). */
const NAMED_TENANTS = 6;

function tenantList(tenants: readonly Tenant[]): Node | string {
  if (tenants.length === 0) return "none";
  const named = tenants.slice(0, NAMED_TENANTS).map((t) => t.id);
  const more = tenants.length > named.length ? ` +${tenants.length - named.length}` : "";
  return h("span", { class: "line-tenants" }, `${num(tenants.length)}: ${named.join(", ")}${more}`);
}

export function lineCard(l: LineView, now: number, tenants: readonly Tenant[] = []): HTMLElement {
  const since = l.connectedSince ? Date.parse(l.connectedSince) : null;
  const accounts = l.accounts.length > 0 ? l.accounts : l.identity.accounts;
  const own = tenants.filter((t) => t.line === l.name);
  return h(
    "article",
    { class: "card", "data-line": l.name, "aria-labelledby": `line-${l.name}` },
    h(
      "header",
      {},
      h("h3", { id: `line-${l.name}` }, l.name),
      identityBadge(l),
      h("span", { class: `state ${tone(l.state)}`, "data-state": l.state }, l.state),
    ),
    h("p", { class: "reason" }, l.reason || dash),
    h(
      "dl",
      {},
      ...row("Upstream", l.upstream),
      ...row("Proxy port", l.proxyPort === undefined || l.proxyPort === null ? dash : String(l.proxyPort)),
      ...row(
        "Orders",
        l.readOnly === undefined
          ? dash
          : h(
              "span",
              { class: l.readOnly ? "orders read-only" : "orders" },
              l.readOnly ? "read-only" : "allowed",
            ),
      ),
      ...row("Tenants", tenantList(own)),
      ...row("Server version", num(l.serverVersion)),
      ...row("Client id", num(l.clientId)),
      ...row("Uptime", since === null ? dash : duration(now - since)),
      ...row("Heartbeat RTT", l.heartbeatRttMs === null ? dash : `${num(l.heartbeatRttMs)} ms`),
      ...row("Reconnects", num(l.reconnects)),
      ...row("Time ready", `${num(l.uptimeRatio * 100, 1)} %`),
      ...row("Accounts", accounts.length > 0 ? accounts.join(", ") : dash),
    ),
  );
}

export function renderLines(
  el: HTMLElement,
  lines: readonly LineView[],
  now: number,
  tenants: readonly Tenant[] = [],
): void {
  const list = h("div", { class: "card-list" }, ...lines.map((l) => lineCard(l, now, tenants)));
  if (lines.length === 0) swap(el, h("p", { class: "none" }, "No lines configured."));
  else swap(el, list);
}
