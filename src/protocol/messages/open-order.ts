/**
 * OPEN_ORDER (136 fields for a plain order at V 173, 135 at 178) and COMPLETED_ORDER (101 at
 * V 173). One walk per message names every field in the official decoder's read order,
 * including every data-dependent block (delta-neutral, combo legs, scale, hedge, algo, PEG
 * BENCH, conditions). The fields Switchboard acts on are typed; every other field is kept
 * as text in `unmodeled` and written back unchanged, so a message decoded and encoded again
 * is the message TWS sent. Fields a message does not carry in `unmodeled` are written with
 * what TWS sends for a plain order (ORDER_DEFAULTS, checked against captured TWS traffic in
 * src/protocol/fixtures/).
 */
import { defineCodec } from "../codec.js";
import { FieldReader, formatDouble, formatJavaDouble, UNSET_DOUBLE, UNSET_DOUBLE_TEXT } from "../fields.js";
import { IN } from "../message-ids.js";
import { V } from "../versions.js";
import type { Contract } from "./contract.js";
import { type FieldWalk, groupCount, ReadWalk, walkGroup, WriteWalk } from "./walk.js";

/** Field texts by walk name, for every field a codec does not type. */
export type Unmodeled = Readonly<Record<string, string>>;

export interface OpenOrder {
  orderId: number;
  contract: Contract;
  action: string;
  totalQuantity: string | undefined;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  ocaGroup: string;
  account: string;
  openClose: string;
  origin: number;
  orderRef: string;
  clientId: number;
  permId: number;
  outsideRth: boolean;
  hidden: boolean;
  parentId: number;
  whatIf: boolean;
  status: string;
  warningText: string;
  /** Every other field as TWS sent it; missing names are written with ORDER_DEFAULTS. */
  unmodeled: Unmodeled;
}

const isPegBench = (orderType: string) => orderType === "PEG BENCH" || orderType === "PEGBENCH";

/** The 11-field contract of order messages. */
const CONTRACT_NAMES = [
  "conId",
  "symbol",
  "secType",
  "lastTradeDateOrContractMonth",
  "strike",
  "right",
  "multiplier",
  "exchange",
  "currency",
  "localSymbol",
  "tradingClass",
] as const;

function walkContract(w: FieldWalk): void {
  for (const n of CONTRACT_NAMES) w.field(n);
}

function walkFa(w: FieldWalk): void {
  w.field("faGroup");
  w.field("faMethod");
  w.field("faPercentage");
  if (w.version < V.FA_PROFILE_DESUPPORT) w.field("faProfile");
}

/** Volatility orders; the delta-neutral block follows any non-empty order type ("None" too). */
function walkVolatility(w: FieldWalk, openOrderAttribs: boolean): void {
  w.field("volatility");
  w.field("volatilityType");
  const dnOrderType = w.field("deltaNeutralOrderType");
  w.field("deltaNeutralAuxPrice");
  if (dnOrderType !== "") {
    w.field("deltaNeutralConId");
    if (openOrderAttribs) {
      w.field("deltaNeutralSettlingFirm");
      w.field("deltaNeutralClearingAccount");
      w.field("deltaNeutralClearingIntent");
      w.field("deltaNeutralOpenClose");
    }
    w.field("deltaNeutralShortSale");
    w.field("deltaNeutralShortSaleSlot");
    w.field("deltaNeutralDesignatedLocation");
  }
  w.field("continuousUpdate");
  w.field("referencePriceType");
}

const LEG_NAMES = [
  "conId",
  "ratio",
  "action",
  "exchange",
  "openClose",
  "shortSaleSlot",
  "designatedLocation",
  "exemptCode",
] as const;

function walkComboLegs(w: FieldWalk): void {
  w.field("comboLegsDescrip");
  walkGroup(w, "comboLeg", groupCount(w.field("comboLegsCount"), "comboLegsCount"), LEG_NAMES);
  walkGroup(w, "orderComboLeg", groupCount(w.field("orderComboLegsCount"), "orderComboLegsCount"), ["price"]);
  walkGroup(
    w,
    "smartComboRoutingParam",
    groupCount(w.field("smartComboRoutingParamsCount"), "smartComboRoutingParamsCount"),
    ["tag", "value"],
  );
}

/** Seven more scale fields follow a set, positive price increment. */
function walkScale(w: FieldWalk): void {
  w.field("scaleInitLevelSize");
  w.field("scaleSubsLevelSize");
  const increment = new FieldReader([w.field("scalePriceIncrement")]).floatMax();
  if (increment !== undefined && increment > 0) {
    for (const n of [
      "scalePriceAdjustValue",
      "scalePriceAdjustInterval",
      "scaleProfitOffset",
      "scaleAutoReset",
      "scaleInitPosition",
      "scaleInitFillQty",
      "scaleRandomPercent",
    ])
      w.field(n);
  }
}

function walkHedge(w: FieldWalk): void {
  if (w.field("hedgeType") !== "") w.field("hedgeParam");
}

function walkDeltaNeutralContract(w: FieldWalk): void {
  if (new FieldReader([w.field("deltaNeutralContract")]).bool()) {
    w.field("deltaNeutralContract.conId");
    w.field("deltaNeutralContract.delta");
    w.field("deltaNeutralContract.price");
  }
}

function walkAlgo(w: FieldWalk): void {
  if (w.field("algoStrategy") !== "") {
    walkGroup(w, "algoParam", groupCount(w.field("algoParamsCount"), "algoParamsCount"), ["tag", "value"]);
  }
}

function walkPegBench(w: FieldWalk, orderType: string): void {
  if (!isPegBench(orderType)) return;
  w.field("referenceContractId");
  w.field("isPeggedChangeAmountDecrease");
  w.field("peggedChangeAmount");
  w.field("referenceChangeAmount");
  w.field("referenceExchangeId");
}

/** Fields after the type of each condition kind (conjunction first). */
const CONDITION_FIELDS: Readonly<Record<number, readonly string[]>> = {
  1: ["conjunction", "isMore", "price", "conId", "exchange", "triggerMethod"], // price
  3: ["conjunction", "isMore", "time"], // time
  4: ["conjunction", "isMore", "percent"], // margin
  5: ["conjunction", "secType", "exchange", "symbol"], // execution
  6: ["conjunction", "isMore", "volume", "conId", "exchange"], // volume
  7: ["conjunction", "isMore", "changePercent", "conId", "exchange"], // percent change
};

function walkConditions(w: FieldWalk): void {
  const n = groupCount(w.field("conditionsCount"), "conditionsCount");
  if (n === 0) return;
  for (let i = 0; i < n; i++) {
    const type = Number(w.field(`condition.${i}.type`));
    for (const f of CONDITION_FIELDS[type] ?? ["conjunction"]) w.field(`condition.${i}.${f}`);
  }
  w.field("conditionsIgnoreRth");
  w.field("conditionsCancelOrder");
}

function walkPegBestPegMid(w: FieldWalk): void {
  if (w.version < V.PEGBEST_PEGMID_OFFSETS) return;
  w.field("minTradeQty");
  w.field("minCompeteSize");
  w.field("competeAgainstBestOffset");
  w.field("midOffsetAtWhole");
  w.field("midOffsetAtHalf");
}

function walkFields(w: FieldWalk, names: readonly string[]): void {
  for (const n of names) w.field(n);
}

/** OPEN_ORDER in the official decoder's order (no version field from V 145). */
function walkOpenOrder(w: FieldWalk): void {
  w.field("orderId");
  walkContract(w);
  walkFields(w, ["action", "totalQuantity"]);
  const orderType = w.field("orderType");
  walkFields(w, [
    "lmtPrice",
    "auxPrice",
    "tif",
    "ocaGroup",
    "account",
    "openClose",
    "origin",
    "orderRef",
    "clientId",
    "permId",
    "outsideRth",
    "hidden",
    "discretionaryAmt",
    "goodAfterTime",
    "sharesAllocation",
  ]);
  walkFa(w);
  walkFields(w, [
    "modelCode",
    "goodTillDate",
    "rule80A",
    "percentOffset",
    "settlingFirm",
    "shortSaleSlot",
    "designatedLocation",
    "exemptCode",
    "auctionStrategy",
    "startingPrice",
    "stockRefPrice",
    "delta",
    "stockRangeLower",
    "stockRangeUpper",
    "displaySize",
    "blockOrder",
    "sweepToFill",
    "allOrNone",
    "minQty",
    "ocaType",
    "eTradeOnly",
    "firmQuoteOnly",
    "nbboPriceCap",
    "parentId",
    "triggerMethod",
  ]);
  walkVolatility(w, true);
  walkFields(w, ["trailStopPrice", "trailingPercent", "basisPoints", "basisPointsType"]);
  walkComboLegs(w);
  walkScale(w);
  walkHedge(w);
  walkFields(w, ["optOutSmartRouting", "clearingAccount", "clearingIntent", "notHeld"]);
  walkDeltaNeutralContract(w);
  walkAlgo(w);
  walkFields(w, [
    "solicited",
    "whatIf",
    "status",
    "initMarginBefore",
    "maintMarginBefore",
    "equityWithLoanBefore",
    "initMarginChange",
    "maintMarginChange",
    "equityWithLoanChange",
    "initMarginAfter",
    "maintMarginAfter",
    "equityWithLoanAfter",
    "commission",
    "minCommission",
    "maxCommission",
    "commissionCurrency",
    "warningText",
    "randomizeSize",
    "randomizePrice",
  ]);
  walkPegBench(w, orderType);
  walkConditions(w);
  walkFields(w, [
    "adjustedOrderType",
    "triggerPrice",
    "adjustedTrailStopPrice",
    "lmtPriceOffset",
    "adjustedStopPrice",
    "adjustedStopLimitPrice",
    "adjustedTrailingAmount",
    "adjustableTrailingUnit",
    "softDollarTierName",
    "softDollarTierValue",
    "softDollarTierDisplayName",
    "cashQty",
    "dontUseAutoPriceForHedge",
    "isOmsContainer",
    "discretionaryUpToLimitPrice",
    "usePriceMgmtAlgo",
  ]);
  if (w.version >= V.DURATION) w.field("duration");
  if (w.version >= V.POST_TO_ATS) w.field("postToAts");
  if (w.version >= V.AUTO_CANCEL_PARENT) w.field("autoCancelParent");
  walkPegBestPegMid(w);
}

/** COMPLETED_ORDER in the official decoder's order. */
function walkCompletedOrder(w: FieldWalk): void {
  walkContract(w);
  walkFields(w, ["action", "totalQuantity"]);
  const orderType = w.field("orderType");
  walkFields(w, [
    "lmtPrice",
    "auxPrice",
    "tif",
    "ocaGroup",
    "account",
    "openClose",
    "origin",
    "orderRef",
    "permId",
    "outsideRth",
    "hidden",
    "discretionaryAmt",
    "goodAfterTime",
  ]);
  walkFa(w);
  walkFields(w, [
    "modelCode",
    "goodTillDate",
    "rule80A",
    "percentOffset",
    "settlingFirm",
    "shortSaleSlot",
    "designatedLocation",
    "exemptCode",
    "startingPrice",
    "stockRefPrice",
    "delta",
    "stockRangeLower",
    "stockRangeUpper",
    "displaySize",
    "sweepToFill",
    "allOrNone",
    "minQty",
    "ocaType",
    "triggerMethod",
  ]);
  walkVolatility(w, false);
  walkFields(w, ["trailStopPrice", "trailingPercent"]);
  walkComboLegs(w);
  walkScale(w);
  walkHedge(w);
  walkFields(w, ["clearingAccount", "clearingIntent", "notHeld"]);
  walkDeltaNeutralContract(w);
  walkAlgo(w);
  walkFields(w, ["solicited", "status", "randomizeSize", "randomizePrice"]);
  walkPegBench(w, orderType);
  walkConditions(w);
  walkFields(w, [
    "adjustedTrailStopPrice",
    "lmtPriceOffset",
    "cashQty",
    "dontUseAutoPriceForHedge",
    "isOmsContainer",
    "autoCancelDate",
    "filledQuantity",
    "refFuturesConId",
    "autoCancelParent",
    "shareholder",
    "imbalanceOnly",
    "routeMarketableToBbo",
    "parentPermId",
    "completedTime",
    "completedStatus",
  ]);
  walkPegBestPegMid(w);
}

// ---------------------------------------------------------------------------- defaults

/**
 * What TWS sends for a plain order (no combo, algo, scale, hedge, conditions), field by
 * field, as captured at V 165 and 173 (src/protocol/fixtures/). docs/protocol.md lists them.
 * `sharesAllocation` is filled per order by `orderDefault`.
 */
export const ORDER_DEFAULTS: Readonly<Record<string, string>> = {
  discretionaryAmt: "0",
  goodAfterTime: "",
  faGroup: "",
  faMethod: "",
  faPercentage: "",
  faProfile: "",
  modelCode: "",
  goodTillDate: "",
  rule80A: "",
  percentOffset: "",
  settlingFirm: "",
  shortSaleSlot: "0",
  designatedLocation: "",
  exemptCode: "-1",
  auctionStrategy: "0",
  startingPrice: "",
  stockRefPrice: "",
  delta: "",
  stockRangeLower: "",
  stockRangeUpper: "",
  displaySize: "2147483647",
  blockOrder: "0",
  sweepToFill: "0",
  allOrNone: "0",
  minQty: "",
  ocaType: "3",
  eTradeOnly: "0",
  firmQuoteOnly: "0",
  nbboPriceCap: "",
  triggerMethod: "0",
  volatility: "",
  volatilityType: "0",
  deltaNeutralOrderType: "None",
  deltaNeutralAuxPrice: "",
  deltaNeutralConId: "0",
  deltaNeutralSettlingFirm: "",
  deltaNeutralClearingAccount: "",
  deltaNeutralClearingIntent: "",
  deltaNeutralOpenClose: "?",
  deltaNeutralShortSale: "0",
  deltaNeutralShortSaleSlot: "0",
  deltaNeutralDesignatedLocation: "",
  continuousUpdate: "0",
  referencePriceType: "0",
  trailStopPrice: "",
  trailingPercent: "",
  basisPoints: "",
  basisPointsType: "",
  comboLegsDescrip: "",
  comboLegsCount: "0",
  orderComboLegsCount: "0",
  smartComboRoutingParamsCount: "0",
  scaleInitLevelSize: "2147483647",
  scaleSubsLevelSize: "2147483647",
  scalePriceIncrement: "",
  hedgeType: "",
  optOutSmartRouting: "0",
  clearingAccount: "",
  clearingIntent: "IB",
  notHeld: "0",
  deltaNeutralContract: "0",
  algoStrategy: "",
  solicited: "0",
  initMarginBefore: UNSET_DOUBLE_TEXT,
  maintMarginBefore: UNSET_DOUBLE_TEXT,
  equityWithLoanBefore: UNSET_DOUBLE_TEXT,
  initMarginChange: UNSET_DOUBLE_TEXT,
  maintMarginChange: UNSET_DOUBLE_TEXT,
  equityWithLoanChange: UNSET_DOUBLE_TEXT,
  initMarginAfter: UNSET_DOUBLE_TEXT,
  maintMarginAfter: UNSET_DOUBLE_TEXT,
  equityWithLoanAfter: UNSET_DOUBLE_TEXT,
  commission: "",
  minCommission: "",
  maxCommission: "",
  commissionCurrency: "",
  randomizeSize: "0",
  randomizePrice: "0",
  conditionsCount: "0",
  adjustedOrderType: "None",
  triggerPrice: UNSET_DOUBLE_TEXT,
  adjustedTrailStopPrice: UNSET_DOUBLE_TEXT,
  lmtPriceOffset: UNSET_DOUBLE_TEXT,
  adjustedStopPrice: UNSET_DOUBLE_TEXT,
  adjustedStopLimitPrice: UNSET_DOUBLE_TEXT,
  adjustedTrailingAmount: UNSET_DOUBLE_TEXT,
  adjustableTrailingUnit: "0",
  softDollarTierName: "",
  softDollarTierValue: "",
  softDollarTierDisplayName: "",
  cashQty: "0",
  dontUseAutoPriceForHedge: "1",
  isOmsContainer: "0",
  discretionaryUpToLimitPrice: "0",
  usePriceMgmtAlgo: "0",
  duration: "",
  postToAts: "",
  autoCancelParent: "0",
  minTradeQty: "",
  minCompeteSize: "100",
  competeAgainstBestOffset: "0.02",
  midOffsetAtWhole: "",
  midOffsetAtHalf: "",
  // COMPLETED_ORDER only
  autoCancelDate: "",
  refFuturesConId: "2147483647",
  shareholder: "Not an insider or substantial shareholder",
  imbalanceOnly: "0",
  routeMarketableToBbo: "0",
  parentPermId: "9223372036854775807",
};

/**
 * COMPLETED_ORDER does not type some fields OPEN_ORDER types, and leaves the peg-best/mid
 * fields empty where OPEN_ORDER fills them (captured at 173 and 176).
 */
export const COMPLETED_DEFAULTS: Readonly<Record<string, string>> = {
  ...ORDER_DEFAULTS,
  ocaGroup: "",
  openClose: "",
  origin: "0",
  outsideRth: "0",
  hidden: "0",
  minCompeteSize: "",
  competeAgainstBestOffset: "",
};

/**
 * Fields that hold numbers (or 0/1 flags). Reading one that holds other text means the
 * layout is wrong for this message (a wrong server version that happens to realign), so the
 * reader refuses it rather than hand on shifted values.
 */
const NUMERIC = new Set([
  "orderId",
  "conId",
  "strike",
  "lmtPrice",
  "auxPrice",
  "origin",
  "clientId",
  "permId",
  "outsideRth",
  "hidden",
  "discretionaryAmt",
  "percentOffset",
  "shortSaleSlot",
  "exemptCode",
  "auctionStrategy",
  "startingPrice",
  "stockRefPrice",
  "delta",
  "stockRangeLower",
  "stockRangeUpper",
  "displaySize",
  "blockOrder",
  "sweepToFill",
  "allOrNone",
  "minQty",
  "ocaType",
  "eTradeOnly",
  "firmQuoteOnly",
  "nbboPriceCap",
  "parentId",
  "triggerMethod",
  "volatility",
  "volatilityType",
  "deltaNeutralAuxPrice",
  "deltaNeutralConId",
  "deltaNeutralShortSale",
  "deltaNeutralShortSaleSlot",
  "continuousUpdate",
  "referencePriceType",
  "trailStopPrice",
  "trailingPercent",
  "basisPoints",
  "basisPointsType",
  "scaleInitLevelSize",
  "scaleSubsLevelSize",
  "scalePriceIncrement",
  "optOutSmartRouting",
  "notHeld",
  "deltaNeutralContract",
  "solicited",
  "whatIf",
  "randomizeSize",
  "randomizePrice",
  "triggerPrice",
  "adjustedTrailStopPrice",
  "lmtPriceOffset",
  "adjustedStopPrice",
  "adjustedStopLimitPrice",
  "adjustedTrailingAmount",
  "adjustableTrailingUnit",
  "cashQty",
  "dontUseAutoPriceForHedge",
  "isOmsContainer",
  "discretionaryUpToLimitPrice",
  "autoCancelParent",
  "refFuturesConId",
  "imbalanceOnly",
  "routeMarketableToBbo",
  "parentPermId",
]);

function checkNumeric(name: string, text: string): void {
  if (!NUMERIC.has(name) || text === "") return;
  // Lenient as IB's decoders (Infinity, sentinels), strict on words.
  new FieldReader([text]).float();
}

/** Reads a walk, checking numeric fields as it goes. */
class CheckedReadWalk extends ReadWalk {
  override field(name: string): string {
    const t = super.field(name);
    checkNumeric(name, t);
    return t;
  }
}

// ---------------------------------------------------------------------------- typed fields

const one = (text: string | undefined) => new FieldReader([text ?? ""]);

/** Order prices as TWS prints them ("0.0", "5800.0"); unset reads as undefined. */
const priceText = (v: number | undefined) =>
  v === undefined || v === UNSET_DOUBLE ? "" : formatJavaDouble(v);

function contractTexts(c: Contract): [string, string][] {
  return [
    ["conId", String(Math.trunc(c.conId))],
    ["symbol", c.symbol],
    ["secType", c.secType],
    ["lastTradeDateOrContractMonth", c.lastTradeDateOrContractMonth],
    ["strike", formatDouble(c.strike)],
    ["right", c.right],
    ["multiplier", c.multiplier],
    ["exchange", c.exchange],
    ["currency", c.currency],
    ["localSymbol", c.localSymbol],
    ["tradingClass", c.tradingClass],
  ];
}

function contractOf(t: ReadonlyMap<string, string>): Contract {
  return {
    conId: one(t.get("conId")).int(),
    symbol: t.get("symbol") ?? "",
    secType: t.get("secType") ?? "",
    lastTradeDateOrContractMonth: t.get("lastTradeDateOrContractMonth") ?? "",
    strike: one(t.get("strike")).float(),
    right: t.get("right") ?? "",
    multiplier: t.get("multiplier") ?? "",
    exchange: t.get("exchange") ?? "",
    primaryExchange: "",
    currency: t.get("currency") ?? "",
    localSymbol: t.get("localSymbol") ?? "",
    tradingClass: t.get("tradingClass") ?? "",
  };
}

const flag = (b: boolean) => (b ? "1" : "0");

function openOrderTexts(o: OpenOrder): Map<string, string> {
  return new Map([
    ["orderId", String(Math.trunc(o.orderId))],
    ...contractTexts(o.contract),
    ["action", o.action],
    ["totalQuantity", o.totalQuantity ?? ""],
    ["orderType", o.orderType],
    ["lmtPrice", priceText(o.lmtPrice)],
    ["auxPrice", priceText(o.auxPrice)],
    ["tif", o.tif],
    ["ocaGroup", o.ocaGroup],
    ["account", o.account],
    ["openClose", o.openClose],
    ["origin", String(Math.trunc(o.origin))],
    ["orderRef", o.orderRef],
    ["clientId", String(Math.trunc(o.clientId))],
    ["permId", String(Math.trunc(o.permId))],
    ["outsideRth", flag(o.outsideRth)],
    ["hidden", flag(o.hidden)],
    ["parentId", String(Math.trunc(o.parentId))],
    ["whatIf", flag(o.whatIf)],
    ["status", o.status],
    ["warningText", o.warningText],
  ]);
}

/** The unmodeled texts: every field the walk read that is not typed. */
function unmodeledOf(t: ReadonlyMap<string, string>, typed: ReadonlySet<string>): Unmodeled {
  const out: Record<string, string> = {};
  for (const [k, v] of t) if (!typed.has(k)) out[k] = v;
  return out;
}

const OPEN_ORDER_TYPED: ReadonlySet<string> = new Set([
  ...CONTRACT_NAMES,
  "orderId",
  "action",
  "totalQuantity",
  "orderType",
  "lmtPrice",
  "auxPrice",
  "tif",
  "ocaGroup",
  "account",
  "openClose",
  "origin",
  "orderRef",
  "clientId",
  "permId",
  "outsideRth",
  "hidden",
  "parentId",
  "whatIf",
  "status",
  "warningText",
]);

/** The text for `name`: typed value, else the text TWS sent, else TWS's plain-order default. */
function textSource(
  typed: ReadonlyMap<string, string>,
  unmodeled: Unmodeled,
  defaults: Readonly<Record<string, string>>,
  perOrder: (name: string) => string | undefined,
): (name: string) => string {
  return (name) => typed.get(name) ?? unmodeled[name] ?? perOrder(name) ?? defaults[name] ?? "";
}

export const OPEN_ORDER = defineCodec<OpenOrder>({
  id: IN.OPEN_ORDER,
  name: "OPEN_ORDER",
  direction: "in",
  write: (w, o, v) => {
    const perOrder = (name: string) =>
      // TWS fills this deprecated field as <permId>.0/<account>/100 in every capture.
      name === "sharesAllocation" ? `${Math.trunc(o.permId)}.0/${o.account}/100` : undefined;
    walkOpenOrder(new WriteWalk(w, v, textSource(openOrderTexts(o), o.unmodeled, ORDER_DEFAULTS, perOrder)));
  },
  read: (r, v) => {
    const walk = new CheckedReadWalk(r, v);
    walkOpenOrder(walk);
    const t = walk.texts;
    return {
      orderId: one(t.get("orderId")).int(),
      contract: contractOf(t),
      action: t.get("action") ?? "",
      totalQuantity: one(t.get("totalQuantity")).decimal(),
      orderType: t.get("orderType") ?? "",
      lmtPrice: one(t.get("lmtPrice")).floatMax(),
      auxPrice: one(t.get("auxPrice")).floatMax(),
      tif: t.get("tif") ?? "",
      ocaGroup: t.get("ocaGroup") ?? "",
      account: t.get("account") ?? "",
      openClose: t.get("openClose") ?? "",
      origin: one(t.get("origin")).int(),
      orderRef: t.get("orderRef") ?? "",
      clientId: one(t.get("clientId")).int(),
      permId: one(t.get("permId")).int(),
      outsideRth: one(t.get("outsideRth")).bool(),
      hidden: one(t.get("hidden")).bool(),
      parentId: one(t.get("parentId")).int(),
      whatIf: one(t.get("whatIf")).bool(),
      status: t.get("status") ?? "",
      warningText: t.get("warningText") ?? "",
      unmodeled: unmodeledOf(t, OPEN_ORDER_TYPED),
    };
  },
});

export interface CompletedOrder {
  contract: Contract;
  action: string;
  totalQuantity: string | undefined;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  account: string;
  orderRef: string;
  permId: number;
  status: string;
  filledQuantity: string | undefined;
  completedTime: string;
  completedStatus: string;
  /** Every other field as TWS sent it; missing names are written with ORDER_DEFAULTS. */
  unmodeled: Unmodeled;
}

const COMPLETED_ORDER_TYPED: ReadonlySet<string> = new Set([
  ...CONTRACT_NAMES,
  "action",
  "totalQuantity",
  "orderType",
  "lmtPrice",
  "auxPrice",
  "tif",
  "account",
  "orderRef",
  "permId",
  "status",
  "filledQuantity",
  "completedTime",
  "completedStatus",
]);

function completedOrderTexts(o: CompletedOrder): Map<string, string> {
  return new Map([
    ...contractTexts(o.contract),
    ["action", o.action],
    ["totalQuantity", o.totalQuantity ?? ""],
    ["orderType", o.orderType],
    ["lmtPrice", priceText(o.lmtPrice)],
    ["auxPrice", priceText(o.auxPrice)],
    ["tif", o.tif],
    ["account", o.account],
    ["orderRef", o.orderRef],
    ["permId", String(Math.trunc(o.permId))],
    ["status", o.status],
    ["filledQuantity", o.filledQuantity ?? ""],
    ["completedTime", o.completedTime],
    ["completedStatus", o.completedStatus],
  ]);
}

export const COMPLETED_ORDER = defineCodec<CompletedOrder>({
  id: IN.COMPLETED_ORDER,
  name: "COMPLETED_ORDER",
  direction: "in",
  write: (w, o, v) => {
    const source = textSource(completedOrderTexts(o), o.unmodeled, COMPLETED_DEFAULTS, () => undefined);
    walkCompletedOrder(new WriteWalk(w, v, source));
  },
  read: (r, v) => {
    const walk = new CheckedReadWalk(r, v);
    walkCompletedOrder(walk);
    const t = walk.texts;
    return {
      contract: contractOf(t),
      action: t.get("action") ?? "",
      totalQuantity: one(t.get("totalQuantity")).decimal(),
      orderType: t.get("orderType") ?? "",
      lmtPrice: one(t.get("lmtPrice")).floatMax(),
      auxPrice: one(t.get("auxPrice")).floatMax(),
      tif: t.get("tif") ?? "",
      account: t.get("account") ?? "",
      orderRef: t.get("orderRef") ?? "",
      permId: one(t.get("permId")).int(),
      status: t.get("status") ?? "",
      filledQuantity: one(t.get("filledQuantity")).decimal(),
      completedTime: t.get("completedTime") ?? "",
      completedStatus: t.get("completedStatus") ?? "",
      unmodeled: unmodeledOf(t, COMPLETED_ORDER_TYPED),
    };
  },
});
