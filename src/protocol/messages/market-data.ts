/** Streaming market data: top of book, depth, tick-by-tick. */
import { defineCodec } from "../codec.js";
import { IN, OUT } from "../message-ids.js";
import type { ReqIdOnly, TickerIdOnly } from "./common.js";
import {
  type ComboLeg,
  type Contract,
  readComboLegs,
  readContract,
  writeComboLegs,
  writeContract,
} from "./contract.js";

export interface DeltaNeutral {
  conId: number;
  delta: number;
  price: number;
}

export interface ReqMktData {
  tickerId: number;
  contract: Contract;
  /** Only for secType BAG. */
  comboLegs: ComboLeg[];
  deltaNeutral: DeltaNeutral | undefined;
  genericTickList: string;
  snapshot: boolean;
  regulatorySnapshot: boolean;
  mktDataOptions: string;
}
export const REQ_MKT_DATA = defineCodec<ReqMktData>({
  id: OUT.REQ_MKT_DATA,
  name: "REQ_MKT_DATA",
  direction: "out",
  write: (w, m) => {
    w.int(11).int(m.tickerId);
    writeContract(w, m.contract);
    writeComboLegs(w, m.contract, m.comboLegs);
    if (m.deltaNeutral)
      w.bool(true).int(m.deltaNeutral.conId).float(m.deltaNeutral.delta).float(m.deltaNeutral.price);
    else w.bool(false);
    w.str(m.genericTickList).bool(m.snapshot).bool(m.regulatorySnapshot).str(m.mktDataOptions);
  },
  read: (r) => {
    r.skip();
    const tickerId = r.int();
    const contract = readContract(r);
    const comboLegs = readComboLegs(r, contract);
    const deltaNeutral = r.bool() ? { conId: r.int(), delta: r.float(), price: r.float() } : undefined;
    const genericTickList = r.str();
    const snapshot = r.bool();
    const regulatorySnapshot = r.bool();
    const mktDataOptions = r.remaining > 0 ? r.str() : "";
    return {
      tickerId,
      contract,
      comboLegs,
      deltaNeutral,
      genericTickList,
      snapshot,
      regulatorySnapshot,
      mktDataOptions,
    };
  },
});

export const CANCEL_MKT_DATA = defineCodec<TickerIdOnly>({
  id: OUT.CANCEL_MKT_DATA,
  name: "CANCEL_MKT_DATA",
  direction: "out",
  write: (w, m) => w.int(2).int(m.tickerId),
  read: (r) => ({ tickerId: r.skip().int() }),
});

/** Sent at the start of a stream (V >= 124 is below our range, so always present). */
export interface TickReqParams {
  tickerId: number;
  minTick: number;
  bboExchange: string;
  snapshotPermissions: number;
}
export const TICK_REQ_PARAMS = defineCodec<TickReqParams>({
  id: IN.TICK_REQ_PARAMS,
  name: "TICK_REQ_PARAMS",
  direction: "in",
  write: (w, m) => w.int(m.tickerId).float(m.minTick).str(m.bboExchange).int(m.snapshotPermissions),
  read: (r) => ({
    tickerId: r.int(),
    minTick: r.float(),
    bboExchange: r.str(),
    snapshotPermissions: r.int(),
  }),
});

export interface TickPrice {
  tickerId: number;
  tickType: number;
  price: number;
  size: string | undefined;
  /** Bit 1 canAutoExecute, 2 pastLimit, 4 preOpen. */
  attrMask: number;
}
export const TICK_PRICE = defineCodec<TickPrice>({
  id: IN.TICK_PRICE,
  name: "TICK_PRICE",
  direction: "in",
  // Version 6: decoders need >= 2 for size and >= 3 for the attribute mask.
  write: (w, m) => w.int(6).int(m.tickerId).int(m.tickType).float(m.price).decimal(m.size).int(m.attrMask),
  read: (r) => ({
    tickerId: r.skip().int(),
    tickType: r.int(),
    price: r.float(),
    size: r.decimal(),
    attrMask: r.int(),
  }),
});

export interface TickSize {
  tickerId: number;
  tickType: number;
  size: string | undefined;
}
export const TICK_SIZE = defineCodec<TickSize>({
  id: IN.TICK_SIZE,
  name: "TICK_SIZE",
  direction: "in",
  write: (w, m) => w.int(6).int(m.tickerId).int(m.tickType).decimal(m.size),
  read: (r) => ({ tickerId: r.skip().int(), tickType: r.int(), size: r.decimal() }),
});

export interface TickString {
  tickerId: number;
  tickType: number;
  value: string;
}
export const TICK_STRING = defineCodec<TickString>({
  id: IN.TICK_STRING,
  name: "TICK_STRING",
  direction: "in",
  write: (w, m) => w.int(6).int(m.tickerId).int(m.tickType).str(m.value),
  read: (r) => ({ tickerId: r.skip().int(), tickType: r.int(), value: r.str() }),
});

export interface TickGeneric {
  tickerId: number;
  tickType: number;
  value: number;
}
export const TICK_GENERIC = defineCodec<TickGeneric>({
  id: IN.TICK_GENERIC,
  name: "TICK_GENERIC",
  direction: "in",
  write: (w, m) => w.int(6).int(m.tickerId).int(m.tickType).float(m.value),
  read: (r) => ({ tickerId: r.skip().int(), tickType: r.int(), value: r.float() }),
});

/** V >= 156 (always in our range): no version field, tickAttrib present. -1/-2 mean "not computed". */
export interface TickOptionComputation {
  tickerId: number;
  tickType: number;
  tickAttrib: number;
  impliedVol: number;
  delta: number;
  optPrice: number;
  pvDividend: number;
  gamma: number;
  vega: number;
  theta: number;
  undPrice: number;
}
export const TICK_OPTION_COMPUTATION = defineCodec<TickOptionComputation>({
  id: IN.TICK_OPTION_COMPUTATION,
  name: "TICK_OPTION_COMPUTATION",
  direction: "in",
  write: (w, m) =>
    w
      .int(m.tickerId)
      .int(m.tickType)
      .int(m.tickAttrib)
      .float(m.impliedVol)
      .float(m.delta)
      .float(m.optPrice)
      .float(m.pvDividend)
      .float(m.gamma)
      .float(m.vega)
      .float(m.theta)
      .float(m.undPrice),
  read: (r) => ({
    tickerId: r.int(),
    tickType: r.int(),
    tickAttrib: r.int(),
    impliedVol: r.float(),
    delta: r.float(),
    optPrice: r.float(),
    pvDividend: r.float(),
    gamma: r.float(),
    vega: r.float(),
    theta: r.float(),
    undPrice: r.float(),
  }),
});

export const TICK_SNAPSHOT_END = defineCodec<TickerIdOnly>({
  id: IN.TICK_SNAPSHOT_END,
  name: "TICK_SNAPSHOT_END",
  direction: "in",
  write: (w, m) => w.int(1).int(m.tickerId),
  read: (r) => ({ tickerId: r.skip().int() }),
});

export interface ReqMktDepth {
  tickerId: number;
  contract: Contract;
  numRows: number;
  isSmartDepth: boolean;
  mktDepthOptions: string;
}
export const REQ_MKT_DEPTH = defineCodec<ReqMktDepth>({
  id: OUT.REQ_MKT_DEPTH,
  name: "REQ_MKT_DEPTH",
  direction: "out",
  write: (w, m) => {
    w.int(5).int(m.tickerId);
    writeContract(w, m.contract);
    w.int(m.numRows).bool(m.isSmartDepth).str(m.mktDepthOptions);
  },
  read: (r) => {
    r.skip();
    const tickerId = r.int();
    const contract = readContract(r);
    return { tickerId, contract, numRows: r.int(), isSmartDepth: r.bool(), mktDepthOptions: r.str() };
  },
});

export interface CancelMktDepth {
  tickerId: number;
  isSmartDepth: boolean;
}
export const CANCEL_MKT_DEPTH = defineCodec<CancelMktDepth>({
  id: OUT.CANCEL_MKT_DEPTH,
  name: "CANCEL_MKT_DEPTH",
  direction: "out",
  write: (w, m) => w.int(1).int(m.tickerId).bool(m.isSmartDepth),
  read: (r) => ({ tickerId: r.skip().int(), isSmartDepth: r.remaining > 0 ? r.bool() : false }),
});

export interface MarketDepth {
  tickerId: number;
  position: number;
  operation: number;
  side: number;
  price: number;
  size: string | undefined;
}
export const MARKET_DEPTH = defineCodec<MarketDepth>({
  id: IN.MARKET_DEPTH,
  name: "MARKET_DEPTH",
  direction: "in",
  write: (w, m) =>
    w.int(1).int(m.tickerId).int(m.position).int(m.operation).int(m.side).float(m.price).decimal(m.size),
  read: (r) => ({
    tickerId: r.skip().int(),
    position: r.int(),
    operation: r.int(),
    side: r.int(),
    price: r.float(),
    size: r.decimal(),
  }),
});

export interface MarketDepthL2 extends MarketDepth {
  marketMaker: string;
  isSmartDepth: boolean;
}
export const MARKET_DEPTH_L2 = defineCodec<MarketDepthL2>({
  id: IN.MARKET_DEPTH_L2,
  name: "MARKET_DEPTH_L2",
  direction: "in",
  write: (w, m) =>
    w
      .int(1)
      .int(m.tickerId)
      .int(m.position)
      .str(m.marketMaker)
      .int(m.operation)
      .int(m.side)
      .float(m.price)
      .decimal(m.size)
      .bool(m.isSmartDepth),
  read: (r) => ({
    tickerId: r.skip().int(),
    position: r.int(),
    marketMaker: r.str(),
    operation: r.int(),
    side: r.int(),
    price: r.float(),
    size: r.decimal(),
    isSmartDepth: r.bool(),
  }),
});

export interface ReqTickByTickData {
  reqId: number;
  contract: Contract;
  tickType: string;
  numberOfTicks: number;
  ignoreSize: boolean;
}
export const REQ_TICK_BY_TICK_DATA = defineCodec<ReqTickByTickData>({
  id: OUT.REQ_TICK_BY_TICK_DATA,
  name: "REQ_TICK_BY_TICK_DATA",
  direction: "out",
  write: (w, m) => {
    w.int(m.reqId);
    writeContract(w, m.contract);
    w.str(m.tickType).int(m.numberOfTicks).bool(m.ignoreSize);
  },
  read: (r) => {
    const reqId = r.int();
    const contract = readContract(r);
    return { reqId, contract, tickType: r.str(), numberOfTicks: r.int(), ignoreSize: r.bool() };
  },
});

export const CANCEL_TICK_BY_TICK_DATA = defineCodec<ReqIdOnly>({
  id: OUT.CANCEL_TICK_BY_TICK_DATA,
  name: "CANCEL_TICK_BY_TICK_DATA",
  direction: "out",
  write: (w, m) => w.int(m.reqId),
  read: (r) => ({ reqId: r.int() }),
});

/** tickType 1 Last, 2 AllLast, 3 BidAsk, 4 MidPoint; 0 none. */
export type TickByTick =
  | {
      reqId: number;
      tickType: 1 | 2;
      time: number;
      price: number;
      size: string | undefined;
      attrMask: number;
      exchange: string;
      specialConditions: string;
    }
  | {
      reqId: number;
      tickType: 3;
      time: number;
      bidPrice: number;
      askPrice: number;
      bidSize: string | undefined;
      askSize: string | undefined;
      attrMask: number;
    }
  | { reqId: number; tickType: 4; time: number; midPoint: number }
  | { reqId: number; tickType: 0; time: number };

export const TICK_BY_TICK = defineCodec<TickByTick>({
  id: IN.TICK_BY_TICK,
  name: "TICK_BY_TICK",
  direction: "in",
  write: (w, m) => {
    w.int(m.reqId).int(m.tickType).int(m.time);
    switch (m.tickType) {
      case 1:
      case 2:
        w.float(m.price).decimal(m.size).int(m.attrMask).str(m.exchange).str(m.specialConditions);
        break;
      case 3:
        w.float(m.bidPrice).float(m.askPrice).decimal(m.bidSize).decimal(m.askSize).int(m.attrMask);
        break;
      case 4:
        w.float(m.midPoint);
        break;
      default:
        break;
    }
  },
  read: (r) => {
    const reqId = r.int();
    const tickType = r.int();
    const time = r.int();
    switch (tickType) {
      case 1:
      case 2:
        return {
          reqId,
          tickType,
          time,
          price: r.float(),
          size: r.decimal(),
          attrMask: r.int(),
          exchange: r.str(),
          specialConditions: r.str(),
        };
      case 3:
        return {
          reqId,
          tickType,
          time,
          bidPrice: r.float(),
          askPrice: r.float(),
          bidSize: r.decimal(),
          askSize: r.decimal(),
          attrMask: r.int(),
        };
      case 4:
        return { reqId, tickType, time, midPoint: r.float() };
      default:
        return { reqId, tickType: 0, time };
    }
  },
});
