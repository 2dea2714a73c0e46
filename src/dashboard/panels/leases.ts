/**
 * Client-id leases grouped by purpose: each configured purpose with its id range, and which
 * ids it holds, by whom, until when.
 */
import { dash, duration, h, num, swap } from "../dom.js";
import type { Lease, Purpose } from "../types.js";

export function renderLeases(
  el: HTMLElement,
  leases: readonly Lease[],
  purposes: readonly Purpose[],
  now: number,
): void {
  if (leases.length === 0 && purposes.length === 0) {
    swap(el, h("p", { class: "none" }, "No leases."));
    return;
  }
  const byPurpose = new Map<string, Lease[]>(purposes.map((p) => [p.name, []]));
  for (const l of leases) byPurpose.set(l.purpose, [...(byPurpose.get(l.purpose) ?? []), l]);
  const range = new Map(purposes.map((p) => [p.name, p]));
  const groups = [...byPurpose.entries()].sort(
    ([a], [b]) => (range.get(a)?.min ?? Infinity) - (range.get(b)?.min ?? Infinity) || a.localeCompare(b),
  );
  swap(
    el,
    h(
      "div",
      { class: "purposes" },
      ...groups.map(([purpose, list]) =>
        h(
          "section",
          { class: "purpose", "aria-label": `purpose ${purpose}` },
          h(
            "h3",
            {},
            purpose,
            " ",
            h(
              "span",
              { class: "count" },
              range.has(purpose)
                ? `ids ${range.get(purpose)!.min}–${range.get(purpose)!.max} (${list.length}/${range.get(purpose)!.size})`
                : `(${list.length})`,
            ),
          ),
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
