/**
 * The order book and fill model: MKT fills at once at the touch, LMT fills when marketable
 * (checked on every tick interval), everything else rests. Orders belong to the client id
 * that placed them, as in TWS. `placeCount` counts creations only (a PLACE_ORDER for an order
 * id the gateway did not have) and `modifyCount` the PLACE_ORDERs that changed a known order,
 * so tests can tell a modify from a second order.
 */
import type { Contract } from "../protocol/messages/contract.js";
import type { CommissionReport, Execution } from "../protocol/messages/orders.js";
import type { Instrument } from "./catalogue.js";
import { topOfBook } from "./prices.js";

export type OrderStatusText = "PreSubmitted" | "Submitted" | "Filled" | "Cancelled" | "Inactive";

export interface MockOrder {
  readonly clientId: number;
  readonly orderId: number;
  readonly permId: number;
  readonly instrument: Instrument;
  /** The contract as the client sent it, completed from the catalogue. */
  readonly contract: Contract;
  readonly account: string;
  sessionId: number;
  action: string;
  quantity: number;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  orderRef: string;
  parentId: number;
  outsideRth: boolean;
  transmit: boolean;
  placeCount: number;
  modifyCount: number;
  status: OrderStatusText;
  filled: number;
  avgFillPrice: number;
  lastFillPrice: number;
  completedTime: string;
  completedStatus: string;
}

export interface Fill {
  execution: Execution;
  commission: CommissionReport;
  account: string;
  at: number;
}

/** Bounds: a runaway client cannot grow the mock without limit. */
export const MAX_ORDERS = 100_000;
export const MAX_FILLS = 10_000;
const FIRST_PERM_ID = 100_000_001;

export function isActive(o: MockOrder): boolean {
  return o.status === "PreSubmitted" || o.status === "Submitted" || o.status === "Inactive";
}

export function commissionFor(inst: Instrument, qty: number): number {
  const t = inst.contract.secType;
  if (t === "OPT") return Math.round(qty * 0.65 * 100) / 100;
  if (t === "FUT") return Math.round(qty * 0.85 * 100) / 100;
  return Math.max(1, Math.round(qty * 0.005 * 100) / 100);
}

export function formatExecTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

export class OrderBook {
  readonly #orders = new Map<string, MockOrder>();
  readonly #fills: Fill[] = [];
  #nextPermId = FIRST_PERM_ID;
  #nextExec = 1;

  static key(clientId: number, orderId: number): string {
    return `${clientId}:${orderId}`;
  }

  get(clientId: number, orderId: number): MockOrder | undefined {
    return this.#orders.get(OrderBook.key(clientId, orderId));
  }

  get size(): number {
    return this.#orders.size;
  }

  add(order: Omit<MockOrder, "permId">): MockOrder | undefined {
    if (this.#orders.size >= MAX_ORDERS) this.#evictDone();
    if (this.#orders.size >= MAX_ORDERS) return undefined;
    const o: MockOrder = { ...order, permId: this.#nextPermId++ };
    this.#orders.set(OrderBook.key(o.clientId, o.orderId), o);
    return o;
  }

  #evictDone(): void {
    for (const [k, o] of this.#orders) {
      if (!isActive(o)) this.#orders.delete(k);
      if (this.#orders.size < MAX_ORDERS * 0.9) return;
    }
  }

  all(): MockOrder[] {
    return [...this.#orders.values()];
  }

  active(): MockOrder[] {
    return this.all().filter(isActive);
  }

  fills(): readonly Fill[] {
    return this.#fills;
  }

  /** The fill price if the order can trade now, else undefined. */
  marketable(o: MockOrder, seed: number, nowMs: number): number | undefined {
    if (!isActive(o) || !o.transmit || o.status === "Inactive") return undefined;
    const q = topOfBook(o.instrument, seed, nowMs);
    const buy = o.action === "BUY";
    const touch = buy ? q.ask : q.bid;
    switch (o.orderType) {
      case "MKT":
        return touch;
      case "LMT":
        if (o.lmtPrice === undefined) return undefined;
        if (buy) return touch <= o.lmtPrice ? touch : undefined;
        return touch >= o.lmtPrice ? touch : undefined;
      case "STP":
        if (o.auxPrice === undefined) return undefined;
        return (buy ? q.last >= o.auxPrice : q.last <= o.auxPrice) ? touch : undefined;
      default:
        return undefined;
    }
  }

  /** Fill the rest of an order at `price`; returns the fill (execution + commission). */
  fill(o: MockOrder, price: number, nowMs: number): Fill {
    const qty = o.quantity - o.filled;
    o.avgFillPrice = (o.avgFillPrice * o.filled + price * qty) / (o.filled + qty);
    o.filled += qty;
    o.lastFillPrice = price;
    o.status = "Filled";
    o.completedTime = formatExecTime(nowMs);
    o.completedStatus = "Filled";
    const n = this.#nextExec++;
    const execId = `0000e0d5.${o.permId.toString(16).padStart(8, "0")}.01.${String(n).padStart(2, "0")}`;
    const commission = commissionFor(o.instrument, qty);
    // TWS names the venue that filled, in the execution and in its contract.
    const venue = o.instrument.contract.primaryExchange || o.instrument.contract.exchange;
    const f: Fill = {
      account: o.account,
      at: nowMs,
      execution: {
        orderId: o.orderId,
        contract: { ...o.contract, exchange: venue },
        execId,
        time: formatExecTime(nowMs),
        acctNumber: o.account,
        exchange: venue,
        side: o.action === "BUY" ? "BOT" : "SLD",
        shares: String(qty),
        price,
        permId: o.permId,
        clientId: o.clientId,
        liquidation: 0,
        cumQty: String(o.filled),
        avgPrice: Math.round(o.avgFillPrice * 1e6) / 1e6,
        orderRef: o.orderRef,
        evRule: "",
        evMultiplier: undefined,
        modelCode: "",
        lastLiquidity: 2,
        pendingPriceRevision: false,
      },
      commission: {
        execId,
        commission,
        currency: o.instrument.contract.currency,
        realizedPNL: undefined,
        yield: undefined,
        yieldRedemptionDate: undefined,
      },
    };
    this.#fills.push(f);
    if (this.#fills.length > MAX_FILLS) this.#fills.shift();
    return f;
  }

  cancel(o: MockOrder, nowMs: number): void {
    o.status = "Cancelled";
    o.completedTime = formatExecTime(nowMs);
    o.completedStatus = "Cancelled by Trader";
  }
}
