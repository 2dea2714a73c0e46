/**
 * What span of time an IB historical request covers: `D` and `W` count trading sessions back
 * from the end (`1 W` = 5 sessions), `S` counts seconds and `M`/`Y` calendar months and years;
 * an end outside a session moves back to the last session's close. Pure.
 */
import type { ExchangeCalendar, Session } from "./sessions.js";

export type DurationUnit = "S" | "D" | "W" | "M" | "Y";

export interface Duration {
  readonly n: number;
  readonly unit: DurationUnit;
}

/** "30 S", "1 D", "2 W", "1 M", "1 Y" (IB's spelling, one space; case-insensitive). */
export function parseDuration(text: string): Duration | undefined {
  const m = /^\s*(\d+)\s+([SDWMY])\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n <= 0 || !Number.isSafeInteger(n)) return undefined;
  return { n, unit: (m[2] as string).toUpperCase() as DurationUnit };
}

export interface HistoryWindow {
  /** UTC instants: data in [start, end). */
  readonly start: number;
  readonly end: number;
  /** The sessions the window touches, oldest first. */
  readonly sessions: readonly Session[];
}

const MAX_SESSIONS = 50_000;

/** The window a request ending at `endMs` (the gateway's now for an empty end) covers. */
export function historyWindow(
  cal: ExchangeCalendar,
  endMs: number,
  duration: Duration,
  rth: boolean,
): HistoryWindow {
  const { end } = cal.effectiveEnd(endMs, rth);
  let start: number;
  if (duration.unit === "D" || duration.unit === "W") {
    const want = Math.min(duration.n * (duration.unit === "W" ? 5 : 1), MAX_SESSIONS);
    const sessions: Session[] = [];
    for (const s of cal.sessionsBefore(end, rth)) {
      sessions.push(s);
      if (sessions.length === want) break;
    }
    sessions.reverse();
    return { start: (sessions[0] as Session).open, end, sessions };
  }
  if (duration.unit === "S") start = end - duration.n * 1000;
  else {
    const d = new Date(end);
    const months = duration.unit === "M" ? duration.n : duration.n * 12;
    start = Date.UTC(
      d.getUTCFullYear(),
      d.getUTCMonth() - months,
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    );
  }
  const sessions: Session[] = [];
  for (const s of cal.sessionsBefore(end, rth)) {
    if (s.close <= start || sessions.length >= MAX_SESSIONS) break;
    sessions.push(s);
  }
  sessions.reverse();
  return { start, end, sessions };
}
