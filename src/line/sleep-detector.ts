/**
 * Sleep/wake detection. A suspended machine runs no timers; on wake every due timer fires at
 * once, far too late, and sockets that look open may be long dead. A timer more than
 * max(minLateMs, 3 × its interval) late counts as a sleep (interfaces.md, "Line states and
 * health"); the line answers a sleep with a probe, never with a blind reconnect.
 */
import type { Clock, TimerHandle } from "../clock.js";

export const SLEEP_LATE_FACTOR = 3;

/** How late a timer of `intervalMs` may fire before it counts as a sleep. */
export function sleepThresholdMs(intervalMs: number, minLateMs: number): number {
  return Math.max(minLateMs, SLEEP_LATE_FACTOR * intervalMs);
}

/** True when a timer due at `dueAt` that fired at `firedAt` fired late enough to mean a sleep. */
export function isSleep(dueAt: number, firedAt: number, intervalMs: number, minLateMs: number): boolean {
  return firedAt - dueAt > sleepThresholdMs(intervalMs, minLateMs);
}

export interface SleepDetectorOptions {
  /** How often the detector ticks. */
  intervalMs: number;
  /** Lower bound of the lateness that counts as a sleep. */
  minLateMs: number;
}

export interface SleepEvent {
  /** How late the tick fired, in ms (roughly how long the machine slept). */
  lateMs: number;
}

type DetectorState = "stopped" | "running";

/** A ticker that reports when one of its own ticks fired far too late. */
export class SleepDetector {
  readonly #clock: Clock;
  readonly #options: SleepDetectorOptions;
  readonly #onSleep: (event: SleepEvent) => void;
  #state: DetectorState = "stopped";
  #timer: TimerHandle | undefined;
  #dueAt = 0;

  constructor(clock: Clock, options: SleepDetectorOptions, onSleep: (event: SleepEvent) => void) {
    this.#clock = clock;
    this.#options = options;
    this.#onSleep = onSleep;
  }

  get state(): DetectorState {
    return this.#state;
  }

  start(): void {
    if (this.#state === "running") return;
    this.#transition("running");
    this.#arm();
  }

  stop(): void {
    this.#transition("stopped");
  }

  #transition(to: DetectorState): void {
    this.#state = to;
    if (to === "stopped") {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(): void {
    this.#dueAt = this.#clock.now() + this.#options.intervalMs;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#options.intervalMs);
  }

  #tick(): void {
    if (this.#state !== "running") return;
    const now = this.#clock.now();
    const dueAt = this.#dueAt;
    this.#arm();
    if (isSleep(dueAt, now, this.#options.intervalMs, this.#options.minLateMs)) {
      this.#onSleep({ lateMs: now - dueAt });
    }
  }
}
