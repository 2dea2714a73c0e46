/** fast-check arbitraries for every message codec, used by the round-trip property tests. */
import fc from "fast-check";
import type { Contract } from "./contract.js";

export const text = fc.string({ maxLength: 12 }).filter((s) => !s.includes("\0"));
/** Text that cannot be mistaken for a separator inside a joined field. */
export const word = fc.stringMatching(/^[A-Za-z0-9._ -]{0,10}$/);
export const int = fc.integer({ min: -1_000_000, max: 2_000_000_000 });
export const nat = fc.integer({ min: 0, max: 2_000_000_000 });
export const dbl = fc
  .double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 })
  .map((x) => (x === 0 ? 0 : x));
export const bool = fc.boolean();
/** IB "Decimal" sizes: numeric text or unset. */
export const decimal = fc.option(
  fc.oneof(
    nat.map(String),
    fc.double({ min: 0, max: 1e9, noNaN: true }).map((x) => String(x === 0 ? 1 : x)),
  ),
  { nil: undefined },
);
export const optDouble = fc.option(dbl, { nil: undefined });
export const optInt = fc.option(fc.integer({ min: -1_000_000, max: 2_000_000_000 }), { nil: undefined });
/** Any secType except BAG, whose combo legs have their own arbitraries. */
export const secType = fc.constantFrom("STK", "OPT", "FUT", "CASH", "IND", "FOP", "WAR", "BOND", "CMDTY", "");

export const contractArb: fc.Arbitrary<Contract> = fc.record({
  conId: nat,
  symbol: text,
  secType,
  lastTradeDateOrContractMonth: text,
  strike: dbl,
  right: text,
  multiplier: text,
  exchange: text,
  primaryExchange: text,
  currency: text,
  localSymbol: text,
  tradingClass: text,
});

/** Contract blocks that carry no primaryExchange decode it as "". */
export const contractNoPrimary: fc.Arbitrary<Contract> = contractArb.map((c) => ({
  ...c,
  primaryExchange: "",
}));

export const comboLeg = fc.record({ conId: nat, ratio: nat, action: text, exchange: text });
export const tagValue = fc.record({ tag: word.filter((s) => !s.includes("=")), value: word });
