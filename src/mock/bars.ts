/**
 * Historical bars: IB's bar sizes, durations and whatToShow values, and bars generated from
 * the price path (pure: the same request gives the same bars for the same seed).
 */
import type { Bar } from "../protocol/messages/history.js";
import type { Instrument } from "./catalogue.js";
import { midPrice, roundToTick, spreadOf } from "./prices.js";
import { unit } from "./rng.js";

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Every bar size IB accepts, in ms ("1 week" / "1 month" are calendar bars). */
export const BAR_SIZES: Readonly<Record<string, number>> = {
  "1 secs": S,
  "5 secs": 5 * S,
  "10 secs": 10 * S,
  "15 secs": 15 * S,
  "30 secs": 30 * S,
  "1 min": MIN,
  "2 mins": 2 * MIN,
  "3 mins": 3 * MIN,
  "5 mins": 5 * MIN,
  "10 mins": 10 * MIN,
  "15 mins": 15 * MIN,
  "20 mins": 20 * MIN,
  "30 mins": 30 * MIN,
  "1 hour": HOUR,
  "2 hours": 2 * HOUR,
  "3 hours": 3 * HOUR,
  "4 hours": 4 * HOUR,
  "8 hours": 8 * HOUR,
  "1 day": DAY,
  "1 week": 7 * DAY,
  "1 month": 30 * DAY,
};

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

/** "1 min", "1 mins", "5 secs", "1 sec", "1 hour", "1 day"… → the canonical IB spelling. */
export function normalizeBarSize(text: string): string | undefined {
  const m = /^\s*(\d+)\s*(sec|secs|min|mins|hour|hours|day|days|week|weeks|month|months)\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unitText = (m[2] as string).toLowerCase().replace(/s$/, "");
  const canonical =
    unitText === "sec"
      ? `${n} secs`
      : unitText === "min"
        ? `${n} ${n === 1 ? "min" : "mins"}`
        : `${n} ${unitText}${n === 1 ? "" : "s"}`;
  return canonical in BAR_SIZES ? canonical : undefined;
}

/** "30 S", "1 D", "2 W", "1 M", "1 Y" → ms. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+)\s+([SDWMY])\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n <= 0) return undefined;
  const unitMs = { S: S, D: DAY, W: 7 * DAY, M: 30 * DAY, Y: 365 * DAY }[
    (m[2] as string).toUpperCase() as "S"
  ];
  return n * unitMs;
}

/** Offset of a named zone from UTC at a moment, in ms (via Intl; throws on an unknown zone). */
export function zoneOffsetMs(zone: string, atMs: number): number {
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const parts: Record<string, number> = {};
  for (const p of fmt.formatToParts(new Date(atMs)))
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(
    parts.year as number,
    (parts.month as number) - 1,
    parts.day as number,
    parts.hour as number,
    parts.minute as number,
    parts.second as number,
  );
  return asUtc - Math.floor(atMs / 1000) * 1000;
}

/**
 * IB's endDateTime: "" (now), "yyyyMMdd HH:mm:ss[ zone]", "yyyyMMdd-HH:mm:ss" (UTC),
 * "yyyyMMdd" (end of that day). No zone means the TWS zone, which for the mock is UTC.
 */
export function parseEndDateTime(text: string, nowMs: number): number | undefined {
  const t = text.trim();
  if (!t) return nowMs;
  const m = /^(\d{4})(\d{2})(\d{2})(?:[ -]+(\d{2}):(\d{2}):(\d{2}))?(?:\s+(\S+))?$/.exec(t);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const local =
    m[4] === undefined
      ? Date.UTC(y, mo, d + 1)
      : Date.UTC(y, mo, d, Number(m[4]), Number(m[5]), Number(m[6]));
  const zone = m[7];
  if (!zone || zone === "UTC" || zone === "GMT") return local;
  try {
    return local - zoneOffsetMs(zone, local - zoneOffsetMs(zone, local));
  } catch {
    return undefined;
  }
}

const pad = (n: number) => String(n).padStart(2, "0");

export function formatDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
}

/** Bar and head-timestamp times: text "yyyyMMdd HH:mm:ss UTC" (formatDate 1) or epoch seconds (2). */
export function formatBarTime(ms: number, formatDate: number, daily: boolean): string {
  if (daily) return formatDay(ms);
  if (formatDate === 2) return String(Math.floor(ms / 1000));
  const d = new Date(ms);
  return `${formatDay(ms)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

function isWeekday(ms: number): boolean {
  const wd = new Date(ms).getUTCDay();
  return wd !== 0 && wd !== 6;
}

/** Regular trading hours of US stocks, taken as 14:30–21:00 UTC (the mock ignores DST). */
function inRth(ms: number, barMs: number): boolean {
  const tod = ms % DAY;
  return tod + barMs > 14.5 * HOUR && tod < 21 * HOUR;
}

export interface BarRequest {
  instrument: Instrument;
  seed: number;
  endMs: number;
  durationMs: number;
  barSize: string;
  whatToShow: string;
  useRTH: boolean;
}

/** Most bars one answer may hold: beyond it IB says "Time length exceed max". */
export const MAX_BARS = 100_000;

export function barStarts(req: BarRequest): number[] | "tooMany" {
  const barMs = BAR_SIZES[req.barSize] as number;
  const startMs = Math.max(req.endMs - req.durationMs, req.instrument.headTimestampMs);
  const daily = barMs >= DAY;
  if ((req.endMs - startMs) / barMs > MAX_BARS) return "tooMany";
  const out: number[] = [];
  let t = daily ? Math.floor(startMs / DAY) * DAY : Math.floor(startMs / barMs) * barMs;
  if (t < startMs && !daily) t += barMs;
  for (; t < req.endMs; t += barMs) {
    if (t + (daily ? 0 : barMs) > req.endMs && !daily) break;
    if (req.barSize === "1 week" || req.barSize === "1 month") {
      out.push(t);
      continue;
    }
    if (!isWeekday(t)) continue;
    if (!daily && req.useRTH && req.instrument.contract.secType === "STK" && !inRth(t, barMs)) continue;
    out.push(t);
  }
  return out;
}

/** One bar; volume, WAP and count are -1 for quote-based bars, as IB sends them. */
export function makeBar(req: BarRequest, t: number, formatDate: number): Bar {
  const barMs = BAR_SIZES[req.barSize] as number;
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
    date: formatBarTime(t, formatDate, barMs >= DAY),
    open,
    high,
    low,
    close,
    volume: String(volume),
    wap: String(wap),
    barCount: quoteBased ? -1 : Math.max(1, Math.floor(volume / 100)),
  };
}
