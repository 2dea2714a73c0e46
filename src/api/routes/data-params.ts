/**
 * Query parameters of the data routes and their normalisation to IB's spelling:
 * `bar=1min` → "1 min", `duration=1D` → "1 D". Bad input names the field (400).
 */
import { z } from "zod";
import { SEC_TYPES, WHAT_TO_SHOW } from "../data-service.js";
import { queryBool } from "./spec.js";

export const DEFAULT_DATA_TIMEOUT_MS = 30_000;
export const MAX_DATA_TIMEOUT_MS = 300_000;

/** IB's accepted bar sizes. */
export const BAR_SIZES = [
  "1 secs",
  "5 secs",
  "10 secs",
  "15 secs",
  "30 secs",
  "1 min",
  "2 mins",
  "3 mins",
  "5 mins",
  "10 mins",
  "15 mins",
  "20 mins",
  "30 mins",
  "1 hour",
  "2 hours",
  "3 hours",
  "4 hours",
  "8 hours",
  "1 day",
  "1 week",
  "1 month",
] as const;

const UNIT: Readonly<Record<string, string>> = {
  s: "secs",
  sec: "secs",
  secs: "secs",
  second: "secs",
  seconds: "secs",
  m: "min",
  min: "min",
  mins: "min",
  minute: "min",
  minutes: "min",
  h: "hour",
  hour: "hour",
  hours: "hour",
  d: "day",
  day: "day",
  days: "day",
  w: "week",
  week: "week",
  weeks: "week",
  mo: "month",
  month: "month",
  months: "month",
};

/** "1min", "5 mins", "1h", "1 day" → IB's bar size, or undefined. */
export function normalizeBar(text: string): string | undefined {
  const m = /^\s*(\d+)\s*([a-z]+)\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = UNIT[m[2]!.toLowerCase()];
  if (!unit) return undefined;
  const plural = unit === "secs" ? "secs" : n === 1 ? unit : `${unit}s`;
  const ib = `${n} ${plural}`;
  return (BAR_SIZES as readonly string[]).includes(ib) ? ib : undefined;
}

/** "1 D", "1D", "30 S", "2 W", "6 M", "1 Y" → "<n> <S|D|W|M|Y>". */
export function normalizeDuration(text: string): string | undefined {
  const m = /^\s*(\d{1,5})\s*([SDWMY])\s*$/i.exec(text);
  if (!m || Number(m[1]) < 1) return undefined;
  return `${Number(m[1])} ${m[2]!.toUpperCase()}`;
}

/** ISO 8601 date, or date and time with an optional zone (no zone = UTC). */
const ISO_END = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

const timeoutMs = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_DATA_TIMEOUT_MS)
  .default(DEFAULT_DATA_TIMEOUT_MS)
  .describe("give up after this many ms: 429 pacing_timeout while waiting for pacing room, else 504");

/** The line to ask (interfaces.md "Several lines"); the daemon answers 400 for a line it does not have. */
export const lineParam = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/i, "expected a line name (1..32 letters, digits, '-' or '_')")
  .optional()
  .describe("the line to ask, by its configured name (default: the first line)");

const contractFields = {
  symbol: z
    .string()
    .regex(/^[A-Za-z0-9 .\-/]{1,32}$/, "expected 1..32 letters, digits, space, '.', '-' or '/'")
    .describe("e.g. AAPL"),
  secType: z.enum(SEC_TYPES).default("STK"),
  exchange: z
    .string()
    .regex(/^[A-Za-z0-9.]{1,16}$/, "expected an exchange code like SMART")
    .default("SMART"),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, "expected a 3-letter currency code")
    .default("USD"),
  timeoutMs,
  line: lineParam,
};

export const qualifyQuery = z.object({ ...contractFields });

export const historyQuery = z.object({
  ...contractFields,
  bar: z
    .string()
    .default("1 min")
    .transform((v, c) => {
      const ib = normalizeBar(v);
      if (!ib)
        c.addIssue({
          code: "custom",
          message: `expected a bar size like "1 min" or "1min"; accepted: ${BAR_SIZES.join(", ")}`,
        });
      return ib ?? "";
    }),
  duration: z
    .string()
    .default("1 D")
    .transform((v, c) => {
      const ib = normalizeDuration(v);
      if (!ib)
        c.addIssue({ code: "custom", message: 'expected an IB duration like "1 D" (units S, D, W, M, Y)' });
      return ib ?? "";
    }),
  end: z
    .string()
    .refine((v) => ISO_END.test(v) && !Number.isNaN(Date.parse(v)), {
      message:
        "expected an ISO 8601 date or time, e.g. 2026-05-01, 2026-05-01T16:00:00Z or 2026-05-01T12:00:00-04:00",
    })
    // A time without a zone is UTC, whatever the daemon's own time zone is.
    .transform((v) => (v.includes("T") && !/(?:Z|[+-]\d{2}:?\d{2})$/.test(v) ? `${v}Z` : v))
    .optional()
    .describe("ISO 8601 end of the range (default now)"),
  what: z.enum(WHAT_TO_SHOW).default("TRADES"),
  rth: queryBool.default(true).describe("regular trading hours only (default true)"),
});

export const headQuery = z.object({
  ...contractFields,
  what: historyQuery.shape.what,
  rth: historyQuery.shape.rth,
});

export const quoteParams = z.object({ symbol: contractFields.symbol });
export const quoteQuery = z.object({
  secType: contractFields.secType,
  exchange: contractFields.exchange,
  currency: contractFields.currency,
  maxAgeMs: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400_000)
    .default(0)
    .describe("accept a cached quote this young"),
  timeoutMs,
  line: lineParam,
});
