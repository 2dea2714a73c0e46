/**
 * The data routes over the typed client: one `http` tenant on the primary line's switch,
 * one IbClient on it (so qualified contracts are cached across requests), and a small,
 * bounded cache of recent quotes for `maxAgeMs`. Shapes are the contract's: Bar with an ISO
 * time, Quote with nulls for ticks that never came.
 */
import type {
  Bar,
  CallOptions,
  ContractQuery,
  DataService,
  HistoryQuery,
  QualifiedContract,
  Quote,
  QuoteQuery,
} from "../api/data-service.js";
import type { IbClient } from "../client/client.js";
import type { Clock } from "../clock.js";
import { isSwitchboardError, SwitchboardError } from "../errors.js";
import { classifyIbError } from "../pacing/classify.js";
import { PacingTimeoutError } from "../pacing/errors.js";
import type { Pacer } from "../pacing/scheduler.js";
import type { Contract } from "../protocol/messages/contract.js";
import type { ContractDetails } from "../protocol/messages/contracts.js";
import type { Bar as IbBar } from "../protocol/messages/history.js";
import { DEFAULT_SERVER_VERSION } from "../protocol/versions.js";
import type { Switch } from "../switch/switch.js";
import { SeatPool } from "./seats.js";

export const QUOTE_CACHE_SIZE = 1_000;

export interface ClientDataServiceOptions {
  sw: Switch;
  pacer: Pacer;
  clock: Clock;
  version: () => number | undefined;
  maxSeats?: number;
}

export interface ClientDataService extends DataService {
  close(): Promise<void>;
}

export function clientDataService(o: ClientDataServiceOptions): ClientDataService {
  const seats = new SeatPool({
    sw: o.sw,
    clock: o.clock,
    version: () => o.version() ?? DEFAULT_SERVER_VERSION,
    ...(o.maxSeats === undefined ? {} : { maxSeats: o.maxSeats }),
  });
  /**
   * Run one call on a seat of its own. When the route's deadline aborts it, the seat's
   * pacer queue at that moment tells why: still queued → 429 pacing_timeout, else 504
   * timeout. (The client's own abort handler then withdraws the queued request, so the
   * queue is read first: this listener is registered before the call's.)
   */
  async function seated<T>(c: CallOptions, fn: (client: IbClient) => Promise<T>): Promise<T> {
    const seat = await seats.acquire(c.signal);
    let queuedAtAbort = false;
    const onAbort = () => {
      const q = o.pacer.snapshot().tenants.find((t) => t.tenant === seat.tenant.id);
      queuedAtAbort = (q?.queued ?? 0) > 0;
    };
    c.signal.addEventListener("abort", onAbort, { once: true });
    let retire = false;
    try {
      return await fn(seat.client);
    } catch (err) {
      const reason: unknown = c.signal.reason;
      if (c.signal.aborted && isSwitchboardError(reason) && reason.code === "timeout") {
        if (queuedAtAbort) {
          retire = true;
          throw new PacingTimeoutError(c.timeoutMs, undefined, undefined);
        }
        throw reason;
      }
      throw err;
    } finally {
      c.signal.removeEventListener("abort", onAbort);
      seats.release(seat, retire);
    }
  }
  const quotes = new Map<string, { at: number; quote: Quote }>();

  const spec = (q: ContractQuery): Partial<Contract> => ({
    symbol: q.symbol.toUpperCase(),
    secType: q.secType,
    exchange: q.exchange.toUpperCase(),
    currency: q.currency.toUpperCase(),
  });
  const call = (c: CallOptions) => ({ signal: c.signal, timeoutMs: c.timeoutMs });

  async function qualifyAll(client: IbClient, q: ContractQuery, c: CallOptions): Promise<ContractDetails[]> {
    const list = await client.contractDetails(spec(q), call(c));
    if (list.length === 0) {
      throw new SwitchboardError(
        "not_found",
        `no contract matches ${q.symbol} ${q.secType} ${q.exchange} ${q.currency}`,
        {
          ibCode: 200,
        },
      );
    }
    return list;
  }

  const service: ClientDataService = {
    qualify: (q, c) => seated(c, async (client) => (await qualifyAll(client, q, c)).map(contractJson)),
    history: (q: HistoryQuery, c) => seated(c, (client) => history(client, q, c)),
    quote: (q: QuoteQuery, c) => seated(c, (client) => quote(client, q, c)),
    async close() {
      await seats.close();
    },
  };

  async function history(client: IbClient, q: HistoryQuery, c: CallOptions) {
    const [first] = await qualifyAll(client, q, c);
    const contract = first!.contract;
    let noData = false;
    const bars = await client
      .historicalBars(
        {
          contract,
          endDateTime: q.end === undefined ? "" : ibUtc(q.end),
          duration: q.duration,
          barSize: q.bar,
          whatToShow: q.what,
          useRTH: q.rth,
        },
        call(c),
      )
      .catch((err: unknown) => {
        // "HMDS query returned no data" is an answer (an empty range), not a failure.
        if (classOf(err) === "no_data") {
          noData = true;
          return [];
        }
        throw err;
      });
    // noData tells IB's "no data" apart from an empty answer: a backfill records only that.
    return { contract: contractJson(first!), bars: bars.map(barJson), ...(noData ? { noData: true } : {}) };
  }

  async function quote(client: IbClient, q: QuoteQuery, c: CallOptions): Promise<Quote> {
    const key = `${q.symbol}|${q.secType}|${q.exchange}|${q.currency}`.toUpperCase();
    const now = o.clock.now();
    const hit = quotes.get(key);
    if (hit && q.maxAgeMs > 0 && now - hit.at <= q.maxAgeMs) return hit.quote;
    const raw = await client.quote(spec(q), call(c));
    const fresh: Quote = { ...raw, time: raw.time ?? new Date(o.clock.now()).toISOString() };
    quotes.delete(key);
    quotes.set(key, { at: o.clock.now(), quote: fresh });
    // Oldest first in a Map: drop from the front to stay bounded.
    while (quotes.size > QUOTE_CACHE_SIZE) quotes.delete(quotes.keys().next().value as string);
    return fresh;
  }

  return {
    ...service,
    qualify: (q, c) => service.qualify(q, c).catch(rethrow),
    history: (q, c) => service.history(q, c).catch(rethrow),
    quote: (q, c) => service.quote(q, c).catch(rethrow),
  };
}

function classOf(err: unknown): string | undefined {
  if (!isSwitchboardError(err) || err.ibCode === undefined) return undefined;
  return classifyIbError(err.ibCode, err.message).class;
}

/**
 * IB's answer in HTTP terms: a request TWS calls invalid is the caller's 400, a missing
 * market-data permission is 403; everything else keeps its code (502 ib_error and friends).
 */
function rethrow(err: unknown): never {
  const cls = classOf(err);
  if (isSwitchboardError(err) && err.code === "ib_error") {
    if (cls === "pacing" && err.ibCode !== undefined) {
      // IB's pacing refusal (162 "pacing violation" and kin) is a 429 to retry, never a 502
      // nor "no data": a backfill must ask that span again.
      const backoffMs = classifyIbError(err.ibCode, err.message).backoffMs;
      throw Object.assign(
        new SwitchboardError("pacing_timeout", err.message, { ibCode: err.ibCode, cause: err }),
        {
          retryAfterMs: backoffMs,
        },
      );
    }
    if (cls === "invalid_request") {
      throw new SwitchboardError("invalid_argument", err.message, {
        ibCode: err.ibCode,
        field: "query",
        cause: err,
      });
    }
    if (cls === "no_permission") {
      throw new SwitchboardError("forbidden", err.message, { ibCode: err.ibCode, cause: err });
    }
  }
  throw err;
}

function contractJson(d: ContractDetails): QualifiedContract {
  const c = d.contract;
  return {
    conId: c.conId,
    symbol: c.symbol,
    secType: c.secType,
    exchange: c.exchange,
    primaryExchange: c.primaryExchange,
    currency: c.currency,
    localSymbol: c.localSymbol,
    tradingClass: c.tradingClass,
    ...(c.lastTradeDateOrContractMonth
      ? { lastTradeDateOrContractMonth: c.lastTradeDateOrContractMonth }
      : {}),
    ...(c.strike ? { strike: c.strike } : {}),
    ...(c.right ? { right: c.right } : {}),
    ...(c.multiplier ? { multiplier: c.multiplier } : {}),
    longName: d.longName,
    minTick: d.minTick,
  };
}

/** IB's end time in UTC: "yyyyMMdd-HH:mm:ss". */
export function ibUtc(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** formatDate=2 gives epoch seconds for intraday bars and yyyyMMdd for daily ones. */
export function barTime(date: string): string {
  const t = date.trim();
  if (/^\d{9,}$/.test(t)) return new Date(Number(t) * 1000).toISOString();
  const d = /^(\d{4})(\d{2})(\d{2})(?:[ -](\d{2}):(\d{2}):(\d{2}))?/.exec(t);
  if (d) {
    const [, y, mo, da, h = "00", mi = "00", s = "00"] = d;
    return `${y}-${mo}-${da}T${h}:${mi}:${s}.000Z`;
  }
  return t;
}

function barJson(b: IbBar): Bar {
  const num = (v: string | undefined) => (v === undefined || v === "" ? 0 : Number(v));
  return {
    time: barTime(b.date),
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: num(b.volume),
    wap: num(b.wap),
    count: b.barCount,
  };
}
