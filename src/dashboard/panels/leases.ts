/** Client-id leases grouped by purpose: which ids each purpose holds, by whom, until when. */
import { dash, duration, h, num, swap } from "../dom.js";
import type { Lease } from "../types.js";

export function renderLeases(el: HTMLElement, leases: readonly Lease[], now: number): void {
  if (leases.length === 0) {
    swap(el, h("p", { class: "none" }, "No leases."));
    return;
  }
  const byPurpose = new Map<string, Lease[]>();
  for (const l of leases) byPurpose.set(l.purpose, [...(byPurpose.get(l.purpose) ?? []), l]);
  const groups = [...byPurpose.entries()].sort(([a], [b]) => a.localeCompare(b));
  swap(
    el,
    h(
      "div",
      { class: "purposes" },
      ...groups.map(([purpose, list]) =>
        h(
          "section",
          { class: "purpose", "aria-label": `purpose ${purpose}` },
          h("h3", {}, purpose, " ", h("span", { class: "count" }, `(${list.length})`)),
          h(
            "ul",
            {},
            ...list
              .sort((a, b) => a.clientId - b.clientId)
              .map((l) =>
                h(
                  "li",
                  {},
                  h("strong", { class: "id" }, num(l.clientId)),
                  ` ${l.owner}`,
                  l.pid === null ? "" : ` · pid ${l.pid}`,
                  ` · ${l.upstream}`,
                  ` · expires in ${l.expiresAt > now ? duration(l.expiresAt - now) : dash}`,
                ),
              ),
          ),
        ),
      ),
    ),
  );
}
