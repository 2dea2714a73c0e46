/**
 * OPEN_ORDER (127 fields at V 178) and COMPLETED_ORDER (96). The reader follows the official
 * decoder's read order including every data-dependent block, so orders placed with combos,
 * algos or conditions still decode; the writer emits a plain order with IB's defaults.
 */
import { defineCodec } from "../codec.js";
import type { FieldReader } from "../fields.js";
import { IN } from "../message-ids.js";
import { V } from "../versions.js";
import { type Contract, readContractNoPrimary, writeContractNoPrimary } from "./contract.js";

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
}

const isPegBench = (orderType: string) => orderType === "PEG BENCH" || orderType === "PEGBENCH";

/** Blocks shared by both readers, each guarded by the value that announces it. */
function skipComboLegs(r: FieldReader): void {
  const n = r.int();
  r.skip(n * 8);
  const m = r.int();
  r.skip(m);
  const k = r.int();
  r.skip(k * 2);
}

function skipScaleTail(r: FieldReader, increment: number | undefined): void {
  if (increment !== undefined && increment > 0) r.skip(7);
}

function skipHedge(r: FieldReader): void {
  if (r.str() !== "") r.skip();
}

function skipDeltaNeutralContract(r: FieldReader): void {
  if (r.bool()) r.skip(3);
}

function skipAlgo(r: FieldReader): void {
  if (r.str() !== "") r.skip(r.int() * 2);
}

const CONDITION_FIELDS: Record<number, number> = { 1: 5, 3: 2, 4: 2, 5: 3, 6: 4, 7: 4 };

function skipConditions(r: FieldReader): void {
  const n = r.int();
  if (n <= 0) return;
  for (let i = 0; i < n; i++) {
    const type = r.int();
    r.skip(1 + (CONDITION_FIELDS[type] ?? 0));
  }
  r.skip(2);
}

export const OPEN_ORDER = defineCodec<OpenOrder>({
  id: IN.OPEN_ORDER,
  name: "OPEN_ORDER",
  direction: "in",
  write: (w, o, v) => {
    w.int(o.orderId);
    writeContractNoPrimary(w, o.contract);
    w.str(o.action)
      .decimal(o.totalQuantity)
      .str(o.orderType)
      .floatMax(o.lmtPrice)
      .floatMax(o.auxPrice)
      .str(o.tif)
      .str(o.ocaGroup)
      .str(o.account)
      .str(o.openClose)
      .int(o.origin)
      .str(o.orderRef)
      .int(o.clientId)
      .int(o.permId)
      .bool(o.outsideRth)
      .bool(o.hidden);
    w.raw(["0", "", "", "", "", ""]); // discretionaryAmt, goodAfterTime, sharesAllocation, faGroup, faMethod, faPercentage
    if (v < V.FA_PROFILE_DESUPPORT) w.str("");
    w.raw(["", "", "", "", "", "0", "", "-1", "0", "", "", "", "", "", ""]); // modelCode … displaySize
    w.raw(["0", "0", "0", "", "0", "0", "0", ""]); // blockOrder … nbboPriceCap
    w.int(o.parentId);
    w.raw(["0", "", "0", "", "", "0", "0", "", "", "", ""]); // triggerMethod … basisPointsType
    w.raw(["", "0", "0", "0", "", "", "", ""]); // comboLegsDescrip, 3 counts, scale x3, hedgeType
    w.raw(["0", "", "", "0", "0", "", "0"]); // optOutSmartRouting … solicited
    w.bool(o.whatIf).str(o.status);
    w.raw(["", "", "", "", "", "", "", "", "", "", "", "", ""]); // margins x9, commission x3, commissionCurrency
    w.str(o.warningText);
    w.raw(["0", "0", "0", "", "", "", "", "", "", "", "0", "", "", "", "", "0", "0", "0", "0"]);
    if (v >= V.DURATION) w.str("");
    if (v >= V.POST_TO_ATS) w.str("");
    if (v >= V.AUTO_CANCEL_PARENT) w.str("0");
    if (v >= V.PEGBEST_PEGMID_OFFSETS) w.raw(["", "", "", "", ""]);
  },
  read: (r, v) => {
    const orderId = r.int();
    const c = readContractNoPrimary(r);
    const action = r.str();
    const totalQuantity = r.decimal();
    const orderType = r.str();
    const lmtPrice = r.floatMax();
    const auxPrice = r.floatMax();
    const tif = r.str();
    const ocaGroup = r.str();
    const account = r.str();
    const openClose = r.str();
    const origin = r.int();
    const orderRef = r.str();
    const clientId = r.int();
    const permId = r.int();
    const outsideRth = r.bool();
    const hidden = r.bool();
    r.skip(6);
    if (v < V.FA_PROFILE_DESUPPORT) r.skip();
    r.skip(15 + 8);
    const parentId = r.int();
    r.skip(3); // triggerMethod, volatility, volatilityType
    const dnOrderType = r.str();
    r.skip(); // deltaNeutralAuxPrice
    if (dnOrderType !== "") r.skip(8);
    r.skip(7); // continuousUpdate … comboLegsDescrip
    skipComboLegs(r);
    r.skip(2);
    skipScaleTail(r, r.floatMax());
    skipHedge(r);
    r.skip(4); // optOutSmartRouting, clearingAccount, clearingIntent, notHeld
    skipDeltaNeutralContract(r);
    skipAlgo(r);
    r.skip(); // solicited
    const whatIf = r.bool();
    const status = r.str();
    r.skip(9 + 3 + 1);
    const warningText = r.str();
    r.skip(2); // randomize x2
    if (isPegBench(orderType)) r.skip(5);
    skipConditions(r);
    // adjusted fields, soft-dollar tier, cashQty … usePriceMgmtAlgo and later gated fields
    // are not typed; whatever remains is IB's tail for this version.
    r.rest();
    return {
      orderId,
      contract: c,
      action,
      totalQuantity,
      orderType,
      lmtPrice,
      auxPrice,
      tif,
      ocaGroup,
      account,
      openClose,
      origin,
      orderRef,
      clientId,
      permId,
      outsideRth,
      hidden,
      parentId,
      whatIf,
      status,
      warningText,
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
}

export const COMPLETED_ORDER = defineCodec<CompletedOrder>({
  id: IN.COMPLETED_ORDER,
  name: "COMPLETED_ORDER",
  direction: "in",
  write: (w, o, v) => {
    writeContractNoPrimary(w, o.contract);
    w.str(o.action)
      .decimal(o.totalQuantity)
      .str(o.orderType)
      .floatMax(o.lmtPrice)
      .floatMax(o.auxPrice)
      .str(o.tif)
      .str("") // ocaGroup
      .str(o.account)
      .str("") // openClose
      .int(0) // origin
      .str(o.orderRef)
      .int(o.permId);
    w.raw(["0", "0", "0", "", "", "", ""]); // outsideRth … faPercentage
    if (v < V.FA_PROFILE_DESUPPORT) w.str("");
    w.raw(["", "", "", "", "", "0", "", "-1", "", "", "", "", "", ""]); // modelCode … displaySize
    w.raw(["0", "0", "", "0", "0", "", "0", "", "", "0", "0", "", ""]); // sweepToFill … trailingPercent
    w.raw(["", "0", "0", "0", "", "", "", "", "", "", "0", "0", "", "0"]); // comboLegsDescrip … solicited
    w.str(o.status);
    w.raw(["0", "0", "0", "", "", "", "0", "0", ""]); // randomize x2, conditions, trailStop, lmtOffset, cashQty, dontUseAuto…, isOms, autoCancelDate
    w.decimal(o.filledQuantity);
    w.raw(["0", "0", "", "0", "0", ""]); // refFuturesConId, autoCancelParent, shareholder, imbalanceOnly, routeMarketableToBbo, parentPermId
    w.str(o.completedTime).str(o.completedStatus);
    if (v >= V.PEGBEST_PEGMID_OFFSETS) w.raw(["", "", "", "", ""]);
  },
  read: (r, v) => {
    const c = readContractNoPrimary(r);
    const action = r.str();
    const totalQuantity = r.decimal();
    const orderType = r.str();
    const lmtPrice = r.floatMax();
    const auxPrice = r.floatMax();
    const tif = r.str();
    r.skip(); // ocaGroup
    const account = r.str();
    r.skip(2); // openClose, origin
    const orderRef = r.str();
    const permId = r.int();
    r.skip(7);
    if (v < V.FA_PROFILE_DESUPPORT) r.skip();
    r.skip(14 + 7); // modelCode … displaySize, sweepToFill … volatilityType
    const dnOrderType = r.str();
    r.skip(); // deltaNeutralAuxPrice
    if (dnOrderType !== "") r.skip(4);
    r.skip(5); // continuousUpdate … comboLegsDescrip
    skipComboLegs(r);
    r.skip(2);
    skipScaleTail(r, r.floatMax());
    skipHedge(r);
    r.skip(3); // clearingAccount, clearingIntent, notHeld
    skipDeltaNeutralContract(r);
    skipAlgo(r);
    r.skip(); // solicited
    const status = r.str();
    r.skip(2);
    if (isPegBench(orderType)) r.skip(5);
    skipConditions(r);
    r.skip(6); // trailStopPrice, lmtPriceOffset, cashQty, dontUseAutoPriceForHedge, isOmsContainer, autoCancelDate
    const filledQuantity = r.decimal();
    r.skip(6);
    const completedTime = r.str();
    const completedStatus = r.str();
    r.rest();
    return {
      contract: c,
      action,
      totalQuantity,
      orderType,
      lmtPrice,
      auxPrice,
      tif,
      account,
      orderRef,
      permId,
      status,
      filledQuantity,
      completedTime,
      completedStatus,
    };
  },
});
