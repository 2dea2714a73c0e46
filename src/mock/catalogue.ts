/**
 * The mock's small, deterministic world: twenty US stocks on SMART/USD, two EUR stocks, an
 * AAPL option chain and one E-mini future. Expiries are computed from the start time so the
 * chain never lies in the past.
 */
import { type Contract, contract } from "../protocol/messages/contract.js";

export interface Instrument {
  readonly contract: Contract;
  readonly longName: string;
  readonly basePrice: number;
  readonly minTick: number;
  /** Earliest data (ms since epoch): history before it answers 162 "HMDS query returned no data". */
  readonly headTimestampMs: number;
  readonly validExchanges: string;
  readonly industry: string;
  readonly category: string;
  readonly subcategory: string;
  readonly timeZoneId: string;
  readonly stockType: string;
  readonly underConId: number;
  readonly underSymbol: string;
  readonly underSecType: string;
  readonly derivativeSecTypes: readonly string[];
  /** Yearly volatility used by the price path. */
  readonly volatility: number;
}

const US_TZ = "US/Eastern";
const utc = (y: number, m: number, d: number, h = 14, mi = 30) => Date.UTC(y, m - 1, d, h, mi);

interface StockRow {
  conId: number;
  symbol: string;
  primary: string;
  name: string;
  price: number;
  head: number;
  industry: string;
  category: string;
  stockType?: string;
  vol?: number;
}

const US_STOCKS: readonly StockRow[] = [
  {
    conId: 265598,
    symbol: "AAPL",
    primary: "NASDAQ",
    name: "APPLE INC",
    price: 190,
    head: utc(1980, 12, 12),
    industry: "Technology",
    category: "Computers",
  },
  {
    conId: 272093,
    symbol: "MSFT",
    primary: "NASDAQ",
    name: "MICROSOFT CORP",
    price: 410,
    head: utc(1986, 3, 13),
    industry: "Technology",
    category: "Software",
  },
  {
    conId: 756733,
    symbol: "SPY",
    primary: "ARCA",
    name: "SPDR S&P 500 ETF TRUST",
    price: 520,
    head: utc(1993, 1, 29),
    industry: "Funds",
    category: "Equity Fund",
    stockType: "ETF",
    vol: 0.15,
  },
  {
    conId: 3691937,
    symbol: "AMZN",
    primary: "NASDAQ",
    name: "AMAZON.COM INC",
    price: 180,
    head: utc(1997, 5, 15),
    industry: "Communications",
    category: "Internet",
  },
  {
    conId: 208813719,
    symbol: "GOOGL",
    primary: "NASDAQ",
    name: "ALPHABET INC-CL A",
    price: 170,
    head: utc(2004, 8, 19),
    industry: "Communications",
    category: "Internet",
  },
  {
    conId: 76792991,
    symbol: "TSLA",
    primary: "NASDAQ",
    name: "TESLA INC",
    price: 240,
    head: utc(2010, 6, 29),
    industry: "Consumer, Cyclical",
    category: "Auto Manufacturers",
    vol: 0.55,
  },
  {
    conId: 4815747,
    symbol: "NVDA",
    primary: "NASDAQ",
    name: "NVIDIA CORP",
    price: 120,
    head: utc(1999, 1, 22),
    industry: "Technology",
    category: "Semiconductors",
    vol: 0.5,
  },
  {
    conId: 107113386,
    symbol: "META",
    primary: "NASDAQ",
    name: "META PLATFORMS INC-CLASS A",
    price: 500,
    head: utc(2012, 5, 18),
    industry: "Communications",
    category: "Internet",
  },
  {
    conId: 8314,
    symbol: "IBM",
    primary: "NYSE",
    name: "INTL BUSINESS MACHINES CORP",
    price: 190,
    head: utc(1962, 1, 2),
    industry: "Technology",
    category: "Computers",
  },
  {
    conId: 320227571,
    symbol: "QQQ",
    primary: "NASDAQ",
    name: "INVESCO QQQ TRUST SERIES 1",
    price: 440,
    head: utc(1999, 3, 10),
    industry: "Funds",
    category: "Equity Fund",
    stockType: "ETF",
    vol: 0.2,
  },
  {
    conId: 270639,
    symbol: "INTC",
    primary: "NASDAQ",
    name: "INTEL CORP",
    price: 30,
    head: utc(1980, 3, 17),
    industry: "Technology",
    category: "Semiconductors",
    vol: 0.45,
  },
  {
    conId: 268084,
    symbol: "CSCO",
    primary: "NASDAQ",
    name: "CISCO SYSTEMS INC",
    price: 50,
    head: utc(1990, 2, 16),
    industry: "Communications",
    category: "Telecommunications",
  },
  {
    conId: 4391,
    symbol: "AMD",
    primary: "NASDAQ",
    name: "ADVANCED MICRO DEVICES",
    price: 160,
    head: utc(1980, 3, 17),
    industry: "Technology",
    category: "Semiconductors",
    vol: 0.55,
  },
  {
    conId: 15124833,
    symbol: "NFLX",
    primary: "NASDAQ",
    name: "NETFLIX INC",
    price: 620,
    head: utc(2002, 5, 23),
    industry: "Communications",
    category: "Internet",
    vol: 0.4,
  },
  {
    conId: 10098,
    symbol: "BAC",
    primary: "NYSE",
    name: "BANK OF AMERICA CORP",
    price: 38,
    head: utc(1980, 3, 17),
    industry: "Financial",
    category: "Banks",
  },
  {
    conId: 1520593,
    symbol: "JPM",
    primary: "NYSE",
    name: "JPMORGAN CHASE & CO",
    price: 200,
    head: utc(1980, 3, 17),
    industry: "Financial",
    category: "Banks",
  },
  {
    conId: 8894,
    symbol: "KO",
    primary: "NYSE",
    name: "COCA-COLA CO/THE",
    price: 62,
    head: utc(1962, 1, 2),
    industry: "Consumer, Non-cyclical",
    category: "Beverages",
    vol: 0.15,
  },
  {
    conId: 13977,
    symbol: "XOM",
    primary: "NYSE",
    name: "EXXON MOBIL CORP",
    price: 115,
    head: utc(1970, 1, 2),
    industry: "Energy",
    category: "Oil&Gas",
  },
  {
    conId: 13824,
    symbol: "WMT",
    primary: "NYSE",
    name: "WALMART INC",
    price: 68,
    head: utc(1972, 8, 25),
    industry: "Consumer, Cyclical",
    category: "Retail",
    vol: 0.18,
  },
  {
    conId: 6459,
    symbol: "DIS",
    primary: "NYSE",
    name: "WALT DISNEY CO/THE",
    price: 100,
    head: utc(1962, 1, 2),
    industry: "Communications",
    category: "Media",
  },
];

const EUR_STOCKS: readonly StockRow[] = [
  {
    conId: 14204,
    symbol: "SAP",
    primary: "IBIS",
    name: "SAP SE",
    price: 180,
    head: utc(1994, 1, 3, 8, 0),
    industry: "Technology",
    category: "Software",
  },
  {
    conId: 14237,
    symbol: "SIE",
    primary: "IBIS",
    name: "SIEMENS AG-REG",
    price: 170,
    head: utc(1994, 1, 3, 8, 0),
    industry: "Industrial",
    category: "Miscellaneous Manufactur",
  },
];

function stock(row: StockRow, currency: string, tz: string, exchanges: string): Instrument {
  return {
    contract: contract({
      conId: row.conId,
      symbol: row.symbol,
      secType: "STK",
      exchange: "SMART",
      primaryExchange: row.primary,
      currency,
      localSymbol: row.symbol,
      tradingClass: currency === "USD" ? (row.primary === "ARCA" ? row.symbol : "NMS") : `XETRA`,
    }),
    longName: row.name,
    basePrice: row.price,
    minTick: 0.01,
    headTimestampMs: row.head,
    validExchanges: exchanges,
    industry: row.industry,
    category: row.category,
    subcategory: row.category,
    timeZoneId: tz,
    stockType: row.stockType ?? "COMMON",
    underConId: 0,
    underSymbol: "",
    underSecType: "",
    derivativeSecTypes: row.symbol === "AAPL" ? ["OPT", "WAR"] : currency === "USD" ? ["OPT"] : [],
    volatility: row.vol ?? 0.3,
  };
}

/** Third Friday of a month (UTC date), the usual equity option and index future expiry. */
export function thirdFriday(year: number, month0: number): Date {
  const first = new Date(Date.UTC(year, month0, 1));
  const offset = (5 - first.getUTCDay() + 7) % 7;
  return new Date(Date.UTC(year, month0, 1 + offset + 14));
}

export function yyyymmdd(d: Date): string {
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}${String(d.getUTCDate()).padStart(2, "0")}`;
}

/** The next `n` monthly expiries strictly after `nowMs`. */
function nextMonthlies(nowMs: number, n: number): Date[] {
  const out: Date[] = [];
  const now = new Date(nowMs);
  let y = now.getUTCFullYear();
  let m = now.getUTCMonth();
  while (out.length < n) {
    const d = thirdFriday(y, m);
    if (d.getTime() > nowMs) out.push(d);
    m++;
    if (m === 12) {
      m = 0;
      y++;
    }
  }
  return out;
}

const FUT_MONTH_CODES = "FGHJKMNQUVXZ";

export const OPTION_STRIKES: readonly number[] = [170, 175, 180, 185, 190, 195, 200, 205, 210];

export class Catalogue {
  readonly instruments: readonly Instrument[];
  readonly #byConId = new Map<number, Instrument>();
  /** Option chain of the underlying (AAPL): expirations and strikes. */
  readonly chain: { underConId: number; expirations: string[]; strikes: readonly number[] };

  constructor(nowMs: number) {
    const list: Instrument[] = [
      ...US_STOCKS.map((r) =>
        stock(r, "USD", US_TZ, "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,BATS,IEX"),
      ),
      ...EUR_STOCKS.map((r) => stock(r, "EUR", "MET", "SMART,IBIS,TGATE,GETTEX")),
    ];
    const aapl = list[0] as Instrument;
    const expiries = nextMonthlies(nowMs, 3);
    let n = 0;
    for (const exp of expiries) {
      const ymd = yyyymmdd(exp);
      for (const strike of OPTION_STRIKES) {
        for (const right of ["C", "P"]) {
          n++;
          const occ = `AAPL  ${ymd.slice(2)}${right}${String(strike * 1000).padStart(8, "0")}`;
          list.push({
            ...aapl,
            contract: contract({
              conId: 700_000_000 + n,
              symbol: "AAPL",
              secType: "OPT",
              lastTradeDateOrContractMonth: ymd,
              strike,
              right,
              multiplier: "100",
              exchange: "SMART",
              currency: "USD",
              localSymbol: occ,
              tradingClass: "AAPL",
            }),
            longName: "APPLE INC",
            basePrice: Math.max(
              0.5,
              right === "C" ? aapl.basePrice - strike + 6 : strike - aapl.basePrice + 6,
            ),
            headTimestampMs: exp.getTime() - 120 * 86_400_000,
            validExchanges:
              "SMART,AMEX,CBOE,PHLX,PSE,ISE,BOX,BATS,NASDAQOM,CBOE2,MIAX,EDGX,GEMINI,MERCURY,PEARL,EMERALD",
            stockType: "",
            underConId: aapl.contract.conId,
            underSymbol: "AAPL",
            underSecType: "STK",
            derivativeSecTypes: [],
            volatility: 0.9,
          });
        }
      }
    }
    // Front quarterly E-mini S&P 500 future.
    const quarter =
      nextMonthlies(nowMs, 3).find((d) => d.getUTCMonth() % 3 === 2) ??
      thirdFriday(new Date(nowMs).getUTCFullYear() + 1, 2);
    const code = `${FUT_MONTH_CODES[quarter.getUTCMonth()]}${quarter.getUTCFullYear() % 10}`;
    list.push({
      contract: contract({
        conId: 800_000_001,
        symbol: "ES",
        secType: "FUT",
        lastTradeDateOrContractMonth: yyyymmdd(quarter),
        multiplier: "50",
        exchange: "CME",
        currency: "USD",
        localSymbol: `ES${code}`,
        tradingClass: "ES",
      }),
      longName: "E-mini S&P 500",
      basePrice: 5200,
      minTick: 0.25,
      headTimestampMs: quarter.getTime() - 400 * 86_400_000,
      validExchanges: "CME",
      industry: "",
      category: "",
      subcategory: "",
      timeZoneId: "US/Central",
      stockType: "",
      underConId: 11004968,
      underSymbol: "ES",
      underSecType: "IND",
      derivativeSecTypes: [],
      volatility: 0.15,
    });
    this.instruments = list;
    for (const i of list) this.#byConId.set(i.contract.conId, i);
    this.chain = {
      underConId: aapl.contract.conId,
      expirations: expiries.map(yyyymmdd),
      strikes: OPTION_STRIKES,
    };
  }

  byConId(conId: number): Instrument | undefined {
    return this.#byConId.get(conId);
  }

  /** Every instrument the (partial) contract describes, as REQ_CONTRACT_DATA reads it. */
  match(c: Contract): Instrument[] {
    if (c.conId > 0) {
      const i = this.#byConId.get(c.conId);
      return i ? [i] : [];
    }
    const sym = c.symbol.trim().toUpperCase();
    const local = c.localSymbol.replace(/\s+/g, " ").trim().toUpperCase();
    if (!sym && !local) return [];
    const right = normalizeRight(c.right);
    return this.instruments.filter((i) => {
      const k = i.contract;
      if (sym && k.symbol !== sym) return false;
      if (local && k.localSymbol.replace(/\s+/g, " ").toUpperCase() !== local) return false;
      if (c.secType && c.secType.toUpperCase() !== k.secType) return false;
      if (c.currency && c.currency.toUpperCase() !== k.currency) return false;
      if (c.exchange && !i.validExchanges.split(",").includes(c.exchange.toUpperCase())) return false;
      if (
        c.lastTradeDateOrContractMonth &&
        !k.lastTradeDateOrContractMonth.startsWith(c.lastTradeDateOrContractMonth.trim())
      )
        return false;
      if (c.strike && Math.abs(c.strike - k.strike) > 1e-9) return false;
      if (right && right !== k.right) return false;
      if (c.multiplier && Number(c.multiplier) !== Number(k.multiplier || "1")) return false;
      if (c.tradingClass && c.tradingClass.toUpperCase() !== k.tradingClass) return false;
      return true;
    });
  }

  /** The one instrument a request names, or why not (IB answers 200 either way). */
  resolve(c: Contract): { instrument: Instrument } | { error: string } {
    const found = this.match(c);
    // A bare symbol defaults to the stock when stocks and derivatives share it.
    const list = found.length > 1 && !c.secType ? found.filter((i) => i.contract.secType === "STK") : found;
    if (list.length === 1) return { instrument: list[0] as Instrument };
    if (list.length === 0) return { error: "No security definition has been found for the request" };
    return { error: `The contract description specified for ${c.symbol} is ambiguous.` };
  }

  /** REQ_MATCHING_SYMBOLS: symbols starting with the pattern, then names containing it. */
  search(pattern: string, limit = 16): Instrument[] {
    const p = pattern.trim().toUpperCase();
    if (!p) return [];
    const stocks = this.instruments.filter(
      (i) => i.contract.secType === "STK" || i.contract.secType === "FUT",
    );
    const first = stocks.filter((i) => i.contract.symbol.startsWith(p));
    const second = stocks.filter((i) => !first.includes(i) && i.longName.toUpperCase().includes(p));
    return [...first, ...second].slice(0, limit);
  }
}

function normalizeRight(r: string): string {
  const u = r.trim().toUpperCase();
  if (u === "CALL") return "C";
  if (u === "PUT") return "P";
  return u === "?" ? "" : u;
}
