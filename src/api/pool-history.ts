/**
 * A bounded ring of pool samples for the dashboard's charts: every few seconds, each line's
 * state and last heartbeat RTT, and the requests through the switches (a running total and
 * the rate since the previous sample). It holds one hour by default, so a page opened now can
 * draw the last hour at once instead of starting from an empty chart. The daemon keeps no
 * other history; /metrics is the place for long-term series (Prometheus).
 */
import type { Clock, TimerHandle } from "../clock.js";
import type { DaemonView } from "./view.js";

export const DEFAULT_HISTORY_INTERVAL_MS = 5_000;
/** One hour at the default interval. */
export const DEFAULT_HISTORY_SAMPLES = 720;

export interface PoolSample {
  /** ms since the epoch. */
  readonly ts: number;
  /** Requests through every switch since start, all kinds and outcomes. */
  readonly requests: number;
  /** Requests per second since the previous sample (0 for the first). */
  readonly requestRate: number;
  readonly lines: readonly { name: string; state: string; heartbeatRttMs: number | null }[];
}

export interface PoolHistoryOptions {
  clock: Clock;
  /** Sampling stops for good when this aborts (server shutdown). */
  closing: AbortSignal;
  intervalMs?: number;
  size?: number;
}

type Source = Pick<DaemonView, "lines" | "requests">;

export class PoolHistory {
  readonly intervalMs: number;
  readonly #view: Source;
  readonly #clock: Clock;
  readonly #ring: (PoolSample | undefined)[];
  #count = 0;
  #timer: TimerHandle | undefined;
  #state: "sampling" | "stopped" = "sampling";

  constructor(view: Source, o: PoolHistoryOptions) {
    this.#view = view;
    this.#clock = o.clock;
    this.intervalMs = Math.max(1, o.intervalMs ?? DEFAULT_HISTORY_INTERVAL_MS);
    this.#ring = new Array(Math.max(1, o.size ?? DEFAULT_HISTORY_SAMPLES));
    if (o.closing.aborted) this.#transition("stopped");
    else {
      o.closing.addEventListener("abort", () => this.#transition("stopped"), { once: true });
      // A baseline at start, so the first timed sample already has a request rate.
      this.sample();
      this.#schedule();
    }
  }

  get state(): "sampling" | "stopped" {
    return this.#state;
  }

  get capacity(): number {
    return this.#ring.length;
  }

  /** Take a sample now (the timer calls this; tests may too). */
  sample(): PoolSample {
    const prev = this.#latest();
    const ts = this.#clock.now();
    const requests = this.#view.requests().reduce((n, r) => n + r.count, 0);
    const dt = prev ? (ts - prev.ts) / 1_000 : 0;
    const s: PoolSample = {
      ts,
      requests,
      requestRate: prev && dt > 0 ? Math.max(0, requests - prev.requests) / dt : 0,
      lines: this.#view
        .lines()
        .map((l) => ({ name: l.name, state: l.state, heartbeatRttMs: l.heartbeatRttMs })),
    };
    this.#ring[this.#count % this.#ring.length] = s;
    this.#count++;
    return s;
  }

  /** Held samples newer than `sinceTs` (all when omitted), oldest first. */
  samples(sinceTs = Number.NEGATIVE_INFINITY): PoolSample[] {
    const n = Math.min(this.#count, this.#ring.length);
    const out: PoolSample[] = [];
    for (let i = this.#count - n; i < this.#count; i++) {
      const s = this.#ring[i % this.#ring.length]!;
      if (s.ts > sinceTs) out.push(s);
    }
    return out;
  }

  #latest(): PoolSample | undefined {
    return this.#count === 0 ? undefined : this.#ring[(this.#count - 1) % this.#ring.length];
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      if (this.#state !== "sampling") return;
      this.sample();
      this.#schedule();
    }, this.intervalMs);
  }

  #transition(to: "stopped"): void {
    this.#state = to;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
