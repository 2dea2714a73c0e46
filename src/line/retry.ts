/**
 * The wait between connect attempts: the backoff counter, the backoff timer and the fast
 * path (a cheap TCP connect every fastProbeIntervalMs that cuts the wait short once the
 * gateway accepts again). It never dials itself; it asks its port to, and only while the
 * line is still waiting in the same generation.
 */
import type { Clock, TimerHandle } from "../clock.js";
import { AbortedError, TimeoutError } from "../errors.js";
import { attemptAfterLoss, type BackoffFn } from "./backoff.js";
import type { Connector } from "./connector.js";

export interface RetryPort {
  /** Dial now. */
  connect(reason: string): void;
  /** True while the line still waits in `generation` (state reconnecting, no newer dial). */
  waiting(generation: number): boolean;
}

export interface RetryOptions {
  clock: Clock;
  connector: Connector;
  backoff: BackoffFn;
  random: () => number;
  stableAfterMs: number;
  fastProbeIntervalMs: number;
  connectTimeoutMs: number;
}

export class Retry {
  readonly #port: RetryPort;
  readonly #o: RetryOptions;
  #attempt = 0;
  #timer: TimerHandle | undefined;
  #fastTimer: TimerHandle | undefined;
  #probeAbort: AbortController | undefined;

  constructor(port: RetryPort, options: RetryOptions) {
    this.#port = port;
    this.#o = options;
  }

  get attempt(): number {
    return this.#attempt;
  }

  /** A line that was up for `upForMs` was lost: a stable line starts its backoff over. */
  lost(upForMs: number): void {
    this.#attempt = attemptAfterLoss(this.#attempt, upForMs, this.#o.stableAfterMs);
  }

  /** Count one more attempt and return its delay, or null when the backoff gives up. */
  next(delayOverrideMs?: number): number | null {
    this.#attempt++;
    return delayOverrideMs ?? this.#o.backoff(this.#attempt, this.#o.random());
  }

  /** Wait `delayMs` in `generation`, then ask for a dial; probe TCP meanwhile if `fastPath`. */
  arm(delayMs: number, fastPath: boolean, generation: number): void {
    this.cancel();
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#port.waiting(generation)) this.#port.connect("backoff elapsed");
    }, delayMs);
    const every = this.#o.fastProbeIntervalMs;
    if (fastPath && every > 0 && delayMs > every) this.#armProbe(generation);
  }

  /** Stop waiting: clear both timers and abort a probe in flight. */
  cancel(): void {
    const { clock } = this.#o;
    clock.clearTimeout(this.#timer);
    clock.clearTimeout(this.#fastTimer);
    this.#timer = undefined;
    this.#fastTimer = undefined;
    this.#probeAbort?.abort(new AbortedError("the line stopped waiting"));
    this.#probeAbort = undefined;
  }

  #armProbe(generation: number): void {
    const { clock, fastProbeIntervalMs: every, connectTimeoutMs } = this.#o;
    this.#fastTimer = clock.setTimeout(() => {
      this.#fastTimer = undefined;
      if (!this.#port.waiting(generation)) return;
      const ac = new AbortController();
      this.#probeAbort = ac;
      const limit = Math.min(connectTimeoutMs, every * 4);
      const timer = clock.setTimeout(() => ac.abort(new TimeoutError("probe", limit)), limit);
      // One probe at a time: the next is armed only once this one has answered.
      this.#o.connector
        .probe(ac.signal)
        .catch(() => false)
        .then((reachable) => {
          clock.clearTimeout(timer);
          if (this.#probeAbort !== ac) return;
          this.#probeAbort = undefined;
          if (!this.#port.waiting(generation)) return;
          if (reachable) this.#port.connect("gateway reachable (fast path)");
          else this.#armProbe(generation);
        });
    }, every);
  }
}
