/** Session and connection-level messages. */
import { defineCodec } from "../codec.js";
import { IN, OUT } from "../message-ids.js";
import { V } from "../versions.js";
import { EMPTY, type Empty } from "./common.js";

export interface StartApi {
  clientId: number;
  optionalCapabilities: string;
}
export const START_API = defineCodec<StartApi>({
  id: OUT.START_API,
  name: "START_API",
  direction: "out",
  write: (w, m) => w.int(2).int(m.clientId).str(m.optionalCapabilities),
  read: (r) => {
    r.skip();
    const clientId = r.int();
    return { clientId, optionalCapabilities: r.remaining > 0 ? r.str() : "" };
  },
});

export const REQ_CURRENT_TIME = defineCodec<Empty>({
  id: OUT.REQ_CURRENT_TIME,
  name: "REQ_CURRENT_TIME",
  direction: "out",
  write: (w) => w.int(1),
  read: () => EMPTY,
});

export interface CurrentTime {
  time: number;
}
export const CURRENT_TIME = defineCodec<CurrentTime>({
  id: IN.CURRENT_TIME,
  name: "CURRENT_TIME",
  direction: "in",
  write: (w, m) => w.int(1).int(m.time),
  read: (r) => ({ time: r.skip().int() }),
});

export interface ReqIds {
  numIds: number;
}
export const REQ_IDS = defineCodec<ReqIds>({
  id: OUT.REQ_IDS,
  name: "REQ_IDS",
  direction: "out",
  write: (w, m) => w.int(1).int(m.numIds),
  read: (r) => ({ numIds: r.skip().int() }),
});

export interface NextValidId {
  orderId: number;
}
export const NEXT_VALID_ID = defineCodec<NextValidId>({
  id: IN.NEXT_VALID_ID,
  name: "NEXT_VALID_ID",
  direction: "in",
  write: (w, m) => w.int(1).int(m.orderId),
  read: (r) => ({ orderId: r.skip().int() }),
});

export const REQ_MANAGED_ACCTS = defineCodec<Empty>({
  id: OUT.REQ_MANAGED_ACCTS,
  name: "REQ_MANAGED_ACCTS",
  direction: "out",
  write: (w) => w.int(1),
  read: () => EMPTY,
});

export interface ManagedAccts {
  accounts: string[];
}
export const MANAGED_ACCTS = defineCodec<ManagedAccts>({
  id: IN.MANAGED_ACCTS,
  name: "MANAGED_ACCTS",
  direction: "in",
  write: (w, m) => w.int(1).str(m.accounts.join(",")),
  read: (r) => ({
    accounts: r
      .skip()
      .str()
      .split(",")
      .map((a) => a.trim())
      .filter((a) => a.length > 0),
  }),
});

export interface ErrMsg {
  /** reqId, tickerId or orderId; -1 for connection-level notices. */
  id: number;
  code: number;
  message: string;
  advancedOrderRejectJson: string;
}
export const ERR_MSG = defineCodec<ErrMsg>({
  id: IN.ERR_MSG,
  name: "ERR_MSG",
  direction: "in",
  write: (w, m, v) => {
    w.int(2).int(m.id).int(m.code).str(m.message);
    if (v >= V.ADVANCED_ORDER_REJECT) w.str(m.advancedOrderRejectJson);
  },
  read: (r, v) => {
    r.skip();
    const id = r.int();
    const code = r.int();
    const message = r.str();
    const advancedOrderRejectJson = v >= V.ADVANCED_ORDER_REJECT ? r.str() : "";
    return { id, code, message, advancedOrderRejectJson };
  },
});

export interface ReqMarketDataType {
  marketDataType: number;
}
export const REQ_MARKET_DATA_TYPE = defineCodec<ReqMarketDataType>({
  id: OUT.REQ_MARKET_DATA_TYPE,
  name: "REQ_MARKET_DATA_TYPE",
  direction: "out",
  write: (w, m) => w.int(1).int(m.marketDataType),
  read: (r) => ({ marketDataType: r.skip().int() }),
});

export interface MarketDataType {
  reqId: number;
  marketDataType: number;
}
export const MARKET_DATA_TYPE = defineCodec<MarketDataType>({
  id: IN.MARKET_DATA_TYPE,
  name: "MARKET_DATA_TYPE",
  direction: "in",
  write: (w, m) => w.int(1).int(m.reqId).int(m.marketDataType),
  read: (r) => ({ reqId: r.skip().int(), marketDataType: r.int() }),
});
