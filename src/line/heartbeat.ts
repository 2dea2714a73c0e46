/**
 * Heartbeat: TWS sends nothing while idle and has no protocol ping (tws-protocol.md §8), so
 * a quiet line is probed with REQ_CURRENT_TIME. The unit knows nothing of sockets: it talks
 * to the line through a narrow port and reads time from a Clock, so every rule below is
 * tested with a ManualClock.
 *
 *   quiet for idleMs        → probe
 *   any inbound message     → alive (a line that speaks is not half-open)
 *   no answer by deadlineMs → missed; after maxMissed misses → stale
 *   a timer firing far late → the machine slept: probe again instead of declaring stale
 */
import type { Clock, TimerHandle } from "../clock.js";
import { isSleep } from "./sleep-detector.js";

export type ProbeReason = "idle" | "sleep" | "requested" | "retry";

export type HeartbeatEvent =
  | { type: "probe"; ts: number; reason: ProbeReason }
  | { type: "rtt"; ts: number; rttMs: number }
  | { type: "missed"; ts: number; missed: number }
  | { type: "sleep"; ts: number; lateMs: number };

export interface StaleInfo {
  missed: number;
  /** Time since the last inbound message, in ms. */
  quietMs: number;
}

/** Everything the heartbeat may do to its line. */
export interface HeartbeatPort {
  /** Send one probe (REQ_CURRENT_TIME). */
  probe(): void;
  /** The line is dead: the port destroys the socket and reconnects. */
  stale(info: StaleInfo): void;
  emit(event: HeartbeatEvent): void;
}

export interface HeartbeatOptions {
  /** Probe after this long with nothing received. */
  idleMs: number;
  /** How long a probe may go unanswered. */
  deadlineMs: number;
  /** Missed probes in a row that make the line stale. */
  maxMissed: number;
  /** Lower bound of the lateness that means the machine slept. */
  sleepMinLateMs: number;
}

export type HeartbeatState = "stopped" | "idle" | "probing" | "stale";

export class Heartbeat {
  readonly #port: HeartbeatPort;
  readonly #clock: Clock;
  readonly #o: HeartbeatOptions;
  #state: HeartbeatState = "stopped";
  #timer: TimerHandle | undefined;
  #dueAt = 0;
  #lastReceivedAt = 0;
  #probeSentAt: number | undefined;
  #missed = 0;
  #rttMs: number | undefined;

  constructor(port: HeartbeatPort, clock: Clock, options: HeartbeatOptions) {
    this.#port = port;
    this.#clock = clock;
    this.#o = options;
  }

  get state(): HeartbeatState {
    return this.#state;
  }
  /** Round trip of the last answered probe, in ms. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }
  get lastReceivedAt(): number {
    return this.#lastReceivedAt;
  }

  /** Begin watching a fresh socket; the start counts as a sign of life. */
  start(): void {
    this.#lastReceivedAt = this.#clock.now();
    this.#missed = 0;
    this.#probeSentAt = undefined;
    this.#transition("idle");
  }

  stop(): void {
    this.#transition("stopped");
  }

  /** Any inbound message. */
  received(): void {
    this.#lastReceivedAt = this.#clock.now();
    if (this.#state === "probing") {
      this.#missed = 0;
      this.#transition("idle");
    }
  }

  /** The answer to a probe (CURRENT_TIME) arrived. */
  answered(): void {
    const now = this.#clock.now();
    if (this.#probeSentAt !== undefined) {
      this.#rttMs = now - this.#probeSentAt;
      this.#probeSentAt = undefined;
      this.#port.emit({ type: "rtt", ts: now, rttMs: this.#rttMs });
    }
    this.received();
  }

  /** Probe at once (after a wake-up, or on request). A probe already out is enough. */
  probeNow(reason: ProbeReason = "requested"): void {
    if (this.#state !== "idle") return;
    this.#probe(reason);
  }

  #transition(to: HeartbeatState): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#state = to;
    if (to === "idle") this.#arm(this.#o.idleMs, () => this.#onIdle());
  }

  #arm(ms: number, fn: () => void): void {
    this.#dueAt = this.#clock.now() + ms;
    this.#timer = this.#clock.setTimeout(fn, ms);
  }

  #slept(intervalMs: number): boolean {
    const now = this.#clock.now();
    if (!isSleep(this.#dueAt, now, intervalMs, this.#o.sleepMinLateMs)) return false;
    this.#port.emit({ type: "sleep", ts: now, lateMs: now - this.#dueAt });
    return true;
  }

  #onIdle(): void {
    this.#timer = undefined;
    if (this.#slept(this.#o.idleMs)) {
      this.#probe("sleep");
      return;
    }
    const quiet = this.#clock.now() - this.#lastReceivedAt;
    // Traffic arrived since the timer was armed: the line proved itself; wait out the rest.
    if (quiet < this.#o.idleMs) this.#arm(this.#o.idleMs - quiet, () => this.#onIdle());
    else this.#probe("idle");
  }

  #probe(reason: ProbeReason): void {
    this.#transition("probing");
    const now = this.#clock.now();
    this.#probeSentAt = now;
    this.#port.emit({ type: "probe", ts: now, reason });
    this.#arm(this.#o.deadlineMs, () => this.#onDeadline());
    this.#port.probe();
  }

  #onDeadline(): void {
    this.#timer = undefined;
    if (this.#state !== "probing") return;
    // The deadline ran out while the machine slept; the answer may sit unread in the
    // socket buffer. A sleep only earns a fresh probe, never a stale verdict.
    if (this.#slept(this.#o.deadlineMs)) {
      this.#missed = 0;
      this.#probe("sleep");
      return;
    }
    this.#missed++;
    const now = this.#clock.now();
    this.#port.emit({ type: "missed", ts: now, missed: this.#missed });
    if (this.#missed < this.#o.maxMissed) {
      this.#probe("retry");
      return;
    }
    this.#transition("stale");
    this.#port.stale({ missed: this.#missed, quietMs: now - this.#lastReceivedAt });
  }
}
