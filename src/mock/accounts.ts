/**
 * Paper accounts of the mock: cash and positions per account, valued with the price path.
 * Fills from the order book change them; account messages are built from here.
 */
import type { Catalogue, Instrument } from "./catalogue.js";
import { midPrice } from "./prices.js";

export interface Position {
  readonly account: string;
  readonly instrument: Instrument;
  quantity: number;
  avgCost: number;
  realized: number;
}

export const START_CASH_USD = 1_000_000;

export class AccountBook {
  readonly accounts: readonly string[];
  readonly #catalogue: Catalogue;
  readonly #seed: number;
  readonly #cash = new Map<string, number>();
  readonly #positions = new Map<string, Map<number, Position>>();

  constructor(accounts: readonly string[], catalogue: Catalogue, seed: number) {
    this.accounts = accounts;
    this.#catalogue = catalogue;
    this.#seed = seed;
    accounts.forEach((a, i) => {
      this.#cash.set(a, START_CASH_USD);
      this.#positions.set(a, new Map());
      // A few holdings so position and portfolio answers are not empty.
      const seedPositions: [number, number, number][] =
        i === 0
          ? [
              [265598, 100, 150.25],
              [272093, 50, 301.1],
              [14204, 20, 151.4],
            ]
          : [[756733, 10, 480]];
      for (const [conId, qty, cost] of seedPositions) {
        const inst = catalogue.byConId(conId);
        if (inst)
          this.#positions
            .get(a)
            ?.set(conId, { account: a, instrument: inst, quantity: qty, avgCost: cost, realized: 0 });
      }
    });
  }

  has(account: string): boolean {
    return this.#positions.has(account);
  }

  /** "" and "All" mean every account. */
  select(account: string): string[] {
    if (!account || account.toUpperCase() === "ALL") return [...this.accounts];
    return this.has(account) ? [account] : [];
  }

  positions(account: string): Position[] {
    return [...(this.#positions.get(account)?.values() ?? [])];
  }

  position(account: string, conId: number): Position | undefined {
    return this.#positions.get(account)?.get(conId);
  }

  multiplier(inst: Instrument): number {
    return Number(inst.contract.multiplier || "1") || 1;
  }

  markPrice(inst: Instrument, nowMs: number): number {
    return midPrice(inst, this.#seed, nowMs);
  }

  /** Apply a fill: signed quantity (+ buy, − sell) at price. */
  fill(account: string, inst: Instrument, signedQty: number, price: number, commission: number): void {
    const book = this.#positions.get(account);
    if (!book) return;
    const mult = this.multiplier(inst);
    this.#cash.set(account, (this.#cash.get(account) ?? 0) - signedQty * price * mult - commission);
    let p = book.get(inst.contract.conId);
    if (!p) {
      p = { account, instrument: inst, quantity: 0, avgCost: 0, realized: 0 };
      book.set(inst.contract.conId, p);
    }
    const q = p.quantity;
    if (q === 0 || Math.sign(q) === Math.sign(signedQty)) {
      // avgCost includes the multiplier, as IB reports it.
      p.avgCost =
        (p.avgCost * Math.abs(q) + price * mult * Math.abs(signedQty)) / (Math.abs(q) + Math.abs(signedQty));
    } else {
      const closed = Math.min(Math.abs(q), Math.abs(signedQty));
      p.realized += closed * (price * mult - p.avgCost) * Math.sign(q);
      if (Math.abs(signedQty) > Math.abs(q)) p.avgCost = price * mult;
    }
    p.quantity = q + signedQty;
  }

  cash(account: string): number {
    return this.#cash.get(account) ?? 0;
  }

  /** Values shared by account summary, account updates and PnL (USD, EUR marked 1:1.08). */
  values(account: string, nowMs: number) {
    let gross = 0;
    let unrealized = 0;
    let realized = 0;
    for (const p of this.positions(account)) {
      const fx = p.instrument.contract.currency === "EUR" ? 1.08 : 1;
      const value = p.quantity * this.markPrice(p.instrument, nowMs) * this.multiplier(p.instrument) * fx;
      gross += Math.abs(value);
      unrealized += value - p.quantity * p.avgCost * fx;
      realized += p.realized * fx;
    }
    const cash = this.cash(account);
    const netLiq = cash + gross;
    const init = gross * 0.25;
    const maint = gross * 0.2;
    return {
      cash,
      gross,
      netLiq,
      unrealized,
      realized,
      init,
      maint,
      available: netLiq - init,
      excess: netLiq - maint,
    };
  }

  /** Tag → value for account summary (and ACCT_VALUE keys). */
  summary(account: string, nowMs: number): { tag: string; value: string; currency: string }[] {
    const v = this.values(account, nowMs);
    const m = (n: number) => n.toFixed(2);
    return [
      { tag: "AccountType", value: "INDIVIDUAL", currency: "" },
      { tag: "NetLiquidation", value: m(v.netLiq), currency: "USD" },
      { tag: "TotalCashValue", value: m(v.cash), currency: "USD" },
      { tag: "SettledCash", value: m(v.cash), currency: "USD" },
      { tag: "AccruedCash", value: "0.00", currency: "USD" },
      { tag: "BuyingPower", value: m(v.available * 4), currency: "USD" },
      { tag: "EquityWithLoanValue", value: m(v.netLiq), currency: "USD" },
      { tag: "PreviousDayEquityWithLoanValue", value: m(v.netLiq), currency: "USD" },
      { tag: "GrossPositionValue", value: m(v.gross), currency: "USD" },
      { tag: "RegTEquity", value: m(v.netLiq), currency: "USD" },
      { tag: "RegTMargin", value: m(v.gross * 0.5), currency: "USD" },
      { tag: "SMA", value: m(v.available), currency: "USD" },
      { tag: "InitMarginReq", value: m(v.init), currency: "USD" },
      { tag: "MaintMarginReq", value: m(v.maint), currency: "USD" },
      { tag: "AvailableFunds", value: m(v.available), currency: "USD" },
      { tag: "ExcessLiquidity", value: m(v.excess), currency: "USD" },
      { tag: "Cushion", value: (v.netLiq ? v.excess / v.netLiq : 0).toFixed(6), currency: "" },
      { tag: "FullInitMarginReq", value: m(v.init), currency: "USD" },
      { tag: "FullMaintMarginReq", value: m(v.maint), currency: "USD" },
      { tag: "FullAvailableFunds", value: m(v.available), currency: "USD" },
      { tag: "FullExcessLiquidity", value: m(v.excess), currency: "USD" },
      { tag: "LookAheadNextChange", value: "0", currency: "" },
      { tag: "LookAheadInitMarginReq", value: m(v.init), currency: "USD" },
      { tag: "LookAheadMaintMarginReq", value: m(v.maint), currency: "USD" },
      { tag: "LookAheadAvailableFunds", value: m(v.available), currency: "USD" },
      { tag: "LookAheadExcessLiquidity", value: m(v.excess), currency: "USD" },
      { tag: "HighestSeverity", value: "0", currency: "" },
      { tag: "DayTradesRemaining", value: "-1", currency: "" },
      { tag: "Leverage", value: (v.netLiq ? v.gross / v.netLiq : 0).toFixed(2), currency: "" },
    ];
  }

  /** The "$LEDGER" group of tags (per currency when "$LEDGER:ALL"). */
  ledger(account: string, nowMs: number): { tag: string; value: string; currency: string }[] {
    const v = this.values(account, nowMs);
    const m = (n: number) => n.toFixed(2);
    return [
      { tag: "CashBalance", value: m(v.cash), currency: "BASE" },
      { tag: "TotalCashBalance", value: m(v.cash), currency: "BASE" },
      { tag: "NetLiquidationByCurrency", value: m(v.netLiq), currency: "BASE" },
      { tag: "StockMarketValue", value: m(v.gross), currency: "BASE" },
      { tag: "UnrealizedPnL", value: m(v.unrealized), currency: "BASE" },
      { tag: "RealizedPnL", value: m(v.realized), currency: "BASE" },
      { tag: "ExchangeRate", value: "1.00", currency: "BASE" },
    ];
  }

  get catalogue(): Catalogue {
    return this.#catalogue;
  }
}
