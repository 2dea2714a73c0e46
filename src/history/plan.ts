/**
 * Backfill planning, pure: which requests a backfill of one series asks, and in which order.
 *
 * Invariants:
 * - a chunk is one request of the longest duration IB allows for the bar size (the step
 *   table), so the fewest requests cover the range;
 * - chunks cover trading sessions only, newest first, and never end before the head
 *   timestamp (IB answers "no data" there at best, a pacing error at worst);
 * - a chunk whose span the coverage file records (bars or IB's "no data") is never planned
 *   again, so a rerun asks only what is missing;
 * - the same inputs give the same chunks (spans are the identity the coverage file keys on).
 */
import type { Duration } from "../calendar/durations.js";
import type { ExchangeCalendar, Session } from "../calendar/sessions.js";
import { maxDurationFor } from "./bar-sizes.js";

/** A half-open span of UTC instants: data in [start, end). */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface Chunk {
  /** What the answer covers. */
  readonly span: Span;
  /** The request: its end instant (UTC ms) and IB duration ("1 D", "1800 S"). */
  readonly endMs: number;
  readonly duration: string;
}

export interface PlanInput {
  readonly calendar: ExchangeCalendar;
  readonly barSize: string;
  readonly rth: boolean;
  /** First and last local trading dates asked for, inclusive ("yyyy-mm-dd"). */
  readonly from: string;
  readonly to: string;
  /** Only sessions closed by this instant are planned (a session in progress is not final). */
  readonly now: number;
  /** The head timestamp (UTC ms), when known: nothing before it is asked. */
  readonly head?: number;
  /** Spans already recorded. */
  readonly covered: readonly Span[];
}

/** Sessions per request for a D/W/M/Y longest duration (IB counts D and W in sessions). */
function sessionsPerChunk(d: Duration): number | undefined {
  switch (d.unit) {
    case "D":
      return d.n;
    case "W":
      return d.n * 5;
    // M and Y are calendar time; asked as sessions they stay inside the step table's bar count.
    case "M":
      return d.n * 20;
    case "Y":
      return d.n * 250;
    default:
      return undefined;
  }
}

function dayNumber(iso: string, field: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new RangeError(`${field} must be a date yyyy-mm-dd, got "${iso}"`);
  return Math.floor(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000);
}

/** The trading sessions of [from, to] closed by `now`, newest first. */
export function sessionsOf(input: Pick<PlanInput, "calendar" | "rth" | "from" | "to" | "now">): Session[] {
  const first = dayNumber(input.from, "from");
  const last = dayNumber(input.to, "to");
  if (first > last) throw new RangeError(`from (${input.from}) is after to (${input.to})`);
  const out: Session[] = [];
  for (let d = last; d >= first; d--) {
    const s = input.calendar.session(d, input.rth);
    if (s && s.close <= input.now) out.push(s);
  }
  return out;
}

/** True when `span` lies inside the union of `covered`. */
export function isCovered(span: Span, covered: readonly Span[]): boolean {
  const sorted = covered
    .filter((c) => c.end > span.start && c.start < span.end)
    .sort((a, b) => a.start - b.start);
  let at = span.start;
  for (const c of sorted) {
    if (c.start > at) return false;
    at = Math.max(at, c.end);
    if (at >= span.end) return true;
  }
  return at >= span.end;
}

/** Every chunk of the range, newest first, without the recorded ones. */
export function planChunks(input: PlanInput): Chunk[] {
  const max = maxDurationFor(input.barSize);
  if (max === undefined) throw new RangeError(`unknown bar size "${input.barSize}"`);
  const head = input.head ?? Number.NEGATIVE_INFINITY;
  const sessions = sessionsOf(input).filter((s) => s.close > head);
  const chunks: Chunk[] = [];
  const per = sessionsPerChunk(max);
  if (per !== undefined) {
    for (let i = 0; i < sessions.length; i += per) {
      const group = sessions.slice(i, i + per);
      const newest = group[0] as Session;
      const oldest = group[group.length - 1] as Session;
      chunks.push({
        span: { start: oldest.open, end: newest.close },
        endMs: newest.close,
        duration: `${group.length} D`,
      });
    }
  } else {
    // Seconds: slices of the longest duration, back from each session's close.
    const step = max.n * 1000;
    for (const s of sessions) {
      for (let end = s.close; end > s.open && end > head; end -= step) {
        const start = Math.max(s.open, end - step);
        chunks.push({ span: { start, end }, endMs: end, duration: `${Math.round((end - start) / 1000)} S` });
      }
    }
  }
  return chunks.filter((c) => !isCovered(c.span, input.covered));
}
