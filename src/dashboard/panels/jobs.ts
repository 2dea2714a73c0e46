/**
 * History jobs (POST /api/history/jobs): one row per job, newest first, with its progress in
 * requests answered of requests planned, bars written and pacing waits. The state cell
 * carries `data-state` so a glance (and a test) can tell running from done.
 */
import { dash, h, num, swap, table } from "../dom.js";
import type { HistoryJob } from "../types.js";

export function renderJobs(el: HTMLElement, jobs: readonly HistoryJob[]): void {
  const rows = [...jobs]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((j) => {
      const p = j.progress;
      const pct = p.chunks > 0 ? Math.round((100 * p.done) / p.chunks) : j.state === "done" ? 100 : 0;
      return [
        h("code", { title: j.id }, j.id.slice(0, 8)),
        j.spec.symbols.join(" "),
        `${j.spec.bar} ${j.spec.what}`,
        `${j.spec.from} → ${j.spec.to}`,
        h(
          "span",
          {
            class: `job-state ${j.state}`,
            "data-state": j.state,
            title: j.error?.message ?? j.failed.map((f) => `${f.symbol}: ${f.message}`).join("\n"),
          },
          j.state,
        ),
        h(
          "span",
          { class: "job-progress" },
          h("progress", { max: String(Math.max(1, p.chunks)), value: String(p.done) }),
          ` ${num(p.done)}/${num(p.chunks)} (${pct}%)`,
        ),
        num(p.bars),
        num(p.requests),
        num(p.pacingWaits),
        j.failed.length > 0 ? j.failed.map((f) => f.symbol).join(" ") : dash,
      ];
    });
  swap(
    el,
    table(
      "History jobs",
      [
        "Job",
        "Symbols",
        "Bars of",
        "Dates",
        "State",
        "Progress",
        "Bars",
        "Requests",
        "Pacing waits",
        "Failed",
      ],
      rows,
      [6, 7, 8],
    ),
  );
}
