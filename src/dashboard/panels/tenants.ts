/** Who is connected: one row per tenant (proxy socket, HTTP API, library pool member). */
import { dash, h, num, swap, table } from "../dom.js";
import type { Tenant } from "../types.js";

export function renderTenants(el: HTMLElement, tenants: readonly Tenant[]): void {
  const rows = tenants.map((t) => [
    h("code", {}, t.id),
    t.kind,
    t.name || dash,
    num(t.clientId),
    t.line ?? dash,
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
