/**
 * Who is connected: one row per tenant (proxy socket, HTTP API, library pool member), its
 * line named with that line's PAPER / LIVE badge, so a live client stands out at a glance.
 */
import { dash, h, num, swap, table } from "../dom.js";
import type { LineView, Tenant } from "../types.js";
import { identityBadge } from "./lines.js";

function lineCell(t: Tenant, lines: readonly LineView[]): Node | string {
  if (t.line === undefined) return dash;
  const line = lines.find((l) => l.name === t.line);
  return h(
    "span",
    { class: "tenant-line", "data-line": t.line },
    `${t.line} `,
    ...(line ? [identityBadge(line)] : []),
  );
}

export function renderTenants(
  el: HTMLElement,
  tenants: readonly Tenant[],
  lines: readonly LineView[] = [],
): void {
  const rows = tenants.map((t) => [
    h("code", {}, t.id),
    t.kind,
    t.name || dash,
    num(t.clientId),
    lineCell(t, lines),
    t.state,
    num(t.subscriptions),
    num(t.liveRequests),
    num(t.messagesIn),
    num(t.messagesOut),
    num(t.queued),
  ]);
  swap(
    el,
    table(
      "Tenants",
      [
        "Tenant",
        "Kind",
        "Name",
        "Virtual id",
        "Line",
        "State",
        "Subscriptions",
        "Requests",
        "Msgs in",
        "Msgs out",
        "Queued",
      ],
      rows,
      [3, 6, 7, 8, 9, 10],
    ),
  );
}
