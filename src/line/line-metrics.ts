/**
 * The line's clocks and counters: uptime, reconnects, time to detect, time to recover. Fed
 * by the line's single #transition, read by snapshot(); owns no timers.
 */
import type { LineState } from "./line-events.js";

export class LineMetrics {
  #startedAt: number | undefined;
  #readyMs = 0;
  #readySince: number | undefined;
  #connectedSince: number | undefined;
  #lostAt: number | undefined;
  #everReady = false;
  reconnects = 0;
  attempts = 0;
  sleeps = 0;
  timeToDetectMs: number | null = null;
  timeToRecoverMs: number | null = null;

  started(now: number): void {
    this.#startedAt ??= now;
  }

  /** Called on every transition. Returns true when this "ready" is a recovery. */
  transition(from: LineState, to: LineState, now: number): boolean {
    const up = (s: LineState) => s === "ready" || s === "degraded";
    if (from === "ready" && this.#readySince !== undefined) {
      this.#readyMs += now - this.#readySince;
      this.#readySince = undefined;
    }
    if (to === "ready") this.#readySince = now;
    if (to === "connecting") this.attempts++;
    if (up(from) && !up(to)) this.#connectedSince = undefined;
    if (from === "handshaking" && to === "ready") {
      this.#connectedSince = now;
      this.attempts = 0;
      const recovered = this.#everReady;
      this.#everReady = true;
      if (recovered) {
        this.reconnects++;
        if (this.#lostAt !== undefined) this.timeToRecoverMs = now - this.#lostAt;
      }
      this.#lostAt = undefined;
      return recovered;
    }
    return false;
  }

  /** The socket of a ready/degraded line was declared lost. */
  lost(now: number, lastSignOfLife: number): void {
    this.#lostAt = now;
    this.timeToDetectMs = Math.max(0, now - lastSignOfLife);
  }

  readyForMs(now: number): number {
    return this.#readySince === undefined ? 0 : now - this.#readySince;
  }

  connectedSince(): number | undefined {
    return this.#connectedSince;
  }

  uptimeRatio(now: number): number {
    if (this.#startedAt === undefined) return 0;
    const total = now - this.#startedAt;
    if (total <= 0) return this.#readySince === undefined ? 0 : 1;
    return Math.min(1, (this.#readyMs + this.readyForMs(now)) / total);
  }

  /** The snapshot fields this object owns. */
  view(now: number) {
    const since = this.#connectedSince;
    return {
      connectedSince: since === undefined ? null : new Date(since).toISOString(),
      reconnects: this.reconnects,
      attempts: this.attempts,
      uptimeRatio: this.uptimeRatio(now),
      timeToDetectMs: this.timeToDetectMs,
      timeToRecoverMs: this.timeToRecoverMs,
      sleeps: this.sleeps,
    };
  }
}
