/**
 * The typed client: common IB work as async calls over one tenant of a switch. Every call
 * takes an AbortSignal and a timeout, and fails with a typed error carrying IB's code.
 */
import { sleep } from "../clock.js";
import { isSwitchboardError, SwitchboardError } from "../errors.js";
import { maxBarsFor, maxDurationFor } from "../history/bar-sizes.js";
import { classifyIbError } from "../pacing/classify.js";
import { fromFields, toFields } from "../protocol/codec.js";
import { IN, OUT } from "../protocol/message-ids.js";
import {
  ACCOUNT_SUMMARY,
  type AccountSummary,
  POSITION_DATA,
  type PositionData,
} from "../protocol/messages/account.js";
import { CURRENT_TIME } from "../protocol/messages/connection.js";
import { type Contract, contractKey, contract as makeContract } from "../protocol/messages/contract.js";
import {
  CONTRACT_DATA,
  type ContractDetails,
  REQ_CONTRACT_DATA,
  REQ_MATCHING_SYMBOLS,
  REQ_SEC_DEF_OPT_PARAMS,
  SECURITY_DEFINITION_OPTION_PARAMETER,
  type SecDefOptParameter,
  SYMBOL_SAMPLES,
  type SymbolSample,
} from "../protocol/messages/contracts.js";
import {
  HEAD_TIMESTAMP,
  HISTORICAL_DATA,
  REQ_HEAD_TIMESTAMP,
  REQ_HISTORICAL_DATA,
} from "../protocol/messages/history.js";
import { REQ_MKT_DATA, TICK_PRICE, TICK_SIZE } from "../protocol/messages/market-data.js";
import type { Tenant } from "../switch/tenant.js";
import { type Bar, toBar } from "./bars.js";
import { type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from "./options.js";
import { applyTickPrice, applyTickSize, emptyQuote, type Quote } from "./quote.js";
import { answerKey, done, idKey, more, Requester, type RequestSpec } from "./requester.js";
import { TtlCache } from "./ttl-cache.js";

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface HistoryRequest {
  contract: Partial<Contract>;
  /** "yyyyMMdd HH:mm:ss[ zone]" or "yyyyMMdd-HH:mm:ss" (UTC); empty = now. */
  endDateTime?: string;
  /** IB style: "1 D", "2 W", "3600 S". */
  duration: string;
  /** IB style: "1 min", "5 secs", "1 day". */
  barSize: string;
  whatToShow?: string;
  useRTH?: boolean;
}

export interface HeadTimestampRequest {
  contract: Partial<Contract>;
  whatToShow?: string;
  useRTH?: boolean;
}

export class IbClient implements AsyncDisposable {
  readonly tenant: Tenant;
  readonly #o: ResolvedClientOptions;
  readonly #req: Requester;
  readonly #qualified: TtlCache<ContractDetails>;

  constructor(tenant: Tenant, options: ClientOptions = {}) {
    this.tenant = tenant;
    this.#o = resolveClientOptions(options);
    this.#req = new Requester(tenant, this.#o.clock, this.#o.version, this.#o.maxPending);
    this.#qualified = new TtlCache(this.#o.qualifyCacheSize, this.#o.qualifyCacheTtlMs, this.#o.clock);
  }

  get #v(): number {
    return this.#o.version();
  }

  /** Every contract IB knows that matches (REQ_CONTRACT_DATA). */
  contractDetails(c: Partial<Contract>, options: CallOptions = {}): Promise<ContractDetails[]> {
    return this.#withRetry(options, () => {
      const reqId = this.#req.nextId();
      return this.#collect(
        {
          reqId,
          what: "contract details",
          send: toFields(
            REQ_CONTRACT_DATA,
            {
              reqId,
              contract: makeContract(c),
              includeExpired: false,
              secIdType: "",
              secId: "",
              issuerId: "",
            },
            this.#v,
          ),
          item: IN.CONTRACT_DATA,
          decode: (f) => fromFields(CONTRACT_DATA, f, this.#v).details,
          end: IN.CONTRACT_DATA_END,
        },
        options,
      );
    });
  }

  /**
   * One fully specified contract per input (conId filled in). Fails with `not_found`
   * (IB 200) for an unknown contract and `invalid_argument` for an ambiguous one. Results
   * are cached, so a burst of the same symbols costs TWS one request each.
   */
  async qualifyContracts(
    contracts: readonly Partial<Contract>[],
    options: CallOptions = {},
  ): Promise<Contract[]> {
    return Promise.all(contracts.map((c) => this.#qualifyOne(c, options).then((d) => d.contract)));
  }

  async #qualifyOne(c: Partial<Contract>, options: CallOptions): Promise<ContractDetails> {
    const key = contractKey(makeContract(c));
    const cached = this.#qualified.get(key);
    if (cached) return cached;
    const list = await this.contractDetails(c, options);
    if (list.length === 0)
      throw new SwitchboardError("not_found", `no contract matches ${key}`, { ibCode: 200 });
    const exact =
      list.length === 1
        ? list[0]
        : list.find((d) => d.contract.primaryExchange === c.primaryExchange && c.primaryExchange);
    if (!exact) {
      throw new SwitchboardError("invalid_argument", `${key} is ambiguous: ${list.length} contracts match`, {
        field: "contract",
      });
    }
    this.#qualified.set(key, exact);
    this.#qualified.set(contractKey(exact.contract), exact);
    return exact;
  }

  historicalBars(r: HistoryRequest, options: CallOptions = {}): Promise<Bar[]> {
    const asked = this.#withRetry(options, () => {
      const reqId = this.#req.nextId();
      return this.#run(
        {
          key: idKey(reqId),
          what: "historical data",
          send: toFields(
            REQ_HISTORICAL_DATA,
            {
              reqId,
              contract: makeContract(r.contract),
              includeExpired: false,
              endDateTime: r.endDateTime ?? "",
              barSize: r.barSize,
              duration: r.duration,
              useRTH: r.useRTH ?? true,
              whatToShow: r.whatToShow ?? "TRADES",
              formatDate: 2,
              comboLegs: [],
              keepUpToDate: false,
              chartOptions: "",
            },
            this.#v,
          ),
          cancel: [String(OUT.CANCEL_HISTORICAL_DATA), "1", String(reqId)],
          collect: (f) =>
            Number(f[0]) === IN.HISTORICAL_DATA
              ? done(fromFields(HISTORICAL_DATA, f, this.#v).bars.map(toBar))
              : more,
        },
        options,
      );
    });
    return asked.catch((err: unknown) => {
      throw stepTableError(err, r.barSize, r.duration) ?? err;
    });
  }

  /** The earliest date IB has data for (epoch seconds as text). */
  headTimestamp(r: HeadTimestampRequest, options: CallOptions = {}): Promise<string> {
    return this.#withRetry(options, () => {
      const reqId = this.#req.nextId();
      return this.#run(
        {
          key: idKey(reqId),
          what: "head timestamp",
          send: toFields(
            REQ_HEAD_TIMESTAMP,
            {
              reqId,
              contract: makeContract(r.contract),
              includeExpired: false,
              useRTH: r.useRTH ?? true,
              whatToShow: r.whatToShow ?? "TRADES",
              formatDate: 2,
            },
            this.#v,
          ),
          cancel: [String(OUT.CANCEL_HEAD_TIMESTAMP), String(reqId)],
          collect: (f) =>
            Number(f[0]) === IN.HEAD_TIMESTAMP
              ? done(fromFields(HEAD_TIMESTAMP, f, this.#v).headTimestamp)
              : more,
        },
        options,
      );
    });
  }

  /** A snapshot quote (never a regulatory snapshot: those cost money). */
  async quote(c: Partial<Contract>, options: CallOptions = {}): Promise<Quote> {
    const full = await this.#resolve(c, options);
    const reqId = this.#req.nextId();
    const q = emptyQuote(full.symbol, full.conId);
    return this.#run(
      {
        key: idKey(reqId),
        what: "quote",
        send: this.#marketData(reqId, full, true),
        collect: (f) => {
          this.#applyTick(q, f);
          return Number(f[0]) === IN.TICK_SNAPSHOT_END ? done(q) : more;
        },
      },
      options,
    );
  }

  /** Streaming quotes: each tick yields the updated quote. Ending the loop cancels upstream. */
  async *subscribeQuotes(
    c: Partial<Contract>,
    options: { signal?: AbortSignal; bufferSize?: number } = {},
  ): AsyncGenerator<Quote> {
    const full = await this.#resolve(c, options);
    const reqId = this.#req.nextId();
    const q = emptyQuote(full.symbol, full.conId);
    const limit = options.bufferSize ?? 1_000;
    const queue: Quote[] = [];
    let failure: unknown;
    let wake: (() => void) | undefined;
    const detach = this.#req.listen(
      idKey(reqId),
      (f) => {
        this.#applyTick(q, f);
        if (Number(f[0]) !== IN.TICK_PRICE && Number(f[0]) !== IN.TICK_SIZE) return;
        if (queue.length >= limit) queue.shift();
        queue.push({ ...q });
        wake?.();
      },
      (err) => {
        failure = err;
        wake?.();
      },
    );
    const onAbort = () => wake?.();
    options.signal?.addEventListener("abort", onAbort);
    this.#req.send(this.#marketData(reqId, full, false));
    try {
      for (;;) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (failure) throw failure;
        if (options.signal?.aborted) return;
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
    } finally {
      detach();
      options.signal?.removeEventListener("abort", onAbort);
      if (this.tenant.state === "open") this.tenant.send([String(OUT.CANCEL_MKT_DATA), "2", String(reqId)]);
    }
  }

  optionChain(
    underlying: { symbol: string; secType?: string; conId: number },
    options: CallOptions = {},
  ): Promise<SecDefOptParameter[]> {
    return this.#withRetry(options, () => {
      const reqId = this.#req.nextId();
      return this.#collect(
        {
          reqId,
          what: "option chain",
          send: toFields(
            REQ_SEC_DEF_OPT_PARAMS,
            {
              reqId,
              underlyingSymbol: underlying.symbol,
              futFopExchange: "",
              underlyingSecType: underlying.secType ?? "STK",
              underlyingConId: underlying.conId,
            },
            this.#v,
          ),
          item: IN.SECURITY_DEFINITION_OPTION_PARAMETER,
          decode: (f) => fromFields(SECURITY_DEFINITION_OPTION_PARAMETER, f, this.#v),
          end: IN.SECURITY_DEFINITION_OPTION_PARAMETER_END,
        },
        options,
      );
    });
  }

  matchingSymbols(pattern: string, options: CallOptions = {}): Promise<SymbolSample[]> {
    const reqId = this.#req.nextId();
    return this.#run(
      {
        key: idKey(reqId),
        what: "matching symbols",
        send: toFields(REQ_MATCHING_SYMBOLS, { reqId, pattern }, this.#v),
        collect: (f) =>
          Number(f[0]) === IN.SYMBOL_SAMPLES ? done(fromFields(SYMBOL_SAMPLES, f, this.#v).samples) : more,
      },
      options,
    );
  }

  /** Every position of every managed account, once (the subscription is ended after the dump). */
  async positions(options: CallOptions = {}): Promise<PositionData[]> {
    const out: PositionData[] = [];
    const detach = this.#req.listen(
      answerKey(IN.POSITION_DATA),
      (f) => out.push(fromFields(POSITION_DATA, f, this.#v)),
      () => {},
    );
    try {
      return await this.#run(
        {
          key: answerKey(IN.POSITION_END),
          what: "positions",
          send: [String(OUT.REQ_POSITIONS), "1"],
          collect: () => done(out),
        },
        options,
      );
    } finally {
      detach();
      if (this.tenant.state === "open") this.tenant.send([String(OUT.CANCEL_POSITIONS), "1"]);
    }
  }

  /** Account summary values (tags such as "NetLiquidation,BuyingPower"), once. */
  accountSummary(
    tags = "NetLiquidation,TotalCashValue,BuyingPower,AvailableFunds",
    options: CallOptions & { group?: string } = {},
  ): Promise<AccountSummary[]> {
    const reqId = this.#req.nextId();
    return this.#collect(
      {
        reqId,
        what: "account summary",
        send: [String(OUT.REQ_ACCOUNT_SUMMARY), "1", String(reqId), options.group ?? "All", tags],
        cancel: [String(OUT.CANCEL_ACCOUNT_SUMMARY), "1", String(reqId)],
        item: IN.ACCOUNT_SUMMARY,
        decode: (f) => fromFields(ACCOUNT_SUMMARY, f, this.#v),
        end: IN.ACCOUNT_SUMMARY_END,
      },
      options,
    ).finally(() => {
      if (this.tenant.state === "open")
        this.tenant.send([String(OUT.CANCEL_ACCOUNT_SUMMARY), "1", String(reqId)]);
    });
  }

  /** TWS's clock, epoch seconds. */
  currentTime(options: CallOptions = {}): Promise<number> {
    return this.#run(
      {
        key: answerKey(IN.CURRENT_TIME),
        what: "current time",
        send: [String(OUT.REQ_CURRENT_TIME), "1"],
        collect: (f) => done(fromFields(CURRENT_TIME, f, this.#v).time),
      },
      options,
    );
  }

  async close(): Promise<void> {
    this.#req.close();
    await this.tenant.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Items of one request until its end message (a fresh list per call, so retries start empty). */
  #collect<T>(
    spec: {
      reqId: number;
      what: string;
      send: readonly string[];
      cancel?: readonly string[];
      item: number;
      decode: (fields: readonly string[]) => T;
      end: number;
    },
    options: CallOptions,
  ): Promise<T[]> {
    const out: T[] = [];
    return this.#run(
      {
        key: idKey(spec.reqId),
        what: spec.what,
        send: spec.send,
        cancel: spec.cancel,
        collect: (f) => {
          const id = Number(f[0]);
          if (id === spec.item) out.push(spec.decode(f));
          return id === spec.end ? done(out) : more;
        },
      },
      options,
    );
  }

  /** A contract as given when it has a conId, else qualified first. */
  async #resolve(c: Partial<Contract>, options: CallOptions): Promise<Contract> {
    if (c.conId) return makeContract(c);
    return (await this.qualifyContracts([c], options))[0] ?? makeContract(c);
  }

  #marketData(tickerId: number, contract: Contract, snapshot: boolean): string[] {
    return toFields(
      REQ_MKT_DATA,
      {
        tickerId,
        contract,
        comboLegs: [],
        deltaNeutral: undefined,
        genericTickList: "",
        snapshot,
        regulatorySnapshot: false,
        mktDataOptions: "",
      },
      this.#v,
    );
  }

  #run<T>(spec: Omit<RequestSpec<T>, "timeoutMs" | "signal">, options: CallOptions): Promise<T> {
    return this.#req.run({
      ...spec,
      timeoutMs: options.timeoutMs ?? this.#o.requestTimeoutMs,
      signal: options.signal,
    });
  }

  #applyTick(q: Quote, f: readonly string[]): void {
    const now = this.#o.clock.now();
    const id = Number(f[0]);
    if (id === IN.TICK_PRICE) {
      const t = fromFields(TICK_PRICE, f, this.#v);
      applyTickPrice(q, t.tickType, t.price, t.size, now);
    } else if (id === IN.TICK_SIZE) {
      const t = fromFields(TICK_SIZE, f, this.#v);
      applyTickSize(q, t.tickType, t.size, now);
    } else if (id === IN.MARKET_DATA_TYPE) {
      q.marketDataType = Number(f[3]) || q.marketDataType;
    }
  }

  /** Retry what a retry can fix (pacing), with exponential backoff; everything else fails at once. */
  async #withRetry<T>(options: CallOptions, attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isSwitchboardError(err) || err.ibCode === undefined || n >= this.#o.retryAttempts) throw err;
        const cls = classifyIbError(err.ibCode, err.message);
        if (!cls.retryable || cls.class !== "pacing") throw err;
        const wait = this.#o.retryBaseMs * 2 ** n;
        await sleep(this.#o.clock, wait, options.signal);
      }
    }
  }
}

/** IB's 162 "Time length exceed max", told in terms of the request: which duration is too long. */
function stepTableError(err: unknown, barSize: string, duration: string): SwitchboardError | undefined {
  if (!isSwitchboardError(err) || err.ibCode !== 162 || !/time length exceed/i.test(err.message))
    return undefined;
  const max = maxDurationFor(barSize);
  const bars = maxBarsFor(barSize);
  return new SwitchboardError(
    "invalid_argument",
    `duration "${duration}" holds more ${barSize} bars than IB answers at once` +
      (max && bars ? ` (its step table allows ${max.n} ${max.unit}, ${bars} bars)` : "") +
      `: ask in shorter chunks (IB 162: Time length exceed max)`,
    { field: "duration", ibCode: 162, cause: err },
  );
}
