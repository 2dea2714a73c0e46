/**
 * The last hour as two uPlot charts: heartbeat RTT per line and requests per second. The
 * page keeps its own rolling buffer of the daemon's samples (GET /api/ib/pool/history, then
 * only newer ones), capped in count and age, so an open tab never grows. Colours come from
 * the page's CSS variables and follow the light/dark switch.
 */
import uPlot from "uplot";
import type { PoolSample } from "./types.js";

export const WINDOW_MS = 3_600_000;
export const MAX_SAMPLES = 1_000;
const MIN_SPAN_MS = 60_000;

const PALETTE = ["--c1", "--c2", "--c3", "--c4"];

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

export class SampleBuffer {
  #samples: PoolSample[] = [];

  get lastTs(): number | undefined {
    return this.#samples.at(-1)?.ts;
  }

  get firstTs(): number | undefined {
    return this.#samples[0]?.ts;
  }

  get size(): number {
    return this.#samples.length;
  }

  add(list: readonly PoolSample[], now: number): void {
    const last = this.lastTs ?? Number.NEGATIVE_INFINITY;
    for (const s of list) if (s.ts > last) this.#samples.push(s);
    const from = now - WINDOW_MS;
    let drop = 0;
    while (drop < this.#samples.length && this.#samples[drop]!.ts < from) drop++;
    drop = Math.max(drop, this.#samples.length - MAX_SAMPLES);
    if (drop > 0) this.#samples = this.#samples.slice(drop);
  }

  /** Line names in order of first appearance. */
  lines(): string[] {
    const names = new Set<string>();
    for (const s of this.#samples) for (const l of s.lines) names.add(l.name);
    return [...names];
  }

  /** Columns for uPlot: x in seconds, then one column per series. */
  rtt(names: readonly string[]): uPlot.AlignedData {
    const xs = this.#samples.map((s) => s.ts / 1000);
    const ys = names.map((n) =>
      this.#samples.map((s) => s.lines.find((l) => l.name === n)?.heartbeatRttMs ?? null),
    );
    return [xs, ...ys];
  }

  rate(): uPlot.AlignedData {
    return [this.#samples.map((s) => s.ts / 1000), this.#samples.map((s) => s.requestRate)];
  }
}

interface ChartSpec {
  el: HTMLElement;
  series: readonly string[];
  unit: string;
}

/**
 * The last hour, or less while the daemon is younger (at least a minute), so the first
 * minutes are not a sliver at the right edge. In seconds, as uPlot's time scale wants.
 */
export function xRange(firstTs: number | undefined, now: number): [number, number] {
  const from = Math.min(now - MIN_SPAN_MS, Math.max(now - WINDOW_MS, firstTs ?? now));
  return [from / 1000, now / 1000];
}

function makeChart(
  spec: ChartSpec,
  data: uPlot.AlignedData,
  now: () => number,
  first: () => number | undefined,
): uPlot {
  const fg = cssVar("--muted");
  const grid = cssVar("--grid");
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const width = Math.max(240, spec.el.clientWidth);
  return new uPlot(
    {
      width,
      height: 180,
      scales: {
        x: { time: true, range: () => xRange(first(), now()) },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
      },
      axes: [axis, { ...axis, size: 64, values: (_u, vals) => vals.map((v) => `${v}${spec.unit}`) }],
      series: [
        {},
        ...spec.series.map((name, i) => ({
          label: name,
          stroke: cssVar(PALETTE[i % PALETTE.length]!),
          width: 2,
          spanGaps: false,
        })),
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    },
    data,
    spec.el,
  );
}

export class Charts {
  readonly #buffer = new SampleBuffer();
  readonly #rttEl: HTMLElement;
  readonly #rateEl: HTMLElement;
  #rtt: uPlot | undefined;
  #rate: uPlot | undefined;
  #names = "";
  #now = 0;

  constructor(rttEl: HTMLElement, rateEl: HTMLElement) {
    this.#rttEl = rttEl;
    this.#rateEl = rateEl;
    new ResizeObserver(() => this.#resize()).observe(rttEl);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.#rebuild());
  }

  get lastTs(): number | undefined {
    return this.#buffer.lastTs;
  }

  add(samples: readonly PoolSample[], now: number): void {
    this.#now = now;
    this.#buffer.add(samples, now);
    const names = this.#buffer.lines();
    for (const el of [this.#rttEl, this.#rateEl]) {
      el.dataset.empty = String(this.#buffer.size === 0);
      el.dataset.samples = String(this.#buffer.size);
    }
    if (names.join("\u0000") !== this.#names || !this.#rtt || !this.#rate) {
      this.#names = names.join("\u0000");
      this.#rebuild();
      return;
    }
    this.#rtt.setData(this.#buffer.rtt(names));
    this.#rate.setData(this.#buffer.rate());
  }

  #rebuild(): void {
    this.#rtt?.destroy();
    this.#rate?.destroy();
    const names = this.#buffer.lines();
    const now = () => this.#now;
    const first = () => this.#buffer.firstTs;
    this.#rtt = makeChart(
      { el: this.#rttEl, series: names, unit: " ms" },
      this.#buffer.rtt(names),
      now,
      first,
    );
    this.#rate = makeChart(
      { el: this.#rateEl, series: ["requests/s"], unit: "" },
      this.#buffer.rate(),
      now,
      first,
    );
  }

  #resize(): void {
    const width = Math.max(240, this.#rttEl.clientWidth);
    this.#rtt?.setSize({ width, height: 180 });
    this.#rate?.setSize({ width: Math.max(240, this.#rateEl.clientWidth), height: 180 });
  }
}
