/**
 * Every codec round-trips: decode(encode(m)) equals m, at every server version we speak.
 * The table below must name every codec in the catalogue, so a new message cannot ship
 * without a property test.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allCodecs } from "../catalog.js";
import { fromFields, type MessageCodec, toFields } from "../codec.js";
import { decodeFields, encodeFields } from "../fields.js";
import { MAX_SERVER_VERSION, MIN_SERVER_VERSION } from "../versions.js";
import {
  bool,
  comboLeg,
  contractArb,
  contractNoPrimary,
  dbl,
  decimal,
  int,
  nat,
  optDouble,
  optInt,
  text,
  word,
} from "./arbitraries.test-util.js";
import * as m from "./index.js";

const empty = fc.constant({});
const reqId = fc.record({ reqId: int });
const tickerId = fc.record({ tickerId: int });
const bar = fc.record({
  date: text,
  open: dbl,
  high: dbl,
  low: dbl,
  close: dbl,
  volume: decimal,
  wap: decimal,
  barCount: int,
});
const contractDetails = fc.record({
  contract: contractArb,
  marketName: text,
  minTick: dbl,
  orderTypes: text,
  validExchanges: text,
  priceMagnifier: int,
  underConId: int,
  longName: text,
  contractMonth: text,
  industry: text,
  category: text,
  subcategory: text,
  timeZoneId: text,
  tradingHours: text,
  liquidHours: text,
  evRule: text,
  evMultiplier: optDouble,
  secIdList: fc.array(fc.record({ tag: text, value: text }), { maxLength: 3 }),
  aggGroup: int,
  underSymbol: text,
  underSecType: text,
  marketRuleIds: text,
  realExpirationDate: text,
  stockType: text,
  minSize: decimal,
  sizeIncrement: decimal,
  suggestedSizeIncrement: decimal,
});
const execution = fc.record({
  orderId: int,
  contract: contractNoPrimary,
  execId: text,
  time: text,
  acctNumber: text,
  exchange: text,
  side: text,
  shares: decimal,
  price: dbl,
  permId: int,
  clientId: int,
  liquidation: int,
  cumQty: decimal,
  avgPrice: dbl,
  orderRef: text,
  evRule: text,
  evMultiplier: optDouble,
  modelCode: text,
  lastLiquidity: int,
  pendingPriceRevision: bool,
});

/** Texts of fields the order codecs do not type; fields not given decode to TWS's defaults. */
const unmodeled = fc.record(
  { goodAfterTime: text, rule80A: word, clearingIntent: word, displaySize: nat.map(String) },
  { requiredKeys: [] },
);

/** Fields that a version below their threshold does not carry decode to their default. */
type Arb = fc.Arbitrary<unknown>;
const ARBS: Record<string, Arb> = {
  START_API: fc.record({ clientId: int, optionalCapabilities: text }),
  REQ_CURRENT_TIME: empty,
  CURRENT_TIME: fc.record({ time: nat }),
  REQ_IDS: fc.record({ numIds: int }),
  NEXT_VALID_ID: fc.record({ orderId: int }),
  REQ_MANAGED_ACCTS: empty,
  MANAGED_ACCTS: fc.record({ accounts: fc.array(fc.stringMatching(/^[A-Z0-9]{1,10}$/), { maxLength: 4 }) }),
  ERR_MSG: fc.record({ id: int, code: int, message: text, advancedOrderRejectJson: text }),
  REQ_MARKET_DATA_TYPE: fc.record({ marketDataType: fc.integer({ min: 1, max: 4 }) }),
  MARKET_DATA_TYPE: fc.record({ reqId: int, marketDataType: fc.integer({ min: 1, max: 4 }) }),
  REQ_CONTRACT_DATA: fc.record({
    reqId: int,
    contract: contractArb,
    includeExpired: bool,
    secIdType: text,
    secId: text,
    issuerId: text,
  }),
  CONTRACT_DATA: fc.record({ reqId: int, details: contractDetails }),
  CONTRACT_DATA_END: reqId,
  REQ_MATCHING_SYMBOLS: fc.record({ reqId: int, pattern: text }),
  SYMBOL_SAMPLES: fc.record({
    reqId: int,
    samples: fc.array(
      fc.record({
        conId: nat,
        symbol: text,
        secType: text,
        primaryExchange: text,
        currency: text,
        derivativeSecTypes: fc.array(text, { maxLength: 3 }),
        description: text,
        issuerId: text,
      }),
      { maxLength: 3 },
    ),
  }),
  REQ_SEC_DEF_OPT_PARAMS: fc.record({
    reqId: int,
    underlyingSymbol: text,
    futFopExchange: text,
    underlyingSecType: text,
    underlyingConId: nat,
  }),
  SECURITY_DEFINITION_OPTION_PARAMETER: fc.record({
    reqId: int,
    exchange: text,
    underlyingConId: nat,
    tradingClass: text,
    multiplier: text,
    expirations: fc.array(text, { maxLength: 4 }),
    strikes: fc.array(dbl, { maxLength: 6 }),
  }),
  SECURITY_DEFINITION_OPTION_PARAMETER_END: reqId,
  REQ_MKT_DATA: fc.record({
    tickerId: int,
    contract: contractArb,
    comboLegs: fc.constant([]),
    deltaNeutral: fc.option(fc.record({ conId: nat, delta: dbl, price: dbl }), { nil: undefined }),
    genericTickList: text,
    snapshot: bool,
    regulatorySnapshot: bool,
    mktDataOptions: text,
  }),
  CANCEL_MKT_DATA: tickerId,
  TICK_REQ_PARAMS: fc.record({ tickerId: int, minTick: dbl, bboExchange: text, snapshotPermissions: int }),
  TICK_PRICE: fc.record({ tickerId: int, tickType: int, price: dbl, size: decimal, attrMask: int }),
  TICK_SIZE: fc.record({ tickerId: int, tickType: int, size: decimal }),
  TICK_STRING: fc.record({ tickerId: int, tickType: int, value: text }),
  TICK_GENERIC: fc.record({ tickerId: int, tickType: int, value: dbl }),
  TICK_OPTION_COMPUTATION: fc.record({
    tickerId: int,
    tickType: int,
    tickAttrib: int,
    impliedVol: dbl,
    delta: dbl,
    optPrice: dbl,
    pvDividend: dbl,
    gamma: dbl,
    vega: dbl,
    theta: dbl,
    undPrice: dbl,
  }),
  TICK_SNAPSHOT_END: tickerId,
  REQ_MKT_DEPTH: fc.record({
    tickerId: int,
    contract: contractArb,
    numRows: int,
    isSmartDepth: bool,
    mktDepthOptions: text,
  }),
  CANCEL_MKT_DEPTH: fc.record({ tickerId: int, isSmartDepth: bool }),
  MARKET_DEPTH: fc.record({
    tickerId: int,
    position: int,
    operation: int,
    side: int,
    price: dbl,
    size: decimal,
  }),
  MARKET_DEPTH_L2: fc.record({
    tickerId: int,
    position: int,
    marketMaker: text,
    operation: int,
    side: int,
    price: dbl,
    size: decimal,
    isSmartDepth: bool,
  }),
  REQ_TICK_BY_TICK_DATA: fc.record({
    reqId: int,
    contract: contractArb,
    tickType: text,
    numberOfTicks: int,
    ignoreSize: bool,
  }),
  CANCEL_TICK_BY_TICK_DATA: reqId,
  TICK_BY_TICK: fc.oneof(
    fc.record({
      reqId: int,
      tickType: fc.constantFrom(1 as const, 2 as const),
      time: nat,
      price: dbl,
      size: decimal,
      attrMask: int,
      exchange: text,
      specialConditions: text,
    }),
    fc.record({
      reqId: int,
      tickType: fc.constant(3 as const),
      time: nat,
      bidPrice: dbl,
      askPrice: dbl,
      bidSize: decimal,
      askSize: decimal,
      attrMask: int,
    }),
    fc.record({ reqId: int, tickType: fc.constant(4 as const), time: nat, midPoint: dbl }),
    fc.record({ reqId: int, tickType: fc.constant(0 as const), time: nat }),
  ),
  REQ_HISTORICAL_DATA: fc.record({
    reqId: int,
    contract: contractArb,
    includeExpired: bool,
    endDateTime: text,
    barSize: text,
    duration: text,
    useRTH: bool,
    whatToShow: text,
    formatDate: fc.constantFrom(1, 2),
    comboLegs: fc.constant([]),
    keepUpToDate: bool,
    chartOptions: text,
  }),
  HISTORICAL_DATA: fc.record({ reqId: int, start: text, end: text, bars: fc.array(bar, { maxLength: 5 }) }),
  HISTORICAL_DATA_UPDATE: fc.record({ reqId: int, bar }),
  CANCEL_HISTORICAL_DATA: reqId,
  REQ_HEAD_TIMESTAMP: fc.record({
    reqId: int,
    contract: contractArb,
    includeExpired: bool,
    useRTH: bool,
    whatToShow: text,
    formatDate: fc.constantFrom(1, 2),
  }),
  HEAD_TIMESTAMP: fc.record({ reqId: int, headTimestamp: text }),
  CANCEL_HEAD_TIMESTAMP: reqId,
  REQ_REAL_TIME_BARS: fc.record({
    tickerId: int,
    contract: contractArb,
    barSize: fc.constant(5),
    whatToShow: text,
    useRTH: bool,
    options: text,
  }),
  REAL_TIME_BARS: fc.record({
    reqId: int,
    time: nat,
    open: dbl,
    high: dbl,
    low: dbl,
    close: dbl,
    volume: decimal,
    wap: decimal,
    count: int,
  }),
  CANCEL_REAL_TIME_BARS: tickerId,
  REQ_POSITIONS: empty,
  CANCEL_POSITIONS: empty,
  POSITION_DATA: fc.record({ account: text, contract: contractNoPrimary, position: decimal, avgCost: dbl }),
  POSITION_END: empty,
  REQ_ACCOUNT_SUMMARY: fc.record({ reqId: int, group: text, tags: text }),
  CANCEL_ACCOUNT_SUMMARY: reqId,
  ACCOUNT_SUMMARY: fc.record({ reqId: int, account: text, tag: text, value: text, currency: text }),
  ACCOUNT_SUMMARY_END: reqId,
  REQ_ACCOUNT_DATA: fc.record({ subscribe: bool, account: text }),
  ACCT_VALUE: fc.record({ key: text, value: text, currency: text, account: text }),
  PORTFOLIO_VALUE: fc.record({
    contract: contractArb.map((c) => ({ ...c, exchange: "" })),
    position: decimal,
    marketPrice: dbl,
    marketValue: dbl,
    averageCost: dbl,
    unrealizedPNL: dbl,
    realizedPNL: dbl,
    account: text,
  }),
  ACCT_UPDATE_TIME: fc.record({ time: text }),
  ACCT_DOWNLOAD_END: fc.record({ account: text }),
  REQ_POSITIONS_MULTI: fc.record({ reqId: int, account: text, modelCode: text }),
  CANCEL_POSITIONS_MULTI: reqId,
  POSITION_MULTI: fc.record({
    reqId: int,
    account: text,
    contract: contractNoPrimary,
    position: decimal,
    avgCost: dbl,
    modelCode: text,
  }),
  POSITION_MULTI_END: reqId,
  REQ_ACCOUNT_UPDATES_MULTI: fc.record({ reqId: int, account: text, modelCode: text, ledgerAndNLV: bool }),
  CANCEL_ACCOUNT_UPDATES_MULTI: reqId,
  ACCOUNT_UPDATE_MULTI: fc.record({
    reqId: int,
    account: text,
    modelCode: text,
    key: text,
    value: text,
    currency: text,
  }),
  ACCOUNT_UPDATE_MULTI_END: reqId,
  REQ_PNL: fc.record({ reqId: int, account: text, modelCode: text }),
  CANCEL_PNL: reqId,
  PNL: fc.record({ reqId: int, dailyPnL: dbl, unrealizedPnL: optDouble, realizedPnL: optDouble }),
  REQ_PNL_SINGLE: fc.record({ reqId: int, account: text, modelCode: text, conId: nat }),
  CANCEL_PNL_SINGLE: reqId,
  PNL_SINGLE: fc.record({
    reqId: int,
    position: decimal,
    dailyPnL: optDouble,
    unrealizedPnL: optDouble,
    realizedPnL: optDouble,
    value: optDouble,
  }),
  PLACE_ORDER: fc.record({
    orderId: int,
    contract: contractArb,
    secIdType: text,
    secId: text,
    action: fc.constantFrom("BUY", "SELL", "SSHORT"),
    totalQuantity: nat.map(String),
    orderType: fc.constantFrom("MKT", "LMT", "STP", "STP LMT"),
    lmtPrice: optDouble,
    auxPrice: optDouble,
    tif: text,
    ocaGroup: text,
    account: text,
    openClose: text,
    origin: int,
    orderRef: text,
    transmit: bool,
    parentId: nat,
    blockOrder: bool,
    sweepToFill: bool,
    displaySize: int,
    triggerMethod: int,
    outsideRth: bool,
    hidden: bool,
    tail: fc.array(text, { minLength: 1, maxLength: 5 }),
  }),
  CANCEL_ORDER: fc.record({ orderId: int, manualOrderCancelTime: text }),
  REQ_GLOBAL_CANCEL: empty,
  REQ_OPEN_ORDERS: empty,
  REQ_ALL_OPEN_ORDERS: empty,
  REQ_AUTO_OPEN_ORDERS: fc.record({ autoBind: bool }),
  REQ_COMPLETED_ORDERS: fc.record({ apiOnly: bool }),
  REQ_EXECUTIONS: fc.record({
    reqId: int,
    filter: fc.record({
      clientId: int,
      acctCode: text,
      time: text,
      symbol: text,
      secType: text,
      exchange: text,
      side: text,
    }),
  }),
  ORDER_STATUS: fc.record({
    orderId: int,
    status: text,
    filled: decimal,
    remaining: decimal,
    avgFillPrice: dbl,
    permId: int,
    parentId: int,
    lastFillPrice: dbl,
    clientId: int,
    whyHeld: text,
    mktCapPrice: dbl,
  }),
  OPEN_ORDER_END: empty,
  ORDER_BOUND: fc.record({ permId: int, clientId: int, orderId: int }),
  EXECUTION_DATA: fc.record({ reqId: int, execution }),
  EXECUTION_DATA_END: reqId,
  COMMISSION_REPORT: fc.record({
    execId: text,
    commission: dbl,
    currency: text,
    realizedPNL: optDouble,
    yield: optDouble,
    yieldRedemptionDate: optInt,
  }),
  COMPLETED_ORDERS_END: empty,
  OPEN_ORDER: fc.record({
    orderId: int,
    contract: contractNoPrimary,
    action: word,
    totalQuantity: decimal,
    orderType: fc.constantFrom("MKT", "LMT", "STP"),
    lmtPrice: optDouble,
    auxPrice: optDouble,
    tif: text,
    ocaGroup: text,
    account: text,
    openClose: text,
    origin: int,
    orderRef: text,
    clientId: int,
    permId: int,
    outsideRth: bool,
    hidden: bool,
    parentId: int,
    whatIf: bool,
    status: text,
    warningText: text,
    unmodeled,
  }),
  COMPLETED_ORDER: fc.record({
    contract: contractNoPrimary,
    action: word,
    totalQuantity: decimal,
    orderType: fc.constantFrom("MKT", "LMT", "STP"),
    lmtPrice: optDouble,
    auxPrice: optDouble,
    tif: text,
    account: text,
    orderRef: text,
    permId: int,
    status: text,
    filledQuantity: decimal,
    completedTime: text,
    completedStatus: text,
    unmodeled,
  }),
};

/** Fields absent below a version threshold decode to their default there. */
function expectedAt(name: string, msg: unknown, version: number): unknown {
  const o = msg as Record<string, unknown>;
  if (name === "ERR_MSG" && version < 166) return { ...o, advancedOrderRejectJson: "" };
  if (name === "REQ_CONTRACT_DATA" && version < 176) return { ...o, issuerId: "" };
  if (name === "SYMBOL_SAMPLES" && version < 176) {
    const s = o.samples as Record<string, unknown>[];
    return { ...o, samples: s.map((x) => ({ ...x, description: "", issuerId: "" })) };
  }
  if (name === "CONTRACT_DATA" && version < 164) {
    const d = o.details as Record<string, unknown>;
    return {
      ...o,
      details: { ...d, minSize: undefined, sizeIncrement: undefined, suggestedSizeIncrement: undefined },
    };
  }
  if (name === "OPEN_ORDER" || name === "COMPLETED_ORDER") {
    return { ...o, unmodeled: expect.objectContaining(o.unmodeled as object) as unknown };
  }
  if (name === "CANCEL_ORDER" && version < 169) return { ...o, manualOrderCancelTime: "" };
  if (name === "EXECUTION_DATA" && version < 178) {
    const e = o.execution as Record<string, unknown>;
    return { ...o, execution: { ...e, pendingPriceRevision: false } };
  }
  return msg;
}

const versions = fc.integer({ min: MIN_SERVER_VERSION, max: MAX_SERVER_VERSION });

describe("codec round trips", () => {
  it("has an arbitrary for every codec in the catalogue", () => {
    const missing = allCodecs()
      .map((c) => c.name)
      .filter((n) => !(n in ARBS));
    expect(missing).toEqual([]);
  });

  for (const codec of allCodecs()) {
    it(`${codec.direction === "out" ? "→" : "←"} ${codec.name} (${codec.id})`, () => {
      const arb = ARBS[codec.name] as Arb;
      fc.assert(
        fc.property(arb, versions, (msg, v) => {
          const c = codec as MessageCodec<unknown>;
          // Through real bytes, not just field arrays.
          const fields = decodeFields(encodeFields(toFields(c, msg, v)));
          expect(Number(fields[0])).toBe(codec.id);
          expect(fromFields(c, fields, v)).toEqual(expectedAt(codec.name, msg, v));
        }),
        { numRuns: 60 },
      );
    });
  }

  it("writes a plain order at the field counts of the official client (114 / 127 / 96 / 32 at V 178)", () => {
    const c = m.contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" });
    const po = m.placeOrder({
      orderId: 1,
      contract: c,
      action: "BUY",
      totalQuantity: "100",
      orderType: "MKT",
    });
    expect(toFields(m.PLACE_ORDER, po, 178)).toHaveLength(114);
    expect(toFields(m.PLACE_ORDER, po, 157)).toHaveLength(110);
    const fields = toFields(m.PLACE_ORDER, po, 178);
    expect(fields[27]).toBe("1"); // transmit
    expect(fields[28]).toBe("0"); // parentId
  });

  it("carries combo legs for BAG contracts in market data and history requests", () => {
    fc.assert(
      fc.property(contractArb, fc.array(comboLeg, { minLength: 1, maxLength: 4 }), versions, (c, legs, v) => {
        const bag = { ...c, secType: "BAG" };
        const md = {
          tickerId: 7,
          contract: bag,
          comboLegs: legs,
          deltaNeutral: undefined,
          genericTickList: "",
          snapshot: false,
          regulatorySnapshot: false,
          mktDataOptions: "",
        };
        expect(fromFields(m.REQ_MKT_DATA, toFields(m.REQ_MKT_DATA, md, v), v)).toEqual(md);
        const hd = {
          reqId: 9,
          contract: bag,
          includeExpired: false,
          endDateTime: "",
          barSize: "1 min",
          duration: "1 D",
          useRTH: true,
          whatToShow: "TRADES",
          formatDate: 1,
          comboLegs: legs,
          keepUpToDate: false,
          chartOptions: "",
        };
        expect(fromFields(m.REQ_HISTORICAL_DATA, toFields(m.REQ_HISTORICAL_DATA, hd, v), v)).toEqual(hd);
      }),
      { numRuns: 50 },
    );
  });
});
