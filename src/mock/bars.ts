/**
 * Historical bars: IB's bar sizes, durations and whatToShow values, and bars generated from
 * the price path (pure: the same request gives the same bars for the same seed).
 */
import {
  calendarFor,
  dayOf,
  type ExchangeCalendar,
  type HistoryWindow,
  localTime,
  type Session,
  utcOf,
  weekdayOf,
  ymdOf,
} from "../calendar/index.js";
import { BAR_SIZE_SECONDS, maxBarsFor, normalizeBarSize } from "../history/bar-sizes.js";
import type { Bar } from "../protocol/messages/history.js";
import type { Instrument } from "./catalogue.js";
import { midPrice, roundToTick, spreadOf } from "./prices.js";
import { unit } from "./rng.js";

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Every bar size IB accepts, in ms ("1 week" / "1 month" are calendar bars). */
export const BAR_SIZES: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(BAR_SIZE_SECONDS).map(([k, sec]) => [k, sec * S]),
);

export { normalizeBarSize };

/** whatToShow values IB accepts for bars; the mock has data for the first group. */
export const WHAT_TO_SHOW_WITH_DATA: ReadonlySet<string> = new Set([
  "TRADES",
  "MIDPOINT",
  "BID",
  "ASK",
  "BID_ASK",
  "ADJUSTED_LAST",
  "HISTORICAL_VOLATILITY",
  "OPTION_IMPLIED_VOLATILITY",
  "FEE_RATE",
  "AGGTRADES",
]);
export const WHAT_TO_SHOW_NO_DATA: ReadonlySet<string> = new Set([
  "SCHEDULE",
  "REBATE_RATE",
  "YIELD_BID",
  "YIELD_ASK",
  "YIELD_BID_ASK",
  "YIELD_LAST",
]);

/**
 * IB's endDateTime: "" (now), "yyyyMMdd HH:mm:ss[ zone]", "yyyyMMdd-HH:mm:ss" (UTC),
 * "yyyyMMdd" (end of that day). No zone means the TWS zone, which for the mock is UTC.
 */
export function parseEndDateTime(text: string, nowMs: number): number | undefined {
  const t = text.trim();
  if (!t) return nowMs;
  const m = /^(\d{4})(\d{2})(\d{2})(?:[ -]+(\d{2}):(\d{2}):(\d{2}))?(?:\s+(\S+))?$/.exec(t);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hh, mm, ss] = m[4] === undefined ? [24, 0, 0] : [Number(m[4]), Number(m[5]), Number(m[6])];
  const zone = m[7] ?? "UTC";
  try {
    return utcOf(zone, y, mo, d, hh, mm, ss);
  } catch {
    return undefined;
  }
}

const pad = (n: number) => String(n).padStart(2, "0");

export function formatDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

/**
 * An intraday time as TWS writes it: formatDate 1 is the exchange's wall time followed by its
 * zone ("20261204 09:30:00 US/Eastern"), 2 is epoch seconds.
 */
export function formatBarTime(ms: number, formatDate: number, cal: ExchangeCalendar): string {
  if (formatDate === 2) return String(Math.floor(ms / 1000));
  const t = localTime(cal.zone, ms);
  return `${t.year}${pad(t.month)}${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)} ${cal.spec.zoneLabel}`;
}

export interface BarRequest {
  instrument: Instrument;
  seed: number;
  barSize: string;
  whatToShow: string;
  useRTH: boolean;
}

/** One bar's time span; `label` dates daily, weekly and monthly bars (yyyyMMdd). */
export interface BarSpan {
  readonly start: number;
  readonly end: number;
  readonly label?: string;
}

/** The trading calendar an instrument's bars follow. */
export function calendarOf(inst: Instrument): ExchangeCalendar {
  return calendarFor(inst.contract);
}

/** Where an instrument's data begins for this request: the first session at or after its head. */
export function headTimestampOf(inst: Instrument, rth: boolean): number {
  const cal = calendarOf(inst);
  const s = cal.sessionsAfter(inst.headTimestampMs, rth).next().value as Session;
  return Math.max(s.open, inst.headTimestampMs);
}

/**
 * The complete bars a window holds, oldest first: intraday bars on the exchange's clock
 * boundaries inside each session (the first one starts at the open, the last ends at the
 * close), one bar per session for "1 day", per week / month for "1 week" / "1 month".
 */
export function planBars(req: BarRequest, window: HistoryWindow): BarSpan[] | "tooMany" {
  const barMs = BAR_SIZES[req.barSize] as number;
  const maxBars = maxBarsFor(req.barSize) ?? Number.POSITIVE_INFINITY;
  const head = headTimestampOf(req.instrument, req.useRTH);
  const { start, end, sessions } = window;
  if (barMs < DAY) {
    // Refuse a plan far too large before building it (a partial bar per session at most).
    let span = 0;
    for (const s of sessions) span += Math.max(0, Math.min(s.close, end) - Math.max(s.open, start));
    if (span / barMs > maxBars + sessions.length) return "tooMany";
    const out: BarSpan[] = [];
    for (const s of sessions) {
      for (let t = s.open; t < s.close;) {
        const barEnd = Math.min(s.dayStart + (Math.floor((t - s.dayStart) / barMs) + 1) * barMs, s.close);
        if (barEnd > end) break;
        if (t >= start && t >= head) out.push({ start: t, end: barEnd });
        t = barEnd;
      }
    }
    return out.length > maxBars ? "tooMany" : out;
  }
  const cal = calendarOf(req.instrument);
  const complete = sessions.filter((s) => s.close <= end && s.close > start && s.close > head);
  if (req.barSize === "1 day")
    return complete.length > maxBars
      ? "tooMany"
      : complete.map((s) => ({ start: s.open, end: s.close, label: s.date }));
  const weekly = req.barSize === "1 week";
  const groupOf = (day: number) => {
    if (weekly) return day - ((weekdayOf(day) + 6) % 7);
    const d = ymdOf(day);
    return dayOf(d.year, d.month, 1);
  };
  const groups = new Map<number, Session[]>();
  for (const s of complete) {
    const g = groupOf(s.day);
    const list = groups.get(g);
    if (list) list.push(s);
    else groups.set(g, [s]);
  }
  const out: BarSpan[] = [];
  for (const [g, list] of groups) {
    // A week or month is a complete bar only once its last session has closed.
    const next = weekly ? g + 7 : nextMonthDay(g);
    let lastClose = 0;
    for (let d = next - 1; d >= g; d--) {
      const s = cal.session(d, req.useRTH);
      if (s) {
        lastClose = s.close;
        break;
      }
    }
    if (lastClose > end) continue;
    const first = list[0] as Session;
    out.push({ start: first.open, end: (list[list.length - 1] as Session).close, label: first.date });
  }
  return out.length > maxBars ? "tooMany" : out;
}

function nextMonthDay(firstOfMonth: number): number {
  const d = ymdOf(firstOfMonth);
  return d.month === 12 ? dayOf(d.year + 1, 1, 1) : dayOf(d.year, d.month + 1, 1);
}

/** The bar in progress at `now` (keepUpToDate updates), or undefined outside a session. */
export function currentBar(
  inst: Instrument,
  barSize: string,
  rth: boolean,
  now: number,
): BarSpan | undefined {
  const barMs = BAR_SIZES[barSize] ?? MIN;
  const s = calendarOf(inst).sessionAt(now, rth);
  if (!s) return undefined;
  if (barMs >= DAY) return { start: s.open, end: now, label: s.date };
  const start = Math.max(s.open, s.dayStart + Math.floor((now - s.dayStart) / barMs) * barMs);
  return { start, end: Math.max(now, start + 1) };
}

/** One bar; volume, WAP and count are -1 for quote-based bars, as IB sends them. */
export function makeBar(req: BarRequest, span: BarSpan, formatDate: number): Bar {
  const t = span.start;
  const barMs = Math.max(1, span.end - span.start);
  const inst = req.instrument;
  const samples = Math.min(12, Math.max(2, Math.round(barMs / 5_000)));
  const prices: number[] = [];
  for (let i = 0; i <= samples; i++) prices.push(midPrice(inst, req.seed, t + (barMs * i) / samples));
  let open = prices[0] as number;
  let close = prices[prices.length - 1] as number;
  let high = Math.max(...prices);
  let low = Math.min(...prices);
  const half = spreadOf(inst, open) / 2;
  const what = req.whatToShow;
  const quoteBased = what !== "TRADES" && what !== "ADJUSTED_LAST" && what !== "AGGTRADES";
  if (what === "BID" || what === "BID_ASK")
    [open, high, low, close] = [open - half, high - half, low - half, close - half];
  if (what === "ASK") [open, high, low, close] = [open + half, high + half, low + half, close + half];
  if (what === "BID_ASK") high += 2 * half;
  if (what === "HISTORICAL_VOLATILITY" || what === "OPTION_IMPLIED_VOLATILITY" || what === "FEE_RATE") {
    const base = what === "FEE_RATE" ? 0.25 : inst.volatility;
    const v = (k: number) =>
      Math.round(base * (0.9 + 0.2 * unit(req.seed, inst.contract.conId, what, t, k)) * 1e6) / 1e6;
    [open, close] = [v(0), v(1)];
    [high, low] = [Math.max(open, close, v(2)), Math.min(open, close, v(3))];
  } else {
    const tick = inst.minTick;
    [open, high, low, close] = [open, high, low, close].map((p) => roundToTick(p, tick)) as [
      number,
      number,
      number,
      number,
    ];
  }
  const volume = quoteBased
    ? -1
    : Math.floor((barMs / 1000) * (20 + unit(req.seed, inst.contract.conId, "bv", t) * 300));
  const wap = quoteBased ? -1 : roundToTick((high + low + close) / 3, inst.minTick / 100);
  return {
    date: span.label ?? formatBarTime(t, formatDate, calendarOf(inst)),
    open,
    high,
    low,
    close,
    volume: String(volume),
    wap: String(wap),
    barCount: quoteBased ? -1 : Math.max(1, Math.floor(volume / 100)),
  };
}
