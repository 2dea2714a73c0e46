/**
 * One gauge per pacing rule: use of its window (or capacity) against IB's limit, the pacer's
 * target marked as "high", and how long that rule has held requests back. Totals on top:
 * released, waits p50/p99/max, violations (which should stay 0).
 */
import { h, num, swap } from "../dom.js";
import type { LineView, PacerStatsSnapshot, PacerStatus } from "../types.js";
import { identityBadge } from "./lines.js";

const PROFILE_HELP: Readonly<Record<string, string>> = {
  current:
    "IB's rules as published now: hard historical limits for bars of 30 secs or less and head timestamps",
  legacy: "IB's former rules: hard historical limits for every bar size",
};

/**
 * Each line has its own pacer (its connection's message rate; the rules IB counts per TWS are
 * shared by the lines on one TWS): one block per line, headed by its name and badge.
 */
export function renderPacing(
  el: HTMLElement,
  pace: PacerStatus & { lines?: Record<string, PacerStatus> },
  stats: PacerStatsSnapshot & { lines?: Record<string, PacerStatsSnapshot> },
  lines: readonly LineView[] = [],
): void {
  const each = Object.entries(pace.lines ?? {});
  if (each.length <= 1) {
    swap(el, pacerBlock(pace, stats));
    return;
  }
  const blocks = each.map(([name, p]) => {
    const line = lines.find((l) => l.name === name);
    const shared = (p.gateway?.lines ?? []).filter((n) => n !== name);
    const block = pacerBlock(p, stats.lines?.[name] ?? stats);
    return h(
      "section",
      { class: "pacer", "data-pacer-line": name },
      h(
        "h3",
        {},
        `${name} `,
        ...(line ? [identityBadge(line)] : []),
        p.gateway
          ? h(
              "small",
              {},
              ` TWS ${p.gateway.name}${shared.length > 0 ? `, per-TWS rules shared with ${shared.join(", ")}` : ""}`,
            )
          : "",
      ),
      block,
    );
  });
  swap(el, h("div", {}, ...blocks));
}

function pacerBlock(pace: PacerStatus, stats: PacerStatsSnapshot): HTMLElement {
  const w = stats.waits;
  const summary = h(
    "p",
    { class: "pace-summary" },
    h(
      "strong",
      { class: "pace-profile", title: PROFILE_HELP[pace.profile] ?? "a custom rules table" },
      `${pace.profile} profile`,
    ),
    ` · Pacer ${pace.state} · released ${num(stats.released)} · queued ${num(pace.queued)} · waited ${num(w.waited)} ` +
      `(p50 ${num(w.p50Ms)} ms, p99 ${num(w.p99Ms)} ms, max ${num(w.maxMs)} ms) · `,
    h(
      "span",
      { class: stats.violations.total > 0 ? "bad" : undefined },
      `violations ${num(stats.violations.total)}`,
    ),
  );
  const rules = pace.rules.map((r) => {
    const waits = w.byRule[r.ruleId];
    const label = `rule-${r.ruleId}`;
    const window =
      r.type === "window" && r.windowMs !== undefined ? ` per ${num(r.windowMs / 1000, 0)} s` : " open";
    return h(
      "li",
      { class: "gauge", "data-rule": r.ruleId },
      h("span", { class: "rule", id: label }, r.ruleId),
      h("meter", {
        min: 0,
        max: r.limit,
        high: Math.max(0, r.target - 0.5),
        optimum: 0,
        value: r.used,
        "aria-labelledby": label,
      }),
      h("span", { class: "use" }, `${num(r.used)} / ${num(r.limit)}${window}`),
      h(
        "span",
        { class: "waits" },
        waits ? `${num(waits.count)} waits, max ${num(waits.maxMs)} ms` : "no waits",
      ),
    );
  });
  return h("div", {}, summary, h("ul", { class: "gauges" }, ...rules));
}
