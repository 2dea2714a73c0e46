/** A quote built from market-data ticks: pure accumulation, live and delayed tick types alike. */
export interface Quote {
  symbol: string;
  conId: number;
  bid: number | null;
  bidSize: number | null;
  ask: number | null;
  askSize: number | null;
  last: number | null;
  lastSize: number | null;
  close: number | null;
  /** ISO 8601 time of the last tick. */
  time: string | null;
  /** 1 live, 2 frozen, 3 delayed, 4 delayed-frozen. */
  marketDataType: number;
}

export function emptyQuote(symbol: string, conId: number): Quote {
  return {
    symbol,
    conId,
    bid: null,
    bidSize: null,
    ask: null,
    askSize: null,
    last: null,
    lastSize: null,
    close: null,
    time: null,
    marketDataType: 1,
  };
}

type PriceField = "bid" | "ask" | "last" | "close";
type SizeField = "bidSize" | "askSize" | "lastSize";

/** Live and delayed (66…) tick types. */
const PRICE_TICKS: Readonly<Record<number, PriceField>> = {
  1: "bid",
  2: "ask",
  4: "last",
  9: "close",
  66: "bid",
  67: "ask",
  68: "last",
  75: "close",
};
const SIZE_TICKS: Readonly<Record<number, SizeField>> = {
  0: "bidSize",
  3: "askSize",
  5: "lastSize",
  69: "bidSize",
  70: "askSize",
  71: "lastSize",
};
/** TICK_PRICE carries the size of the matching size tick. */
const SIZE_OF_PRICE: Readonly<Record<number, SizeField>> = {
  1: "bidSize",
  2: "askSize",
  4: "lastSize",
  66: "bidSize",
  67: "askSize",
  68: "lastSize",
};

const num = (s: string | undefined): number | null => {
  if (s === undefined || s === "") return null;
  const n = Number(s);
  return Number.isFinite(n) && n !== Number.MAX_VALUE ? n : null;
};

export function applyTickPrice(
  q: Quote,
  tickType: number,
  price: number,
  size: string | undefined,
  now: number,
): void {
  const field = PRICE_TICKS[tickType];
  if (!field) return;
  // IB sends -1 for "no price" (e.g. no bid outside trading hours).
  q[field] = price === -1 ? null : price;
  const sizeField = SIZE_OF_PRICE[tickType];
  const s = num(size);
  if (sizeField && s !== null) q[sizeField] = s;
  q.time = new Date(now).toISOString();
}

export function applyTickSize(q: Quote, tickType: number, size: string | undefined, now: number): void {
  const field = SIZE_TICKS[tickType];
  if (!field) return;
  q[field] = num(size);
  q.time = new Date(now).toISOString();
}
