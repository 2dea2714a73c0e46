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
  writeContractFields(w, c, true);
}

export function readContract(r: FieldReader): Contract {
  return readContractFields(r, true);
}

/** A leg of a BAG (combo) contract as market-data and history requests carry it. */
export interface ComboLeg {
  conId: number;
  ratio: number;
  action: string;
  exchange: string;
}

/** The legs follow the contract only when it is a BAG: count, then 4 fields per leg. */
export function writeComboLegs(w: FieldWriter, c: Contract, legs: readonly ComboLeg[]): void {
  if (c.secType !== "BAG") return;
  w.int(legs.length);
  for (const l of legs) w.int(l.conId).int(l.ratio).str(l.action).str(l.exchange);
}

export function readComboLegs(r: FieldReader, c: Contract): ComboLeg[] {
  const legs: ComboLeg[] = [];
  if (c.secType !== "BAG") return legs;
  const n = r.int();
  for (let i = 0; i < n; i++)
    legs.push({ conId: r.int(), ratio: r.int(), action: r.str(), exchange: r.str() });
  return legs;
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
export function writeContractNoPrimary(w: FieldWriter, c: Contract, strike: StrikeForm = "plain"): void {
  writeContractFields(w, c, false, strike);
}

/**
 * TWS prints the strike as Java prints a double ("0.0") in executions and positions, and
 * as a plain number ("0") in order and contract messages.
 */
export type StrikeForm = "plain" | "java";

export function readContractNoPrimary(r: FieldReader): Contract {
  return readContractFields(r, false);
}

function writeContractFields(
  w: FieldWriter,
  c: Contract,
  withPrimary: boolean,
  strike: StrikeForm = "plain",
): void {
  w.int(c.conId).str(c.symbol).str(c.secType).str(c.lastTradeDateOrContractMonth);
  if (strike === "java") w.double(c.strike);
  else w.float(c.strike);
  w.str(c.right).str(c.multiplier).str(c.exchange);
  if (withPrimary) w.str(c.primaryExchange);
  w.str(c.currency).str(c.localSymbol).str(c.tradingClass);
}

/** Fields are read in wire order, one statement each. */
function readContractFields(r: FieldReader, withPrimary: boolean): Contract {
  const conId = r.int();
  const symbol = r.str();
  const secType = r.str();
  const lastTradeDateOrContractMonth = r.str();
  const strike = r.float();
  const right = r.str();
  const multiplier = r.str();
  const exchange = r.str();
  const primaryExchange = withPrimary ? r.str() : "";
  const currency = r.str();
  const localSymbol = r.str();
  const tradingClass = r.str();
  return {
    conId,
    symbol,
    secType,
    lastTradeDateOrContractMonth,
    strike,
    right,
    multiplier,
    exchange,
    primaryExchange,
    currency,
    localSymbol,
    tradingClass,
  };
}
