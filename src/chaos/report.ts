/**
 * The chaos report, pure: the JSON summary (faults by kind, checks passed, violations,
 * recovery times, memory slope, event-loop lag), a short text table, and an SVG plot of RSS,
 * lag and reconnects over time with the faults marked.
 */
import { type CheckName, percentile, slope, type Violation } from "./invariants.js";
import type { FaultKind } from "./schedule.js";

export interface Sample {
  /** ms from the start of the run */
  at: number;
  rssMB: number;
  heapMB: number;
  /** Event-loop lag p99 of the daemon over the last interval, ms (monitor resolution removed). */
  lagMs: number;
  /** Line reconnects so far (a daemon restart counts as well). */
  reconnects: number;
  ready: boolean;
  daemonRestarts: number;
}

/** The daemon's heap after a full collection (chaos `--live-heap`). */
export interface LiveHeapSample {
  at: number;
  mb: number;
  /** Of `mb`, compiled code (V8's code spaces). */
  codeMB: number;
  daemonRestarts: number;
}

export interface FaultRecord {
  kind: FaultKind;
  at: number;
  ms: number;
  endedAt: number | undefined;
  /** From the fault's end until the line was ready and every stream had ticked again. */
  recoveryMs: number | undefined;
}

export interface RunFacts {
  seed: number;
  minutes: number;
  clients: number;
  redis: boolean;
  /** Fault kinds left out of the schedule. */
  exclude?: FaultKind[];
  durationMs: number;
  faults: FaultRecord[];
  violations: Violation[];
  checks: Partial<Record<CheckName, number>>;
  samples: Sample[];
  /** Present when the run measured the live heap. */
  liveHeap?: LiveHeapSample[];
  requests: { sent: number; answered: number; errored: number; lost: number; overdue: number };
  http: { ok: number; errors: number; refused: number };
  leases: { leased: number; released: number; abandoned: number };
  daemonRestarts: number;
}

export interface ChaosReport extends Omit<RunFacts, "samples"> {
  faultsByKind: Partial<Record<FaultKind, number>>;
  recovery: { measured: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  memory: {
    rssStartMB: number | null;
    rssEndMB: number | null;
    slopeMBPerHour: number | null;
    heapSlopeMBPerHour: number | null;
    /**
     * The live heap (after a full GC) at the start and end of the stretch's warm part, and its
     * slope: what the daemon keeps, without garbage waiting for collection. Null when the run
     * did not measure it.
     */
    liveHeapStartMB: number | null;
    liveHeapEndMB: number | null;
    liveHeapSlopeMBPerHour: number | null;
    /** The part of that slope that is compiled code (V8 compiling more functions: warm-up). */
    liveCodeSlopeMBPerHour: number | null;
    /** Length of the stretch without a daemon restart the slopes were fitted on. */
    stretchMinutes: number | null;
  };
  lag: { p99Ms: number | null; maxMs: number | null };
  samples: Sample[];
}

const round = (x: number | undefined, d = 1): number | null =>
  x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d;

type Stretchable = { at: number; daemonRestarts: number };

function longestStretch<S extends Stretchable>(samples: readonly S[]): S[] {
  const segments = new Map<number, S[]>();
  for (const s of samples) {
    const list = segments.get(s.daemonRestarts) ?? [];
    list.push(s);
    segments.set(s.daemonRestarts, list);
  }
  return [...segments.values()].sort((a, b) => b.length - a.length)[0] ?? [];
}

/**
 * The longest stretch without a daemon restart, after its first fifth (the warm-up: caches and
 * pools fill); empty when the stretch has fewer than `minLength` samples.
 */
function warmStretch<S extends Stretchable>(samples: readonly S[], minLength: number): S[] {
  const longest = longestStretch(samples);
  return longest.length < minLength ? [] : longest.slice(Math.floor(longest.length / 5));
}

/** Slope of `pick` over `warm` in MB per hour; undefined for no samples. */
function perHour<S extends Stretchable>(warm: readonly S[], pick: (s: S) => number): number | undefined {
  return warm.length === 0 ? undefined : slope(warm.map((s) => ({ x: s.at / 3_600_000, y: pick(s) })));
}

function stretchMinutes(samples: readonly Sample[]): number | null {
  const s = longestStretch(samples);
  return s.length < 2 ? null : round((s[s.length - 1]!.at - s[0]!.at) / 60_000);
}

export function summarize(f: RunFacts): ChaosReport {
  const faultsByKind: Partial<Record<FaultKind, number>> = {};
  for (const x of f.faults) faultsByKind[x.kind] = (faultsByKind[x.kind] ?? 0) + 1;
  const rec = f.faults.map((x) => x.recoveryMs).filter((x): x is number => x !== undefined);
  const lags = f.samples.map((s) => s.lagMs).filter(Number.isFinite);
  const warm = warmStretch(f.samples, 10);
  const warmHeap = warmStretch(f.liveHeap ?? [], 5);
  return {
    ...f,
    faultsByKind,
    recovery: {
      measured: rec.length,
      p50Ms: round(percentile(rec, 50), 0),
      p99Ms: round(percentile(rec, 99), 0),
      maxMs: rec.length ? Math.max(...rec) : null,
    },
    memory: {
      rssStartMB: round(f.samples[0]?.rssMB),
      rssEndMB: round(f.samples[f.samples.length - 1]?.rssMB),
      slopeMBPerHour: round(perHour(warm, (s) => s.rssMB)),
      heapSlopeMBPerHour: round(perHour(warm, (s) => s.heapMB)),
      liveHeapStartMB: round(warmHeap[0]?.mb, 2),
      liveHeapEndMB: round(warmHeap[warmHeap.length - 1]?.mb, 2),
      liveHeapSlopeMBPerHour: round(
        perHour(warmHeap, (s) => s.mb),
        2,
      ),
      liveCodeSlopeMBPerHour: round(
        perHour(warmHeap, (s) => s.codeMB),
        2,
      ),
      stretchMinutes: stretchMinutes(f.samples),
    },
    lag: { p99Ms: round(percentile(lags, 99)), maxMs: lags.length ? round(Math.max(...lags)) : null },
    samples: f.samples,
  };
}

export function table(r: ChaosReport): string {
  const rows: [string, string][] = [
    [
      "run",
      `seed ${r.seed}, ${r.minutes} min, ${r.clients} clients${r.redis ? ", Redis store" : ""}${r.exclude?.length ? `, without ${r.exclude.join(", ")}` : ""}`,
    ],
    [
      "faults",
      Object.entries(r.faultsByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ") || "none",
    ],
    ["violations", String(r.violations.length)],
    [
      "checks passed",
      Object.entries(r.checks)
        .map(([k, n]) => `${k} ${n}`)
        .join(", "),
    ],
    [
      "requests",
      `${r.requests.sent} sent: ${r.requests.answered} answered, ${r.requests.errored} errored, ${r.requests.lost} lost with their connection, ${r.requests.overdue} unanswered`,
    ],
    [
      "http",
      `${r.http.ok} ok, ${r.http.errors} errors in the envelope, ${r.http.refused} refused (daemon restarting)`,
    ],
    [
      "recovery",
      `${r.recovery.measured} measured: p50 ${r.recovery.p50Ms} ms, p99 ${r.recovery.p99Ms} ms, max ${r.recovery.maxMs} ms`,
    ],
    [
      "memory",
      `RSS ${r.memory.rssStartMB} → ${r.memory.rssEndMB} MB, slope ${r.memory.slopeMBPerHour} MB/h (heap ${r.memory.heapSlopeMBPerHour} MB/h) over the last four fifths of the longest ${r.memory.stretchMinutes} min without a daemon restart`,
    ],
    ...(r.memory.liveHeapSlopeMBPerHour === null
      ? []
      : [
          [
            "live heap",
            `${r.memory.liveHeapStartMB} → ${r.memory.liveHeapEndMB} MB after a full GC, slope ${r.memory.liveHeapSlopeMBPerHour} MB/h, of which compiled code ${r.memory.liveCodeSlopeMBPerHour} MB/h (same stretch, one measure a minute)`,
          ] as [string, string],
        ]),
    ["event-loop lag", `p99 ${r.lag.p99Ms} ms, max ${r.lag.maxMs} ms`],
    ["daemon restarts", String(r.daemonRestarts)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

/** Three panels (RSS, lag, reconnects) over time, faults as vertical marks. */
export function plotSvg(r: ChaosReport): string {
  const W = 900;
  const PH = 150;
  const L = 60;
  const pad = 30;
  const H = pad + 3 * (PH + pad);
  const xs = (at: number): number => L + ((W - L - 20) * at) / Math.max(1, r.durationMs);
  const panels: { title: string; pick: (s: Sample) => number; color: string }[] = [
    { title: "daemon RSS (MB)", pick: (s) => s.rssMB, color: "#1f77b4" },
    { title: "event-loop lag p99 (ms)", pick: (s) => s.lagMs, color: "#d62728" },
    { title: "line reconnects (daemon restarts ×1000)", pick: (s) => s.reconnects, color: "#2ca02c" },
  ];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  panels.forEach((p, i) => {
    const top = pad + i * (PH + pad);
    const vals = r.samples.map(p.pick).filter(Number.isFinite);
    const max = Math.max(1, ...vals);
    const ys = (v: number): number => top + PH - (PH * v) / max;
    parts.push(`<text x="${L}" y="${top - 6}">${esc(p.title)} — max ${max.toFixed(1)}</text>`);
    parts.push(`<rect x="${L}" y="${top}" width="${W - L - 20}" height="${PH}" fill="none" stroke="#999"/>`);
    for (const f of r.faults) {
      parts.push(
        `<line x1="${xs(f.at).toFixed(1)}" x2="${xs(f.at).toFixed(1)}" y1="${top}" y2="${top + PH}" stroke="#ccc"><title>${f.kind}</title></line>`,
      );
    }
    const pts = r.samples
      .filter((s) => Number.isFinite(p.pick(s)))
      .map((s) => `${xs(s.at).toFixed(1)},${ys(p.pick(s)).toFixed(1)}`)
      .join(" ");
    parts.push(`<polyline fill="none" stroke="${p.color}" stroke-width="1.5" points="${pts}"/>`);
    parts.push(`<text x="${L - 6}" y="${top + 10}" text-anchor="end">${max.toFixed(0)}</text>`);
    parts.push(`<text x="${L - 6}" y="${top + PH}" text-anchor="end">0</text>`);
  });
  parts.push(
    `<text x="${W - 20}" y="${H - 8}" text-anchor="end">${(r.durationMs / 60_000).toFixed(1)} min; grey lines: faults</text>`,
  );
  parts.push("</svg>");
  return parts.join("\n");
}
