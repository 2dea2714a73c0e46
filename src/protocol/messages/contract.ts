/** The contract as IB sends it in most requests: the 12-field compact form. */
import type { FieldReader, FieldWriter } from "../fields.js";

export interface Contract {
  conId: number;
  symbol: string;
  secType: string;
  lastTradeDateOrContractMonth: string;
  strike: number;
  right: string;
  multiplier: string;
  exchange: string;
  primaryExchange: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
}

export function contract(partial: Partial<Contract> = {}): Contract {
  return {
    conId: 0,
    symbol: "",
    secType: "",
    lastTradeDateOrContractMonth: "",
    strike: 0,
    right: "",
    multiplier: "",
    exchange: "",
    primaryExchange: "",
    currency: "",
    localSymbol: "",
    tradingClass: "",
    ...partial,
  };
}

export function writeContract(w: FieldWriter, c: Contract): void {
  w.int(c.conId)
    .str(c.symbol)
    .str(c.secType)
    .str(c.lastTradeDateOrContractMonth)
    .float(c.strike)
    .str(c.right)
    .str(c.multiplier)
    .str(c.exchange)
    .str(c.primaryExchange)
    .str(c.currency)
    .str(c.localSymbol)
    .str(c.tradingClass);
}

export function readContract(r: FieldReader): Contract {
  return {
    conId: r.int(),
    symbol: r.str(),
    secType: r.str(),
    lastTradeDateOrContractMonth: r.str(),
    strike: r.float(),
    right: r.str(),
    multiplier: r.str(),
    exchange: r.str(),
    primaryExchange: r.str(),
    currency: r.str(),
    localSymbol: r.str(),
    tradingClass: r.str(),
  };
}

/** Compact key of a contract for pacing and caches: conId when known, else its identity fields. */
export function contractKey(c: Contract): string {
  if (c.conId) return `#${c.conId}`;
  return [c.symbol, c.secType, c.lastTradeDateOrContractMonth, c.strike || "", c.right, c.currency].join("|");
}

/**
 * The 11-field contract of positions, executions and order messages: the compact form
 * without primaryExchange.
 */
export function writeContractNoPrimary(w: FieldWriter, c: Contract): void {
  w.int(c.conId)
    .str(c.symbol)
    .str(c.secType)
    .str(c.lastTradeDateOrContractMonth)
    .float(c.strike)
    .str(c.right)
    .str(c.multiplier)
    .str(c.exchange)
    .str(c.currency)
    .str(c.localSymbol)
    .str(c.tradingClass);
}

export function readContractNoPrimary(r: FieldReader): Contract {
  return contract({
    conId: r.int(),
    symbol: r.str(),
    secType: r.str(),
    lastTradeDateOrContractMonth: r.str(),
    strike: r.float(),
    right: r.str(),
    multiplier: r.str(),
    exchange: r.str(),
    currency: r.str(),
    localSymbol: r.str(),
    tradingClass: r.str(),
  });
}
