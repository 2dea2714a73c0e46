/** Contract lookup: contract details, matching symbols, option-chain parameters. */
import { defineCodec } from "../codec.js";
import { IN, OUT } from "../message-ids.js";
import { V } from "../versions.js";
import type { ReqIdOnly } from "./common.js";
import { type Contract, readContract, writeContract } from "./contract.js";

export interface ReqContractData {
  reqId: number;
  contract: Contract;
  includeExpired: boolean;
  secIdType: string;
  secId: string;
  issuerId: string;
}
export const REQ_CONTRACT_DATA = defineCodec<ReqContractData>({
  id: OUT.REQ_CONTRACT_DATA,
  name: "REQ_CONTRACT_DATA",
  direction: "out",
  write: (w, m, v) => {
    w.int(8).int(m.reqId);
    writeContract(w, m.contract);
    w.bool(m.includeExpired).str(m.secIdType).str(m.secId);
    if (v >= V.BOND_ISSUERID) w.str(m.issuerId);
  },
  read: (r, v) => {
    r.skip();
    const reqId = r.int();
    const contract = readContract(r);
    const includeExpired = r.bool();
    const secIdType = r.str();
    const secId = r.str();
    const issuerId = v >= V.BOND_ISSUERID && r.remaining > 0 ? r.str() : "";
    return { reqId, contract, includeExpired, secIdType, secId, issuerId };
  },
});

export interface ContractDetails {
  contract: Contract;
  marketName: string;
  minTick: number;
  orderTypes: string;
  validExchanges: string;
  priceMagnifier: number;
  underConId: number;
  longName: string;
  contractMonth: string;
  industry: string;
  category: string;
  subcategory: string;
  timeZoneId: string;
  tradingHours: string;
  liquidHours: string;
  evRule: string;
  /** Unset (TWS sends an empty field) for instruments without an economic-value rule. */
  evMultiplier: number | undefined;
  secIdList: { tag: string; value: string }[];
  aggGroup: number;
  underSymbol: string;
  underSecType: string;
  marketRuleIds: string;
  realExpirationDate: string;
  stockType: string;
  minSize: string | undefined;
  sizeIncrement: string | undefined;
  suggestedSizeIncrement: string | undefined;
}

export interface ContractData {
  reqId: number;
  details: ContractDetails;
}

export const CONTRACT_DATA = defineCodec<ContractData>({
  id: IN.CONTRACT_DATA,
  name: "CONTRACT_DATA",
  direction: "in",
  write: (w, { reqId, details: d }, v) => {
    const c = d.contract;
    if (v < V.SIZE_RULES) w.int(8);
    w.int(reqId)
      .str(c.symbol)
      .str(c.secType)
      .str(c.lastTradeDateOrContractMonth)
      .float(c.strike)
      .str(c.right)
      .str(c.exchange)
      .str(c.currency)
      .str(c.localSymbol)
      .str(d.marketName)
      .str(c.tradingClass)
      .int(c.conId)
      .float(d.minTick);
    if (v < V.SIZE_RULES) w.int(1); // mdSizeMultiplier, retired at SIZE_RULES
    w.str(c.multiplier)
      .str(d.orderTypes)
      .str(d.validExchanges)
      .int(d.priceMagnifier)
      .int(d.underConId)
      .str(d.longName)
      .str(c.primaryExchange)
      .str(d.contractMonth)
      .str(d.industry)
      .str(d.category)
      .str(d.subcategory)
      .str(d.timeZoneId)
      .str(d.tradingHours)
      .str(d.liquidHours)
      .str(d.evRule)
      .floatMax(d.evMultiplier)
      .int(d.secIdList.length);
    for (const t of d.secIdList) w.str(t.tag).str(t.value);
    w.int(d.aggGroup)
      .str(d.underSymbol)
      .str(d.underSecType)
      .str(d.marketRuleIds)
      .str(d.realExpirationDate)
      .str(d.stockType);
    if (v >= V.SIZE_RULES) w.decimal(d.minSize).decimal(d.sizeIncrement).decimal(d.suggestedSizeIncrement);
  },
  read: (r, v) => {
    if (v < V.SIZE_RULES) r.skip();
    const reqId = r.int();
    const symbol = r.str();
    const secType = r.str();
    const lastTradeDateOrContractMonth = r.str();
    const strike = r.float();
    const right = r.str();
    const exchange = r.str();
    const currency = r.str();
    const localSymbol = r.str();
    const marketName = r.str();
    const tradingClass = r.str();
    const conId = r.int();
    const minTick = r.float();
    if (v < V.SIZE_RULES) r.skip();
    const multiplier = r.str();
    const orderTypes = r.str();
    const validExchanges = r.str();
    const priceMagnifier = r.int();
    const underConId = r.int();
    const longName = r.str();
    const primaryExchange = r.str();
    const contractMonth = r.str();
    const industry = r.str();
    const category = r.str();
    const subcategory = r.str();
    const timeZoneId = r.str();
    const tradingHours = r.str();
    const liquidHours = r.str();
    const evRule = r.str();
    const evMultiplier = r.floatMax();
    const n = r.int();
    const secIdList: { tag: string; value: string }[] = [];
    for (let i = 0; i < n; i++) secIdList.push({ tag: r.str(), value: r.str() });
    const aggGroup = r.int();
    const underSymbol = r.str();
    const underSecType = r.str();
    const marketRuleIds = r.str();
    const realExpirationDate = r.str();
    const stockType = r.str();
    let minSize: string | undefined;
    let sizeIncrement: string | undefined;
    let suggestedSizeIncrement: string | undefined;
    if (v >= V.SIZE_RULES) {
      minSize = r.decimal();
      sizeIncrement = r.decimal();
      suggestedSizeIncrement = r.decimal();
    }
    return {
      reqId,
      details: {
        contract: {
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
        },
        marketName,
        minTick,
        orderTypes,
        validExchanges,
        priceMagnifier,
        underConId,
        longName,
        contractMonth,
        industry,
        category,
        subcategory,
        timeZoneId,
        tradingHours,
        liquidHours,
        evRule,
        evMultiplier,
        secIdList,
        aggGroup,
        underSymbol,
        underSecType,
        marketRuleIds,
        realExpirationDate,
        stockType,
        minSize,
        sizeIncrement,
        suggestedSizeIncrement,
      },
    };
  },
});

export const CONTRACT_DATA_END = defineCodec<ReqIdOnly>({
  id: IN.CONTRACT_DATA_END,
  name: "CONTRACT_DATA_END",
  direction: "in",
  write: (w, m) => w.int(1).int(m.reqId),
  read: (r) => ({ reqId: r.skip().int() }),
});

export interface ReqMatchingSymbols {
  reqId: number;
  pattern: string;
}
export const REQ_MATCHING_SYMBOLS = defineCodec<ReqMatchingSymbols>({
  id: OUT.REQ_MATCHING_SYMBOLS,
  name: "REQ_MATCHING_SYMBOLS",
  direction: "out",
  write: (w, m) => w.int(m.reqId).str(m.pattern),
  read: (r) => ({ reqId: r.int(), pattern: r.str() }),
});

export interface SymbolSample {
  conId: number;
  symbol: string;
  secType: string;
  primaryExchange: string;
  currency: string;
  derivativeSecTypes: string[];
  description: string;
  issuerId: string;
}
export interface SymbolSamples {
  reqId: number;
  samples: SymbolSample[];
}
export const SYMBOL_SAMPLES = defineCodec<SymbolSamples>({
  id: IN.SYMBOL_SAMPLES,
  name: "SYMBOL_SAMPLES",
  direction: "in",
  write: (w, m, v) => {
    w.int(m.reqId).int(m.samples.length);
    for (const s of m.samples) {
      w.int(s.conId).str(s.symbol).str(s.secType).str(s.primaryExchange).str(s.currency);
      w.int(s.derivativeSecTypes.length).raw(s.derivativeSecTypes);
      if (v >= V.BOND_ISSUERID) w.str(s.description).str(s.issuerId);
    }
  },
  read: (r, v) => {
    const reqId = r.int();
    const n = r.int();
    const samples: SymbolSample[] = [];
    for (let i = 0; i < n; i++) {
      const conId = r.int();
      const symbol = r.str();
      const secType = r.str();
      const primaryExchange = r.str();
      const currency = r.str();
      const dn = r.int();
      const derivativeSecTypes: string[] = [];
      for (let j = 0; j < dn; j++) derivativeSecTypes.push(r.str());
      const description = v >= V.BOND_ISSUERID ? r.str() : "";
      const issuerId = v >= V.BOND_ISSUERID ? r.str() : "";
      samples.push({
        conId,
        symbol,
        secType,
        primaryExchange,
        currency,
        derivativeSecTypes,
        description,
        issuerId,
      });
    }
    return { reqId, samples };
  },
});

export interface ReqSecDefOptParams {
  reqId: number;
  underlyingSymbol: string;
  futFopExchange: string;
  underlyingSecType: string;
  underlyingConId: number;
}
export const REQ_SEC_DEF_OPT_PARAMS = defineCodec<ReqSecDefOptParams>({
  id: OUT.REQ_SEC_DEF_OPT_PARAMS,
  name: "REQ_SEC_DEF_OPT_PARAMS",
  direction: "out",
  write: (w, m) =>
    w
      .int(m.reqId)
      .str(m.underlyingSymbol)
      .str(m.futFopExchange)
      .str(m.underlyingSecType)
      .int(m.underlyingConId),
  read: (r) => ({
    reqId: r.int(),
    underlyingSymbol: r.str(),
    futFopExchange: r.str(),
    underlyingSecType: r.str(),
    underlyingConId: r.int(),
  }),
});

export interface SecDefOptParameter {
  reqId: number;
  exchange: string;
  underlyingConId: number;
  tradingClass: string;
  multiplier: string;
  expirations: string[];
  strikes: number[];
}
export const SECURITY_DEFINITION_OPTION_PARAMETER = defineCodec<SecDefOptParameter>({
  id: IN.SECURITY_DEFINITION_OPTION_PARAMETER,
  name: "SECURITY_DEFINITION_OPTION_PARAMETER",
  direction: "in",
  write: (w, m) => {
    w.int(m.reqId).str(m.exchange).int(m.underlyingConId).str(m.tradingClass).str(m.multiplier);
    w.int(m.expirations.length).raw(m.expirations);
    w.int(m.strikes.length);
    for (const s of m.strikes) w.float(s);
  },
  read: (r) => {
    const reqId = r.int();
    const exchange = r.str();
    const underlyingConId = r.int();
    const tradingClass = r.str();
    const multiplier = r.str();
    const ne = r.int();
    const expirations: string[] = [];
    for (let i = 0; i < ne; i++) expirations.push(r.str());
    const ns = r.int();
    const strikes: number[] = [];
    for (let i = 0; i < ns; i++) strikes.push(r.float());
    return { reqId, exchange, underlyingConId, tradingClass, multiplier, expirations, strikes };
  },
});

export const SECURITY_DEFINITION_OPTION_PARAMETER_END = defineCodec<ReqIdOnly>({
  id: IN.SECURITY_DEFINITION_OPTION_PARAMETER_END,
  name: "SECURITY_DEFINITION_OPTION_PARAMETER_END",
  direction: "in",
  write: (w, m) => w.int(m.reqId),
  read: (r) => ({ reqId: r.int() }),
});
