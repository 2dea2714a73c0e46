/**
 * Pacer waits are high-rate (one per request that had to wait). Each one still feeds the
 * metrics, but the event ring (and so SSE and the dashboard) gets one `pacer.wait` digest per
 * line and rule per interval: a busy pacer never pushes `line.state` and lease events out of the
 * 1,000-event ring that `Last-Event-ID` replays from.
 */
import type { Clock, TimerHandle } from "../clock.js";
import type { PacerEvent } from "../pacing/pacer-events.js";

export const DEFAULT_WAIT_DIGEST_INTERVAL_MS = 1_000;
/** Tenants named in one digest at most (the count says how many waited). */
const MAX_TENANTS_NAMED = 10;

export type PacerWaitEvent = Extract<PacerEvent, { type: "pacer.wait" }>;

/**
 * One rule's waits over an interval. `tenant`, `kind` and `waitedMs` are those of the longest
 * wait, so a reader of single waits still reads something true.
 */
export interface PacerWaitDigest {
  readonly type: "pacer.wait";
  readonly ts: number;
  readonly rule: string;
  /** The line whose pacer held them (absent for a pacer without one). */
  readonly line?: string;
  readonly tenant: string;
  readonly kind: string;
  readonly waitedMs: number;
  /** Waits folded into this event. */
  readonly waits: number;
  readonly totalWaitedMs: number;
  readonly tenants: readonly string[];
  readonly intervalMs: number;
}

interface Acc {
  longest: PacerWaitEvent;
  waits: number;
  total: number;
  tenants: Set<string>;
}

export class WaitDigest {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #emit: (e: PacerWaitDigest) => void;
  readonly #byRule = new Map<string, Acc>();
  #timer: TimerHandle | undefined;

  constructor(
    clock: Clock,
    emit: (e: PacerWaitDigest) => void,
    intervalMs = DEFAULT_WAIT_DIGEST_INTERVAL_MS,
  ) {
    this.#clock = clock;
    this.#emit = emit;
    this.#intervalMs = intervalMs;
  }

  add(e: PacerWaitEvent): void {
    const key = `${e.line ?? ""}\u0000${e.rule}`;
    let acc = this.#byRule.get(key);
    if (!acc) {
      acc = { longest: e, waits: 0, total: 0, tenants: new Set() };
      this.#byRule.set(key, acc);
    }
    acc.waits++;
    acc.total += e.waitedMs;
    if (e.waitedMs > acc.longest.waitedMs) acc.longest = e;
    if (acc.tenants.size < MAX_TENANTS_NAMED) acc.tenants.add(e.tenant);
    this.#timer ??= this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#intervalMs);
  }

  /** Emit what has gathered (one event per rule) and start afresh. */
  flush(): void {
    const now = this.#clock.now();
    for (const acc of this.#byRule.values()) {
      this.#emit({
        type: "pacer.wait",
        ts: now,
        rule: acc.longest.rule,
        ...(acc.longest.line === undefined ? {} : { line: acc.longest.line }),
        tenant: acc.longest.tenant,
        kind: acc.longest.kind,
        waitedMs: acc.longest.waitedMs,
        waits: acc.waits,
        totalWaitedMs: acc.total,
        tenants: [...acc.tenants],
        intervalMs: this.#intervalMs,
      });
    }
    this.#byRule.clear();
  }

  close(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
  }
}
