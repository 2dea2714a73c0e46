/**
 * Orders. PLACE_ORDER and OPEN_ORDER are long (114 and 127 fields at V 178); we type the
 * fields Switchboard acts on and carry the rest as raw text (PLACE_ORDER) or write IB's
 * defaults for a plain order (OPEN_ORDER). Layouts follow the official decoder's read order.
 */
import { defineCodec } from "../codec.js";
import { IN, OUT } from "../message-ids.js";
import { V } from "../versions.js";
import { EMPTY, type Empty, type ReqIdOnly } from "./common.js";
import {
  type Contract,
  readContract,
  readContractNoPrimary,
  writeContract,
  writeContractNoPrimary,
} from "./contract.js";

// ---------------------------------------------------------------------------- PLACE_ORDER

export interface PlaceOrder {
  orderId: number;
  contract: Contract;
  secIdType: string;
  secId: string;
  action: string;
  totalQuantity: string;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  ocaGroup: string;
  account: string;
  openClose: string;
  origin: number;
  orderRef: string;
  transmit: boolean;
  parentId: number;
  blockOrder: boolean;
  sweepToFill: boolean;
  displaySize: number;
  triggerMethod: number;
  outsideRth: boolean;
  hidden: boolean;
  /**
   * Every field after `hidden` (index 35 on), as sent. Empty when encoding means "a plain
   * order": IB's defaults for the negotiated version are written.
   */
  tail: string[];
}

/** The fields after index 34 of a plain (no combo, algo, scale, hedge, conditions) order. */
export function plainOrderTail(version: number): string[] {
  const t: string[] = [];
  t.push("", "0", "", "", "", "", ""); // sharesAllocation, discretionaryAmt, goodAfterTime, goodTillDate, faGroup, faMethod, faPercentage
  if (version < V.FA_PROFILE_DESUPPORT) t.push(""); // faProfile
  t.push("", "0", "", "-1", "0", "", "", "0"); // modelCode, shortSaleSlot, designatedLocation, exemptCode, ocaType, rule80A, settlingFirm, allOrNone
  t.push("", "", "0", "0", "", "", "", "", "", "", "", "0"); // minQty, percentOffset, eTradeOnly, firmQuoteOnly, nbboPriceCap, auctionStrategy, startingPrice, stockRefPrice, delta, stockRangeLower, stockRangeUpper, overridePercentageConstraints
  t.push("", "0", "", "", "0", "0", "", ""); // volatility, volatilityType, deltaNeutralOrderType, deltaNeutralAuxPrice, continuousUpdate, referencePriceType, trailStopPrice, trailingPercent
  t.push("", "", "", "", "", "", "", "0", "", "", "0", "0", "", ""); // scale init/subs/increment, scaleTable, activeStart, activeStop, hedgeType, optOutSmartRouting, clearingAccount, clearingIntent, notHeld, deltaNeutralContract, algoStrategy, algoId
  t.push("0", "", "0", "0", "0", "0"); // whatIf, miscOptions, solicited, randomizeSize, randomizePrice, conditionsCount
  t.push("", "", "", "", "", "", "0", ""); // adjustedOrderType, triggerPrice, lmtPriceOffset, adjustedStop, adjustedStopLimit, adjustedTrailingAmount, adjustableTrailingUnit, extOperator
  t.push("", "", "", "", "", "", "", "0", "0", "0", ""); // softDollar name/value, cashQty, mifid x4, dontUseAutoPriceForHedge, isOmsContainer, discretionaryUpToLimitPrice, usePriceMgmtAlgo
  if (version >= V.DURATION) t.push("");
  if (version >= V.POST_TO_ATS) t.push("");
  if (version >= V.AUTO_CANCEL_PARENT) t.push("0");
  if (version >= V.ADVANCED_ORDER_REJECT) t.push("");
  if (version >= V.MANUAL_ORDER_TIME) t.push("");
  return t;
}

export const PLACE_ORDER = defineCodec<PlaceOrder>({
  id: OUT.PLACE_ORDER,
  name: "PLACE_ORDER",
  direction: "out",
  write: (w, m, v) => {
    w.int(m.orderId);
    writeContract(w, m.contract);
    w.str(m.secIdType)
      .str(m.secId)
      .str(m.action)
      .decimal(m.totalQuantity)
      .str(m.orderType)
      .floatMax(m.lmtPrice)
      .floatMax(m.auxPrice)
      .str(m.tif)
      .str(m.ocaGroup)
      .str(m.account)
      .str(m.openClose)
      .int(m.origin)
      .str(m.orderRef)
      .bool(m.transmit)
      .int(m.parentId)
      .bool(m.blockOrder)
      .bool(m.sweepToFill)
      .int(m.displaySize)
      .int(m.triggerMethod)
      .bool(m.outsideRth)
      .bool(m.hidden)
      .raw(m.tail.length > 0 ? m.tail : plainOrderTail(v));
  },
  read: (r) => ({
    orderId: r.int(),
    contract: readContract(r),
    secIdType: r.str(),
    secId: r.str(),
    action: r.str(),
    totalQuantity: r.str(),
    orderType: r.str(),
    lmtPrice: r.floatMax(),
    auxPrice: r.floatMax(),
    tif: r.str(),
    ocaGroup: r.str(),
    account: r.str(),
    openClose: r.str(),
    origin: r.int(),
    orderRef: r.str(),
    transmit: r.bool(),
    parentId: r.int(),
    blockOrder: r.bool(),
    sweepToFill: r.bool(),
    displaySize: r.int(),
    triggerMethod: r.int(),
    outsideRth: r.bool(),
    hidden: r.bool(),
    tail: r.rest(),
  }),
});

/** A plain order with IB's defaults; pass the fields that matter. */
export function placeOrder(
  p: Pick<PlaceOrder, "orderId" | "contract" | "action" | "totalQuantity" | "orderType"> &
    Partial<PlaceOrder>,
): PlaceOrder {
  return {
    secIdType: "",
    secId: "",
    lmtPrice: undefined,
    auxPrice: undefined,
    tif: "DAY",
    ocaGroup: "",
    account: "",
    openClose: "",
    origin: 0,
    orderRef: "",
    transmit: true,
    parentId: 0,
    blockOrder: false,
    sweepToFill: false,
    displaySize: 0,
    triggerMethod: 0,
    outsideRth: false,
    hidden: false,
    tail: [],
    ...p,
  };
}

export interface CancelOrder {
  orderId: number;
  manualOrderCancelTime: string;
}
export const CANCEL_ORDER = defineCodec<CancelOrder>({
  id: OUT.CANCEL_ORDER,
  name: "CANCEL_ORDER",
  direction: "out",
  write: (w, m, v) => {
    w.int(1).int(m.orderId);
    if (v >= V.MANUAL_ORDER_TIME) w.str(m.manualOrderCancelTime);
  },
  read: (r, v) => ({
    orderId: r.skip().int(),
    manualOrderCancelTime: v >= V.MANUAL_ORDER_TIME && r.remaining > 0 ? r.str() : "",
  }),
});

export const REQ_GLOBAL_CANCEL = defineCodec<Empty>({
  id: OUT.REQ_GLOBAL_CANCEL,
  name: "REQ_GLOBAL_CANCEL",
  direction: "out",
  write: (w) => w.int(1),
  read: () => EMPTY,
});

export const REQ_OPEN_ORDERS = defineCodec<Empty>({
  id: OUT.REQ_OPEN_ORDERS,
  name: "REQ_OPEN_ORDERS",
  direction: "out",
  write: (w) => w.int(1),
  read: () => EMPTY,
});

export const REQ_ALL_OPEN_ORDERS = defineCodec<Empty>({
  id: OUT.REQ_ALL_OPEN_ORDERS,
  name: "REQ_ALL_OPEN_ORDERS",
  direction: "out",
  write: (w) => w.int(1),
  read: () => EMPTY,
});

export interface ReqAutoOpenOrders {
  autoBind: boolean;
}
export const REQ_AUTO_OPEN_ORDERS = defineCodec<ReqAutoOpenOrders>({
  id: OUT.REQ_AUTO_OPEN_ORDERS,
  name: "REQ_AUTO_OPEN_ORDERS",
  direction: "out",
  write: (w, m) => w.int(1).bool(m.autoBind),
  read: (r) => ({ autoBind: r.skip().bool() }),
});

export interface ReqCompletedOrders {
  apiOnly: boolean;
}
export const REQ_COMPLETED_ORDERS = defineCodec<ReqCompletedOrders>({
  id: OUT.REQ_COMPLETED_ORDERS,
  name: "REQ_COMPLETED_ORDERS",
  direction: "out",
  write: (w, m) => w.bool(m.apiOnly),
  read: (r) => ({ apiOnly: r.bool() }),
});

export interface ExecutionFilter {
  clientId: number;
  acctCode: string;
  time: string;
  symbol: string;
  secType: string;
  exchange: string;
  side: string;
}
export interface ReqExecutions {
  reqId: number;
  filter: ExecutionFilter;
}
export const REQ_EXECUTIONS = defineCodec<ReqExecutions>({
  id: OUT.REQ_EXECUTIONS,
  name: "REQ_EXECUTIONS",
  direction: "out",
  write: (w, { reqId, filter: f }) =>
    w
      .int(3)
      .int(reqId)
      .int(f.clientId)
      .str(f.acctCode)
      .str(f.time)
      .str(f.symbol)
      .str(f.secType)
      .str(f.exchange)
      .str(f.side),
  read: (r) => ({
    reqId: r.skip().int(),
    filter: {
      clientId: r.int(),
      acctCode: r.str(),
      time: r.str(),
      symbol: r.str(),
      secType: r.str(),
      exchange: r.str(),
      side: r.str(),
    },
  }),
});

// ---------------------------------------------------------------------------- answers

export interface OrderStatus {
  orderId: number;
  status: string;
  filled: string | undefined;
  remaining: string | undefined;
  avgFillPrice: number;
  permId: number;
  parentId: number;
  lastFillPrice: number;
  clientId: number;
  whyHeld: string;
  mktCapPrice: number;
}
export const ORDER_STATUS = defineCodec<OrderStatus>({
  id: IN.ORDER_STATUS,
  name: "ORDER_STATUS",
  direction: "in",
  write: (w, m) =>
    w
      .int(m.orderId)
      .str(m.status)
      .decimal(m.filled)
      .decimal(m.remaining)
      .float(m.avgFillPrice)
      .int(m.permId)
      .int(m.parentId)
      .float(m.lastFillPrice)
      .int(m.clientId)
      .str(m.whyHeld)
      .float(m.mktCapPrice),
  read: (r) => ({
    orderId: r.int(),
    status: r.str(),
    filled: r.decimal(),
    remaining: r.decimal(),
    avgFillPrice: r.float(),
    permId: r.int(),
    parentId: r.int(),
    lastFillPrice: r.float(),
    clientId: r.int(),
    whyHeld: r.str(),
    mktCapPrice: r.float(),
  }),
});

export const OPEN_ORDER_END = defineCodec<Empty>({
  id: IN.OPEN_ORDER_END,
  name: "OPEN_ORDER_END",
  direction: "in",
  write: (w) => w.int(1),
  read: (r) => (r.skip(), EMPTY),
});

export interface OrderBound {
  permId: number;
  clientId: number;
  orderId: number;
}
export const ORDER_BOUND = defineCodec<OrderBound>({
  id: IN.ORDER_BOUND,
  name: "ORDER_BOUND",
  direction: "in",
  write: (w, m) => w.int(m.permId).int(m.clientId).int(m.orderId),
  read: (r) => ({ permId: r.int(), clientId: r.int(), orderId: r.int() }),
});

export interface Execution {
  orderId: number;
  contract: Contract;
  execId: string;
  time: string;
  acctNumber: string;
  exchange: string;
  side: string;
  shares: string | undefined;
  price: number;
  permId: number;
  clientId: number;
  liquidation: number;
  cumQty: string | undefined;
  avgPrice: number;
  orderRef: string;
  evRule: string;
  /** Unset (TWS sends an empty field) for instruments without an economic-value rule. */
  evMultiplier: number | undefined;
  modelCode: string;
  lastLiquidity: number;
  pendingPriceRevision: boolean;
}
export interface ExecutionData {
  /** -1 for live fills; the REQ_EXECUTIONS id otherwise. */
  reqId: number;
  execution: Execution;
}
export const EXECUTION_DATA = defineCodec<ExecutionData>({
  id: IN.EXECUTION_DATA,
  name: "EXECUTION_DATA",
  direction: "in",
  write: (w, { reqId, execution: e }, v) => {
    w.int(reqId).int(e.orderId);
    writeContractNoPrimary(w, e.contract, "java");
    w.str(e.execId)
      .str(e.time)
      .str(e.acctNumber)
      .str(e.exchange)
      .str(e.side)
      .decimal(e.shares)
      .double(e.price)
      .int(e.permId)
      .int(e.clientId)
      .int(e.liquidation)
      .decimal(e.cumQty)
      .double(e.avgPrice)
      .str(e.orderRef)
      .str(e.evRule)
      .floatMax(e.evMultiplier)
      .str(e.modelCode)
      .int(e.lastLiquidity);
    if (v >= V.PENDING_PRICE_REVISION) w.bool(e.pendingPriceRevision);
  },
  read: (r, v) => {
    const reqId = r.int();
    const orderId = r.int();
    const c = readContractNoPrimary(r);
    const execution: Execution = {
      orderId,
      contract: c,
      execId: r.str(),
      time: r.str(),
      acctNumber: r.str(),
      exchange: r.str(),
      side: r.str(),
      shares: r.decimal(),
      price: r.float(),
      permId: r.int(),
      clientId: r.int(),
      liquidation: r.int(),
      cumQty: r.decimal(),
      avgPrice: r.float(),
      orderRef: r.str(),
      evRule: r.str(),
      evMultiplier: r.floatMax(),
      modelCode: r.str(),
      lastLiquidity: r.int(),
      pendingPriceRevision: v >= V.PENDING_PRICE_REVISION ? r.bool() : false,
    };
    return { reqId, execution };
  },
});

export const EXECUTION_DATA_END = defineCodec<ReqIdOnly>({
  id: IN.EXECUTION_DATA_END,
  name: "EXECUTION_DATA_END",
  direction: "in",
  write: (w, m) => w.int(1).int(m.reqId),
  read: (r) => ({ reqId: r.skip().int() }),
});

export interface CommissionReport {
  execId: string;
  commission: number;
  currency: string;
  realizedPNL: number | undefined;
  yield: number | undefined;
  yieldRedemptionDate: number | undefined;
}
export const COMMISSION_REPORT = defineCodec<CommissionReport>({
  id: IN.COMMISSION_REPORT,
  name: "COMMISSION_REPORT",
  direction: "in",
  // TWS prints the doubles as Java does and sends the sentinel text for an unset
  // realizedPNL and yield (clients read an empty field there as 0, a real value).
  write: (w, m) =>
    w
      .int(1)
      .str(m.execId)
      .double(m.commission)
      .str(m.currency)
      .doubleMax(m.realizedPNL)
      .doubleMax(m.yield)
      .intMax(m.yieldRedemptionDate),
  read: (r) => ({
    execId: r.skip().str(),
    commission: r.float(),
    currency: r.str(),
    realizedPNL: r.floatMax(),
    yield: r.floatMax(),
    yieldRedemptionDate: r.intMax(),
  }),
});

export const COMPLETED_ORDERS_END = defineCodec<Empty>({
  id: IN.COMPLETED_ORDERS_END,
  name: "COMPLETED_ORDERS_END",
  direction: "in",
  write: () => undefined,
  read: () => EMPTY,
});
