/**
 * Shared subscriptions (fan-out): one row per upstream request that serves several tenants'
 * identical requests, and how many upstream requests (market-data lines) sharing saves.
 */
import { dash, h, num, swap, table } from "../dom.js";
import type { Group } from "../types.js";

export function renderGroups(el: HTMLElement, groups: readonly Group[], linesSaved: number): void {
  const rows = [...groups]
    .sort((a, b) => b.members - a.members || a.upstreamId - b.upstreamId)
    .map((g) => [
      g.line || dash,
      g.request,
      h("code", {}, String(g.upstreamId)),
      num(g.members),
      num(g.ticksPerSecond, 1),
      num(g.messages),
    ]);
  const streams = groups.filter((g) => g.kind === "stream").length;
  swap(
    el,
    h(
      "div",
      {},
      h(
        "p",
        { class: "summary" },
        `${num(streams)} shared streams · ${num(groups.length - streams)} shared one-shots in flight · ${num(linesSaved)} upstream requests saved`,
      ),
      table(
        "Shared subscriptions",
        ["Line", "Request", "Upstream id", "Members", "Ticks/s", "Messages"],
        rows,
        [2, 3, 4, 5],
      ),
    ),
  );
}
