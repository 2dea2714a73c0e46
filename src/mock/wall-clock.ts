/**
 * The mock's calendar clock: what time the gateway says it is and which bars exist. It is
 * apart from the timer clock on purpose: `--now` moves the calendar (a Sunday, a holiday, a
 * DST change) while IB's windows, stalls, downs and heartbeats keep running on real time.
 */
import { performance } from "node:perf_hooks";
import { parseInstant } from "../calendar/instant.js";

export { parseInstant };

export interface WallClock {
  /** Milliseconds since the epoch, as the gateway's calendar sees it. */
  now(): number;
}

/** Starts at `startMs` and then runs at real pace (monotonic: unaffected by the system clock). */
export function runningClockFrom(startMs: number): WallClock {
  const origin = performance.now();
  return { now: () => startMs + Math.floor(performance.now() - origin) };
}

/** Never moves: for tests that need the same instant throughout. */
export function frozenClock(at: string | number | Date): WallClock {
  const ms = parseInstant(at);
  if (ms === undefined) throw new RangeError(`not an ISO 8601 instant with a zone: ${String(at)}`);
  return { now: () => ms };
}
