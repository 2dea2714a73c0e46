/**
 * The data routes' port: qualify, history, head timestamp and quote, each with an abort signal. The daemon
 * plugs in an implementation over the switch and the typed client; until that exists the
 * routes answer 501 `not_implemented` (never invented data).
 */
import { z } from "zod";

export const SEC_TYPES = [
  "STK",
  "OPT",
  "FUT",
  "CASH",
  "IND",
  "CFD",
  "BOND",
  "FOP",
  "WAR",
  "FUND",
  "CMDTY",
  "CRYPTO",
] as const;

export const WHAT_TO_SHOW = [
  "TRADES",
  "MIDPOINT",
  "BID",
  "ASK",
  "BID_ASK",
  "ADJUSTED_LAST",
  "HISTORICAL_VOLATILITY",
  "OPTION_IMPLIED_VOLATILITY",
  "FEE_RATE",
  "SCHEDULE",
] as const;

export interface ContractQuery {
  symbol: string;
  secType: (typeof SEC_TYPES)[number];
  exchange: string;
  currency: string;
}

export const contractSchema = z
  .looseObject({
    conId: z.number().int(),
    symbol: z.string(),
    secType: z.string(),
    exchange: z.string(),
    primaryExchange: z.string().optional(),
    currency: z.string(),
    localSymbol: z.string().optional(),
    tradingClass: z.string().optional(),
  })
  .meta({ id: "Contract" });
export type QualifiedContract = z.infer<typeof contractSchema>;

export const barSchema = z
  .object({
    time: z.string().describe("ISO 8601 start of the bar"),
    open: z.number(),
    high: z.number(),
    low: z.number(),
    close: z.number(),
    volume: z.number(),
    wap: z.number(),
    count: z.number().int(),
  })
  .meta({ id: "Bar" });
export type Bar = z.infer<typeof barSchema>;

const num = z.number().nullable();
export const quoteSchema = z
  .object({
    symbol: z.string(),
    conId: z.number().int(),
    bid: num,
    bidSize: num,
    ask: num,
    askSize: num,
    last: num,
    lastSize: num,
    close: num,
    time: z.string().describe("ISO 8601 time of the newest tick"),
    marketDataType: z.number().int().describe("1 live, 2 frozen, 3 delayed, 4 delayed frozen"),
  })
  .meta({ id: "Quote" });
export type Quote = z.infer<typeof quoteSchema>;

export interface HistoryQuery extends ContractQuery {
  /** IB bar size ("1 min", "5 mins", "1 hour", "1 day"). */
  bar: string;
  /** IB duration ("1 D", "2 W"). */
  duration: string;
  /** End of the range; undefined = now. */
  end: Date | undefined;
  what: (typeof WHAT_TO_SHOW)[number];
  rth: boolean;
}

/** The earliest data IB has for a contract and whatToShow (a backfill never asks before it). */
export interface HeadQuery extends ContractQuery {
  what: (typeof WHAT_TO_SHOW)[number];
  rth: boolean;
}

export const headSchema = z
  .object({
    contract: contractSchema,
    head: z.string().describe("ISO 8601 instant of the earliest bar IB has"),
  })
  .meta({ id: "HeadTimestamp" });
export type HeadAnswer = z.infer<typeof headSchema>;

export interface QuoteQuery extends ContractQuery {
  /** A cached quote younger than this is good enough; 0 = always ask. */
  maxAgeMs: number;
}

export interface CallOptions {
  signal: AbortSignal;
  timeoutMs: number;
}

export interface DataService {
  qualify(q: ContractQuery, o: CallOptions): Promise<QualifiedContract[]>;
  history(
    q: HistoryQuery,
    o: CallOptions,
  ): Promise<{ contract: QualifiedContract; bars: Bar[]; noData?: boolean }>;
  headTimestamp(q: HeadQuery, o: CallOptions): Promise<HeadAnswer>;
  quote(q: QuoteQuery, o: CallOptions): Promise<Quote>;
}

/** Answers every call with 501 naming what is missing. */
export function unavailableDataService(reason: string): DataService {
  const fail = async (): Promise<never> => {
    throw new NotImplementedError(reason);
  };
  return { qualify: fail, history: fail, headTimestamp: fail, quote: fail };
}

/** A part of the build that is missing (HTTP 501): not the gateway's fault, so not a 503. */
export class NotImplementedError extends Error {
  readonly code = "not_implemented";
}
