/**
 * The faults the control API can switch on. Pure state over a Clock: the gateway asks
 * "stalled now?", "latency now?"; timed faults end by themselves when their time is up.
 */

import type { Clock } from "../clock.js";
import { NOTICE_TEXTS } from "../protocol/notice-texts.js";

export interface FaultSnapshot {
  stalledUntil: number | null;
  downUntil: number | null;
  latencyMs: number;
}

export class FaultState {
  readonly #clock: Clock;
  #stallUntil = 0;
  #downUntil = 0;
  #latencyMs = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  stall(ms: number): void {
    this.#stallUntil = Math.max(this.#stallUntil, this.#clock.now() + ms);
  }

  stalled(): boolean {
    return this.#clock.now() < this.#stallUntil;
  }

  /** ms until the stall ends (0 when not stalled). */
  stallRemainingMs(): number {
    return Math.max(0, this.#stallUntil - this.#clock.now());
  }

  down(ms: number): void {
    this.#downUntil = Math.max(this.#downUntil, this.#clock.now() + ms);
  }

  isDown(): boolean {
    return this.#clock.now() < this.#downUntil;
  }

  /** ms until the listener reopens (0 when up). */
  downRemainingMs(): number {
    return Math.max(0, this.#downUntil - this.#clock.now());
  }

  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  latencyMs(): number {
    return this.#latencyMs;
  }

  clear(): void {
    this.#stallUntil = 0;
    this.#downUntil = 0;
    this.#latencyMs = 0;
  }

  snapshot(): FaultSnapshot {
    const now = this.#clock.now();
    return {
      stalledUntil: this.#stallUntil > now ? this.#stallUntil : null,
      downUntil: this.#downUntil > now ? this.#downUntil : null,
      latencyMs: this.#latencyMs,
    };
  }
}

export { NOTICE_TEXTS };

export function noticeText(code: number): string {
  return NOTICE_TEXTS[code] ?? `Mock gateway notice ${code}`;
}
