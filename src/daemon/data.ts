/**
 * The data routes over the typed client: one `http` tenant on the primary line's switch,
 * one IbClient on it (so qualified contracts are cached across requests), and a small,
 * bounded cache of recent quotes for `maxAgeMs`. Shapes are the contract's: Bar with an ISO
 * time, Quote with nulls for ticks that never came.
 *
 * Fail fast (interfaces.md, "Fail fast over HTTP"): a call made while the line is down is
 * answered at once with 503 upstream_unavailable, the line's reason and Retry-After — unless
 * the line went down less than FAIL_FAST_GRACE_MS ago (a blip, or the daemon just started):
 * then the call waits for the line within its timeoutMs, and at most FAIL_FAST_WAIT_MS from
 * the moment the line went down, and still answers 503 if it is not back. Waiting for pacing
 * room is bounded by the caller's timeoutMs alone (429 past it).
 */
import type {
  CallOptions,
  ContractQuery,
  DataService,
  HeadAnswer,
  HeadQuery,
  HistoryQuery,
  QualifiedContract,
  Quote,
  QuoteQuery,
} from "../api/data-service.js";
import type { IbClient } from "../client/client.js";
import type { Clock } from "../clock.js";
import { isSwitchboardError, SwitchboardError } from "../errors.js";
import { classifyIbError } from "../pacing/classify.js";
import type { Line } from "../line/line.js";
import type { LineState } from "../line/line-events.js";
import { PacingTimeoutError } from "../pacing/errors.js";
import type { Pacer } from "../pacing/scheduler.js";
import type { Contract } from "../protocol/messages/contract.js";
import type { ContractDetails } from "../protocol/messages/contracts.js";
import { DEFAULT_SERVER_VERSION } from "../protocol/versions.js";
import type { Switch } from "../switch/switch.js";
import { MAX_DATA_TIMEOUT_MS } from "../api/routes/data-params.js";
import { ibTime } from "../history/ib-time.js";
import { SeatPool } from "./seats.js";

export const QUOTE_CACHE_SIZE = 1_000;
/** A line down for less than this is waited for (within timeoutMs) instead of failing at once. */
export const FAIL_FAST_GRACE_MS = 2_000;
/** Longest wait for a line that went down within the grace window, counted from going down. */
export const FAIL_FAST_WAIT_MS = 5_000;
/** Retry-After of a 503 for a down line: the line probes every 500 ms, a retry soon is cheap. */
export const LINE_RETRY_AFTER_MS = 2_000;
/** States in which the socket to TWS is up and requests are written. */
const SERVING: ReadonlySet<LineState> = new Set(["ready", "degraded"]);

export interface ClientDataServiceOptions {
  sw: Switch;
  pacer: Pacer;
  clock: Clock;
  version: () => number | undefined;
  /** The line the switch rides on: its state decides fail-fast answers. */
  line: Pick<Line, "name" | "state" | "reason" | "ready" | "on">;
  maxSeats?: number;
}

/** 503 upstream_unavailable for a down line, with its reason; no ibCode (IB never saw it). */
export class LineUnavailableError extends SwitchboardError {
  readonly retryAfterMs = LINE_RETRY_AFTER_MS;
  constructor(line: string, state: LineState, reason: string) {
    super("upstream_unavailable", `line ${line} is ${state}: ${reason}`, { reason });
  }
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
    // Past the longest timeoutMs a route accepts: the call's deadline always comes first.
    pacingDeadlineMs: MAX_DATA_TIMEOUT_MS + 60_000,
  });
  // Down since the service began (the line is still connecting then), or since it last left
  // a serving state.
  let downSince = o.clock.now();
  const offState = o.line.on("line.state", (e) => {
    if (SERVING.has(e.from) && !SERVING.has(e.to)) downSince = o.clock.now();
  });
  const unavailable = () => new LineUnavailableError(o.line.name, o.line.state, o.line.reason);

  /** Let the call through when the line serves; else 503 at once, or after a short wait. */
  async function lineGate(c: CallOptions): Promise<void> {
    if (SERVING.has(o.line.state)) return;
    const downFor = o.clock.now() - downSince;
    if (downFor >= FAIL_FAST_GRACE_MS) throw unavailable();
    // A blip: wait for the line, within the call's deadline and at most FAIL_FAST_WAIT_MS
    // from the moment it went down (a line that stays down is not worth a longer wait).
    const wait = new AbortController();
    const onCall = () => wait.abort();
    c.signal.addEventListener("abort", onCall, { once: true });
    const timer = o.clock.setTimeout(() => wait.abort(), FAIL_FAST_WAIT_MS - downFor);
    try {
      await o.line.ready({ signal: wait.signal });
    } catch {
      // The wait ended (or the line closed): the answer is still the line's state.
      throw unavailable();
    } finally {
      o.clock.clearTimeout(timer);
      c.signal.removeEventListener("abort", onCall);
    }
  }
  /**
   * Run one call on a seat of its own. When the route's deadline aborts it, the seat's
   * pacer queue at that moment tells why: still queued → 429 pacing_timeout, else 504
   * timeout. (The client's own abort handler then withdraws the queued request, so the
   * queue is read first: this listener is registered before the call's.)
   */
  async function seated<T>(c: CallOptions, fn: (client: IbClient) => Promise<T>): Promise<T> {
    await lineGate(c);
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
    headTimestamp: (q: HeadQuery, c) => seated(c, (client) => headTimestamp(client, q, c)),
    quote: (q: QuoteQuery, c) => seated(c, (client) => quote(client, q, c)),
    async close() {
      offState();
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
    return { contract: contractJson(first!), bars, ...(noData ? { noData: true } : {}) };
  }

  async function headTimestamp(client: IbClient, q: HeadQuery, c: CallOptions): Promise<HeadAnswer> {
    const [first] = await qualifyAll(client, q, c);
    const text = await client.headTimestamp(
      { contract: first!.contract, whatToShow: q.what, useRTH: q.rth },
      call(c),
    );
    return { contract: contractJson(first!), head: new Date(ibTime(text)).toISOString() };
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
    headTimestamp: (q, c) => service.headTimestamp(q, c).catch(rethrow),
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
    if (cls === "pacing") {
      // IB refused for pacing (162 "pacing violation" and kin): come back later, which is
      // what 429 with Retry-After says.
      throw new IbPacingError(err, classifyIbError(err.ibCode ?? 0, err.message).backoffMs);
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

/** 429 pacing_timeout for IB's own pacing refusal; keeps IB's number. */
class IbPacingError extends SwitchboardError {
  readonly retryAfterMs: number | undefined;
  constructor(err: SwitchboardError, retryAfterMs: number | undefined) {
    super("pacing_timeout", `refused by IB for pacing: ${err.message}`, { ibCode: err.ibCode, cause: err });
    this.retryAfterMs = retryAfterMs;
  }
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
