/** Account and portfolio: positions, account summary, account updates, PnL. */
import { defineCodec } from "../codec.js";
import { IN, OUT } from "../message-ids.js";
import { EMPTY, type Empty, type ReqIdOnly } from "./common.js";
import { type Contract, contract, readContractNoPrimary, writeContractNoPrimary } from "./contract.js";

export const REQ_POSITIONS = defineCodec<Empty>({
  id: OUT.REQ_POSITIONS,
  name: "REQ_POSITIONS",
  direction: "out",
  write: (w) => w.int(1),
  read: () => EMPTY,
});

export const CANCEL_POSITIONS = defineCodec<Empty>({
  id: OUT.CANCEL_POSITIONS,
  name: "CANCEL_POSITIONS",
  direction: "out",
  write: (w) => w.int(1),
  read: () => EMPTY,
});

export interface PositionData {
  account: string;
  contract: Contract;
  position: string | undefined;
  avgCost: number;
}
export const POSITION_DATA = defineCodec<PositionData>({
  id: IN.POSITION_DATA,
  name: "POSITION_DATA",
  direction: "in",
  write: (w, m) => {
    w.int(3).str(m.account);
    writeContractNoPrimary(w, m.contract, "java");
    w.decimal(m.position).float(m.avgCost);
  },
  read: (r) => {
    r.skip();
    const account = r.str();
    const c = readContractNoPrimary(r);
    return { account, contract: c, position: r.decimal(), avgCost: r.float() };
  },
});

export const POSITION_END = defineCodec<Empty>({
  id: IN.POSITION_END,
  name: "POSITION_END",
  direction: "in",
  write: (w) => w.int(1),
  read: (r) => (r.skip(), EMPTY),
});

export interface ReqAccountSummary {
  reqId: number;
  group: string;
  tags: string;
}
export const REQ_ACCOUNT_SUMMARY = defineCodec<ReqAccountSummary>({
  id: OUT.REQ_ACCOUNT_SUMMARY,
  name: "REQ_ACCOUNT_SUMMARY",
  direction: "out",
  write: (w, m) => w.int(1).int(m.reqId).str(m.group).str(m.tags),
  read: (r) => ({ reqId: r.skip().int(), group: r.str(), tags: r.str() }),
});

export const CANCEL_ACCOUNT_SUMMARY = defineCodec<ReqIdOnly>({
  id: OUT.CANCEL_ACCOUNT_SUMMARY,
  name: "CANCEL_ACCOUNT_SUMMARY",
  direction: "out",
  write: (w, m) => w.int(1).int(m.reqId),
  read: (r) => ({ reqId: r.skip().int() }),
});

export interface AccountSummary {
  reqId: number;
  account: string;
  tag: string;
  value: string;
  currency: string;
}
export const ACCOUNT_SUMMARY = defineCodec<AccountSummary>({
  id: IN.ACCOUNT_SUMMARY,
  name: "ACCOUNT_SUMMARY",
  direction: "in",
  write: (w, m) => w.int(1).int(m.reqId).str(m.account).str(m.tag).str(m.value).str(m.currency),
  read: (r) => ({ reqId: r.skip().int(), account: r.str(), tag: r.str(), value: r.str(), currency: r.str() }),
});

export const ACCOUNT_SUMMARY_END = defineCodec<ReqIdOnly>({
  id: IN.ACCOUNT_SUMMARY_END,
  name: "ACCOUNT_SUMMARY_END",
  direction: "in",
  write: (w, m) => w.int(1).int(m.reqId),
  read: (r) => ({ reqId: r.skip().int() }),
});

export interface ReqAccountData {
  subscribe: boolean;
  account: string;
}
export const REQ_ACCOUNT_DATA = defineCodec<ReqAccountData>({
  id: OUT.REQ_ACCOUNT_DATA,
  name: "REQ_ACCOUNT_DATA",
  direction: "out",
  write: (w, m) => w.int(2).bool(m.subscribe).str(m.account),
  read: (r) => ({ subscribe: r.skip().bool(), account: r.str() }),
});

export interface AcctValue {
  key: string;
  value: string;
  currency: string;
  account: string;
}
export const ACCT_VALUE = defineCodec<AcctValue>({
  id: IN.ACCT_VALUE,
  name: "ACCT_VALUE",
  direction: "in",
  write: (w, m) => w.int(2).str(m.key).str(m.value).str(m.currency).str(m.account),
  read: (r) => ({ key: r.skip().str(), value: r.str(), currency: r.str(), account: r.str() }),
});

export interface PortfolioValue {
  contract: Contract;
  position: string | undefined;
  marketPrice: number;
  marketValue: number;
  averageCost: number;
  unrealizedPNL: number;
  realizedPNL: number;
  account: string;
}
export const PORTFOLIO_VALUE = defineCodec<PortfolioValue>({
  id: IN.PORTFOLIO_VALUE,
  name: "PORTFOLIO_VALUE",
  direction: "in",
  write: (w, m) => {
    const c = m.contract;
    w.int(8)
      .int(c.conId)
      .str(c.symbol)
      .str(c.secType)
      .str(c.lastTradeDateOrContractMonth)
      .float(c.strike)
      .str(c.right)
      .str(c.multiplier)
      .str(c.primaryExchange)
      .str(c.currency)
      .str(c.localSymbol)
      .str(c.tradingClass)
      .decimal(m.position)
      .float(m.marketPrice)
      .float(m.marketValue)
      .float(m.averageCost)
      .float(m.unrealizedPNL)
      .float(m.realizedPNL)
      .str(m.account);
  },
  read: (r) => {
    r.skip();
    const c = contract({
      conId: r.int(),
      symbol: r.str(),
      secType: r.str(),
      lastTradeDateOrContractMonth: r.str(),
      strike: r.float(),
      right: r.str(),
      multiplier: r.str(),
      primaryExchange: r.str(),
      currency: r.str(),
      localSymbol: r.str(),
      tradingClass: r.str(),
    });
    return {
      contract: c,
      position: r.decimal(),
      marketPrice: r.float(),
      marketValue: r.float(),
      averageCost: r.float(),
      unrealizedPNL: r.float(),
      realizedPNL: r.float(),
      account: r.str(),
    };
  },
});

export interface AcctUpdateTime {
  time: string;
}
export const ACCT_UPDATE_TIME = defineCodec<AcctUpdateTime>({
  id: IN.ACCT_UPDATE_TIME,
  name: "ACCT_UPDATE_TIME",
  direction: "in",
  write: (w, m) => w.int(1).str(m.time),
  read: (r) => ({ time: r.skip().str() }),
});

export interface AcctDownloadEnd {
  account: string;
}
export const ACCT_DOWNLOAD_END = defineCodec<AcctDownloadEnd>({
  id: IN.ACCT_DOWNLOAD_END,
  name: "ACCT_DOWNLOAD_END",
  direction: "in",
  write: (w, m) => w.int(1).str(m.account),
  read: (r) => ({ account: r.skip().str() }),
});

export interface ReqPositionsMulti {
  reqId: number;
  account: string;
  modelCode: string;
}
export const REQ_POSITIONS_MULTI = defineCodec<ReqPositionsMulti>({
  id: OUT.REQ_POSITIONS_MULTI,
  name: "REQ_POSITIONS_MULTI",
  direction: "out",
  write: (w, m) => w.int(1).int(m.reqId).str(m.account).str(m.modelCode),
  read: (r) => ({ reqId: r.skip().int(), account: r.str(), modelCode: r.str() }),
});

export const CANCEL_POSITIONS_MULTI = defineCodec<ReqIdOnly>({
  id: OUT.CANCEL_POSITIONS_MULTI,
  name: "CANCEL_POSITIONS_MULTI",
  direction: "out",
  write: (w, m) => w.int(1).int(m.reqId),
  read: (r) => ({ reqId: r.skip().int() }),
});

export interface PositionMulti {
  reqId: number;
  account: string;
  contract: Contract;
  position: string | undefined;
  avgCost: number;
  modelCode: string;
}
export const POSITION_MULTI = defineCodec<PositionMulti>({
  id: IN.POSITION_MULTI,
  name: "POSITION_MULTI",
  direction: "in",
  write: (w, m) => {
    w.int(1).int(m.reqId).str(m.account);
    writeContractNoPrimary(w, m.contract);
    w.decimal(m.position).float(m.avgCost).str(m.modelCode);
  },
  read: (r) => {
    const reqId = r.skip().int();
    const account = r.str();
    const c = readContractNoPrimary(r);
    return { reqId, account, contract: c, position: r.decimal(), avgCost: r.float(), modelCode: r.str() };
  },
});

export const POSITION_MULTI_END = defineCodec<ReqIdOnly>({
  id: IN.POSITION_MULTI_END,
  name: "POSITION_MULTI_END",
  direction: "in",
  write: (w, m) => w.int(1).int(m.reqId),
  read: (r) => ({ reqId: r.skip().int() }),
});

export interface ReqAccountUpdatesMulti {
  reqId: number;
  account: string;
  modelCode: string;
  ledgerAndNLV: boolean;
}
export const REQ_ACCOUNT_UPDATES_MULTI = defineCodec<ReqAccountUpdatesMulti>({
  id: OUT.REQ_ACCOUNT_UPDATES_MULTI,
  name: "REQ_ACCOUNT_UPDATES_MULTI",
  direction: "out",
  write: (w, m) => w.int(1).int(m.reqId).str(m.account).str(m.modelCode).bool(m.ledgerAndNLV),
  read: (r) => ({ reqId: r.skip().int(), account: r.str(), modelCode: r.str(), ledgerAndNLV: r.bool() }),
});

export const CANCEL_ACCOUNT_UPDATES_MULTI = defineCodec<ReqIdOnly>({
  id: OUT.CANCEL_ACCOUNT_UPDATES_MULTI,
  name: "CANCEL_ACCOUNT_UPDATES_MULTI",
  direction: "out",
  write: (w, m) => w.int(1).int(m.reqId),
  read: (r) => ({ reqId: r.skip().int() }),
});

export interface AccountUpdateMulti {
  reqId: number;
  account: string;
  modelCode: string;
  key: string;
  value: string;
  currency: string;
}
export const ACCOUNT_UPDATE_MULTI = defineCodec<AccountUpdateMulti>({
  id: IN.ACCOUNT_UPDATE_MULTI,
  name: "ACCOUNT_UPDATE_MULTI",
  direction: "in",
  write: (w, m) =>
    w.int(1).int(m.reqId).str(m.account).str(m.modelCode).str(m.key).str(m.value).str(m.currency),
  read: (r) => ({
    reqId: r.skip().int(),
    account: r.str(),
    modelCode: r.str(),
    key: r.str(),
    value: r.str(),
    currency: r.str(),
  }),
});

export const ACCOUNT_UPDATE_MULTI_END = defineCodec<ReqIdOnly>({
  id: IN.ACCOUNT_UPDATE_MULTI_END,
  name: "ACCOUNT_UPDATE_MULTI_END",
  direction: "in",
  write: (w, m) => w.int(1).int(m.reqId),
  read: (r) => ({ reqId: r.skip().int() }),
});

export interface ReqPnl {
  reqId: number;
  account: string;
  modelCode: string;
}
export const REQ_PNL = defineCodec<ReqPnl>({
  id: OUT.REQ_PNL,
  name: "REQ_PNL",
  direction: "out",
  write: (w, m) => w.int(m.reqId).str(m.account).str(m.modelCode),
  read: (r) => ({ reqId: r.int(), account: r.str(), modelCode: r.str() }),
});

export const CANCEL_PNL = defineCodec<ReqIdOnly>({
  id: OUT.CANCEL_PNL,
  name: "CANCEL_PNL",
  direction: "out",
  write: (w, m) => w.int(m.reqId),
  read: (r) => ({ reqId: r.int() }),
});

export interface Pnl {
  reqId: number;
  dailyPnL: number;
  unrealizedPnL: number | undefined;
  realizedPnL: number | undefined;
}
export const PNL = defineCodec<Pnl>({
  id: IN.PNL,
  name: "PNL",
  direction: "in",
  write: (w, m) => w.int(m.reqId).float(m.dailyPnL).floatMax(m.unrealizedPnL).floatMax(m.realizedPnL),
  read: (r) => ({
    reqId: r.int(),
    dailyPnL: r.float(),
    unrealizedPnL: r.floatMax(),
    realizedPnL: r.floatMax(),
  }),
});

export interface ReqPnlSingle {
  reqId: number;
  account: string;
  modelCode: string;
  conId: number;
}
export const REQ_PNL_SINGLE = defineCodec<ReqPnlSingle>({
  id: OUT.REQ_PNL_SINGLE,
  name: "REQ_PNL_SINGLE",
  direction: "out",
  write: (w, m) => w.int(m.reqId).str(m.account).str(m.modelCode).int(m.conId),
  read: (r) => ({ reqId: r.int(), account: r.str(), modelCode: r.str(), conId: r.int() }),
});

export const CANCEL_PNL_SINGLE = defineCodec<ReqIdOnly>({
  id: OUT.CANCEL_PNL_SINGLE,
  name: "CANCEL_PNL_SINGLE",
  direction: "out",
  write: (w, m) => w.int(m.reqId),
  read: (r) => ({ reqId: r.int() }),
});

export interface PnlSingle {
  reqId: number;
  position: string | undefined;
  dailyPnL: number | undefined;
  unrealizedPnL: number | undefined;
  realizedPnL: number | undefined;
  value: number | undefined;
}
export const PNL_SINGLE = defineCodec<PnlSingle>({
  id: IN.PNL_SINGLE,
  name: "PNL_SINGLE",
  direction: "in",
  write: (w, m) =>
    w
      .int(m.reqId)
      .decimal(m.position)
      .floatMax(m.dailyPnL)
      .floatMax(m.unrealizedPnL)
      .floatMax(m.realizedPnL)
      .floatMax(m.value),
  read: (r) => ({
    reqId: r.int(),
    position: r.decimal(),
    dailyPnL: r.floatMax(),
    unrealizedPnL: r.floatMax(),
    realizedPnL: r.floatMax(),
    value: r.floatMax(),
  }),
});
