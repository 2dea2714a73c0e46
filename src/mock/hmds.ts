/**
 * How long IB's historical-data service (HMDS) takes to answer: a base latency, a cost per
 * bar, and a soft slow-down under load for bars larger than 30 secs (which have no hard
 * pacing limit any more: IB answers them more slowly instead). All off by default; benchmarks
 * turn it on so history timings mean something. Windows and latencies follow --time-scale.
 */
import { SMALL_BAR_SECONDS } from "../pacing/rules.js";

export interface HmdsOptions {
  /** Base answer latency in IB's real ms (0 = answer at once). */
  latencyMs: number;
  /** Extra µs per bar answered. */
  barCostUs: number;
  /** Large-bar answers per sliding 10 minutes before each further one is slowed. */
  softLimit: number;
  timeScale: number;
}

const SOFT_WINDOW_MS = 600_000;

export class HmdsLoad {
  readonly #o: HmdsOptions;
  /** Monotonic times of recent large-bar answers. */
  readonly #recent: number[] = [];

  constructor(options: HmdsOptions) {
    this.#o = options;
  }

  get enabled(): boolean {
    return this.#o.latencyMs > 0 || this.#o.barCostUs > 0;
  }

  /** The delay before an answer of `bars` bars of `barSeconds` each, sent at `now` (ms). */
  delayFor(bars: number, barSeconds: number, now: number): number {
    if (!this.enabled) return 0;
    const scale = this.#o.timeScale;
    let ms = this.#o.latencyMs + (bars * this.#o.barCostUs) / 1000;
    if (barSeconds > SMALL_BAR_SECONDS && this.#o.softLimit > 0) {
      const window = SOFT_WINDOW_MS / scale;
      while (this.#recent.length > 0 && (this.#recent[0] as number) <= now - window) this.#recent.shift();
      this.#recent.push(now);
      const excess = this.#recent.length - this.#o.softLimit;
      // Beyond the soft limit each answer takes longer in proportion to the overload.
      if (excess > 0) ms *= 1 + excess / this.#o.softLimit;
    }
    return ms / scale;
  }
}
