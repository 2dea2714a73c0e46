/** Contract lookup: contract details, matching symbols, option-chain parameters. */
import { fromFields } from "../../protocol/codec.js";
import { OUT } from "../../protocol/message-ids.js";
import {
  CONTRACT_DATA,
  CONTRACT_DATA_END,
  type ContractDetails,
  REQ_CONTRACT_DATA,
  REQ_MATCHING_SYMBOLS,
  REQ_SEC_DEF_OPT_PARAMS,
  SECURITY_DEFINITION_OPTION_PARAMETER,
  SECURITY_DEFINITION_OPTION_PARAMETER_END,
  SYMBOL_SAMPLES,
} from "../../protocol/messages/contracts.js";
import { formatDay } from "../bars.js";
import type { Instrument } from "../catalogue.js";
import type { Handler } from "../context.js";

const STK_ORDER_TYPES =
  "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,BENCHPX,COND,CONDORDER,DARKONLY,DARKPOLL,DAY,DEACT,DEACTDIS,DEACTEOD,DIS,GAT,GTC,GTD,GTT,HID,IBKRATS,ICE,IMB,IOC,LIT,LMT,LOC,MIDPX,MIT,MKT,MOC,MTL,NGCOMB,NONALGO,OCA,OPG,PEGBENCH,PEGMID,POSTATS,POSTONLY,PREOPGRTH,REL,RPI,RTH,SCALE,SCALERST,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,SWEEP,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF";

/** Contract details as TWS fills them, from a catalogue entry. */
export function detailsOf(inst: Instrument, exchange: string, nowMs: number): ContractDetails {
  const c = inst.contract;
  const day = formatDay(nowMs);
  const derivative = c.secType === "OPT" || c.secType === "FUT";
  return {
    contract: { ...c, exchange: exchange || c.exchange },
    marketName: c.secType === "STK" ? c.tradingClass : c.tradingClass || c.symbol,
    minTick: inst.minTick,
    orderTypes: STK_ORDER_TYPES,
    validExchanges: inst.validExchanges,
    priceMagnifier: 1,
    underConId: inst.underConId,
    longName: inst.longName,
    contractMonth: derivative ? c.lastTradeDateOrContractMonth.slice(0, 6) : "",
    industry: inst.industry,
    category: inst.category,
    subcategory: inst.subcategory,
    timeZoneId: inst.timeZoneId,
    tradingHours: `${day}:0400-${day}:2000`,
    liquidHours: `${day}:0930-${day}:1600`,
    evRule: "",
    // TWS leaves it empty for instruments without an economic-value rule.
    evMultiplier: undefined,
    secIdList: [],
    aggGroup: c.secType === "STK" ? 1 : 2,
    underSymbol: inst.underSymbol,
    underSecType: inst.underSecType,
    // One market rule per valid exchange, in the same order, as TWS lists them.
    marketRuleIds: inst.validExchanges
      .split(",")
      .map(() => (c.secType === "STK" ? "26" : "32"))
      .join(","),
    realExpirationDate: derivative ? c.lastTradeDateOrContractMonth : "",
    stockType: inst.stockType,
    minSize: "1",
    sizeIncrement: "1",
    suggestedSizeIncrement: c.secType === "STK" ? "100" : "1",
  };
}

const contractData: Handler = (ctx, s, fields) => {
  const m = fromFields(REQ_CONTRACT_DATA, fields, s.version);
  const found = ctx.catalogue.match(m.contract);
  if (found.length === 0) {
    ctx.error(s, m.reqId, 200, "No security definition has been found for the request");
    return;
  }
  const exchange = m.contract.exchange.toUpperCase();
  for (const inst of found) {
    s.send(CONTRACT_DATA, { reqId: m.reqId, details: detailsOf(inst, exchange, ctx.wall.now()) });
  }
  s.send(CONTRACT_DATA_END, { reqId: m.reqId });
};

const matchingSymbols: Handler = (ctx, s, fields) => {
  const m = fromFields(REQ_MATCHING_SYMBOLS, fields, s.version);
  const samples = ctx.catalogue.search(m.pattern).map((i) => ({
    conId: i.contract.conId,
    symbol: i.contract.symbol,
    secType: i.contract.secType,
    primaryExchange: i.contract.primaryExchange || i.contract.exchange,
    currency: i.contract.currency,
    derivativeSecTypes: [...i.derivativeSecTypes],
    description: i.longName,
    issuerId: "",
  }));
  s.send(SYMBOL_SAMPLES, { reqId: m.reqId, samples });
};

const secDefOptParams: Handler = (ctx, s, fields) => {
  const m = fromFields(REQ_SEC_DEF_OPT_PARAMS, fields, s.version);
  const chain = ctx.catalogue.chain;
  const underlying = ctx.catalogue.byConId(chain.underConId);
  const matches =
    (m.underlyingConId === chain.underConId || m.underlyingConId === 0) &&
    m.underlyingSymbol.toUpperCase() === underlying?.contract.symbol &&
    (m.underlyingSecType === "" || m.underlyingSecType.toUpperCase() === "STK");
  if (matches) {
    // TWS answers one message per exchange / trading class, then the end.
    for (const exchange of ["SMART", "CBOE", "AMEX"]) {
      s.send(SECURITY_DEFINITION_OPTION_PARAMETER, {
        reqId: m.reqId,
        exchange,
        underlyingConId: chain.underConId,
        tradingClass: "AAPL",
        multiplier: "100",
        expirations: [...chain.expirations],
        strikes: [...chain.strikes],
      });
    }
  }
  s.send(SECURITY_DEFINITION_OPTION_PARAMETER_END, { reqId: m.reqId });
};

export const contractHandlers: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [OUT.REQ_CONTRACT_DATA, contractData],
  [OUT.REQ_MATCHING_SYMBOLS, matchingSymbols],
  [OUT.REQ_SEC_DEF_OPT_PARAMS, secDefOptParams],
]);
