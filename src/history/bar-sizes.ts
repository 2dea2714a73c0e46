/**
 * IB's historical bar sizes and the step table of its documentation ("Historical Data
 * Limitations": which bar sizes each duration allows), as data. Pure: the pacer, the mock and
 * backfill planning read the same table.
 */
import type { Duration } from "../calendar/durations.js";

/** Every bar size IB accepts, in seconds ("1 week" / "1 month" nominal: 7 and 30 days). */
export const BAR_SIZE_SECONDS: Readonly<Record<string, number>> = {
  "1 secs": 1,
  "5 secs": 5,
  "10 secs": 10,
  "15 secs": 15,
  "30 secs": 30,
  "1 min": 60,
  "2 mins": 120,
  "3 mins": 180,
  "5 mins": 300,
  "10 mins": 600,
  "15 mins": 900,
  "20 mins": 1_200,
  "30 mins": 1_800,
  "1 hour": 3_600,
  "2 hours": 7_200,
  "3 hours": 10_800,
  "4 hours": 14_400,
  "8 hours": 28_800,
  "1 day": 86_400,
  "1 week": 604_800,
  "1 month": 2_592_000,
};

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
  return canonical in BAR_SIZE_SECONDS ? canonical : undefined;
}

/** Seconds of a bar size ("1 min", "1 mins", "30 secs"), or undefined. */
export function barSeconds(barSize: string | undefined): number | undefined {
  const canonical = barSize === undefined ? undefined : normalizeBarSize(barSize);
  return canonical === undefined ? undefined : BAR_SIZE_SECONDS[canonical];
}

/** Nominal length of a duration in seconds (D a day, W a week, M 30 days, Y 365 days). */
export function nominalSeconds(d: Duration): number {
  const unit = { S: 1, D: 86_400, W: 604_800, M: 2_592_000, Y: 31_536_000 }[d.unit];
  return d.n * unit;
}

export interface StepRow {
  /** The longest duration of the row. */
  readonly duration: Duration;
  /** The bar sizes it allows, smallest and largest, in seconds. */
  readonly minBarSeconds: number;
  readonly maxBarSeconds: number;
}

/**
 * IB's step table: a duration up to each row's length takes bars from its smallest to its
 * largest size. A bar size's longest duration is the last row that still allows it
 * (1 min → 1 D, 5 mins → 1 W, 1 hour → 1 M, 1 day → 1 Y).
 */
export const STEP_TABLE: readonly StepRow[] = [
  { duration: { n: 60, unit: "S" }, minBarSeconds: 1, maxBarSeconds: 60 },
  { duration: { n: 120, unit: "S" }, minBarSeconds: 1, maxBarSeconds: 120 },
  { duration: { n: 1_800, unit: "S" }, minBarSeconds: 1, maxBarSeconds: 1_800 },
  { duration: { n: 3_600, unit: "S" }, minBarSeconds: 5, maxBarSeconds: 3_600 },
  { duration: { n: 14_400, unit: "S" }, minBarSeconds: 10, maxBarSeconds: 10_800 },
  { duration: { n: 28_800, unit: "S" }, minBarSeconds: 30, maxBarSeconds: 28_800 },
  { duration: { n: 1, unit: "D" }, minBarSeconds: 60, maxBarSeconds: 86_400 },
  { duration: { n: 2, unit: "D" }, minBarSeconds: 120, maxBarSeconds: 86_400 },
  { duration: { n: 1, unit: "W" }, minBarSeconds: 180, maxBarSeconds: 604_800 },
  { duration: { n: 1, unit: "M" }, minBarSeconds: 1_800, maxBarSeconds: 2_592_000 },
  { duration: { n: 1, unit: "Y" }, minBarSeconds: 86_400, maxBarSeconds: 2_592_000 },
];

/** The longest duration IB allows for a bar size (undefined for an unknown size). */
export function maxDurationFor(barSize: string): Duration | undefined {
  const s = barSeconds(barSize);
  if (s === undefined) return undefined;
  let best: Duration | undefined;
  for (const row of STEP_TABLE) if (s >= row.minBarSeconds && s <= row.maxBarSeconds) best = row.duration;
  return best;
}

/**
 * The most bars one answer may hold for a bar size: what the step table's longest duration
 * for it holds, counted nominally (1 D = 24 h: 1 min → 1,440 bars, 5 secs → 720, 1 day → 365).
 * TWS refuses more with 162 "Time length exceed max"; `D` and `W` count trading sessions, so
 * `2 D` of 1-min bars (780 in regular hours) is within it, as at IB.
 */
export function maxBarsFor(barSize: string): number | undefined {
  const max = maxDurationFor(barSize);
  const s = barSeconds(barSize);
  return max === undefined || s === undefined ? undefined : Math.floor(nominalSeconds(max) / s);
}
