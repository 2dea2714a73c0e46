/** Historical bars, head timestamp, real-time bars. */
import { defineCodec } from "../codec.js";
import { IN, OUT } from "../message-ids.js";
import type { ReqIdOnly } from "./common.js";
import {
  type ComboLeg,
  type Contract,
  readComboLegs,
  readContract,
  writeComboLegs,
  writeContract,
} from "./contract.js";

export interface ReqHistoricalData {
  reqId: number;
  contract: Contract;
  includeExpired: boolean;
  endDateTime: string;
  barSize: string;
  duration: string;
  useRTH: boolean;
  whatToShow: string;
  /** 1 = text dates, 2 = epoch seconds. */
  formatDate: number;
  comboLegs: ComboLeg[];
  keepUpToDate: boolean;
  chartOptions: string;
}
export const REQ_HISTORICAL_DATA = defineCodec<ReqHistoricalData>({
  id: OUT.REQ_HISTORICAL_DATA,
  name: "REQ_HISTORICAL_DATA",
  direction: "out",
  write: (w, m) => {
    w.int(m.reqId);
    writeContract(w, m.contract);
    w.bool(m.includeExpired)
      .str(m.endDateTime)
      .str(m.barSize)
      .str(m.duration)
      .bool(m.useRTH)
      .str(m.whatToShow)
      .int(m.formatDate);
    writeComboLegs(w, m.contract, m.comboLegs);
    w.bool(m.keepUpToDate).str(m.chartOptions);
  },
  read: (r) => {
    const reqId = r.int();
    const contract = readContract(r);
    const includeExpired = r.bool();
    const endDateTime = r.str();
    const barSize = r.str();
    const duration = r.str();
    const useRTH = r.bool();
    const whatToShow = r.str();
    const formatDate = r.int();
    const comboLegs = readComboLegs(r, contract);
    const keepUpToDate = r.bool();
    const chartOptions = r.remaining > 0 ? r.str() : "";
    return {
      reqId,
      contract,
      includeExpired,
      endDateTime,
      barSize,
      duration,
      useRTH,
      whatToShow,
      formatDate,
      comboLegs,
      keepUpToDate,
      chartOptions,
    };
  },
});

export interface Bar {
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: string | undefined;
  wap: string | undefined;
  barCount: number;
}

/**
 * Bar prices as TWS prints them in HISTORICAL_DATA: four decimals at least (182.9400,
 * 185.0000), more only when the price has more (captured TSLA daily bars, V 165).
 */
export function formatBarPrice(n: number): string {
  const fixed = n.toFixed(4);
  return Number(fixed) === n ? fixed : String(n);
}

/** Below V 196 one message carries every bar and ends the request. */
export interface HistoricalData {
  reqId: number;
  start: string;
  end: string;
  bars: Bar[];
}
export const HISTORICAL_DATA = defineCodec<HistoricalData>({
  id: IN.HISTORICAL_DATA,
  name: "HISTORICAL_DATA",
  direction: "in",
  write: (w, m) => {
    w.int(m.reqId).str(m.start).str(m.end).int(m.bars.length);
    for (const b of m.bars) {
      w.str(b.date).str(formatBarPrice(b.open)).str(formatBarPrice(b.high)).str(formatBarPrice(b.low));
      w.str(formatBarPrice(b.close)).decimal(b.volume).decimal(b.wap);
      w.int(b.barCount);
    }
  },
  read: (r) => {
    const reqId = r.int();
    const start = r.str();
    const end = r.str();
    const n = r.int();
    const bars: Bar[] = [];
    for (let i = 0; i < n; i++) {
      bars.push({
        date: r.str(),
        open: r.float(),
        high: r.float(),
        low: r.float(),
        close: r.float(),
        volume: r.decimal(),
        wap: r.decimal(),
        barCount: r.int(),
      });
    }
    return { reqId, start, end, bars };
  },
});

/** keepUpToDate updates; note IB's open, close, high, low order on the wire. */
export interface HistoricalDataUpdate {
  reqId: number;
  bar: Bar;
}
export const HISTORICAL_DATA_UPDATE = defineCodec<HistoricalDataUpdate>({
  id: IN.HISTORICAL_DATA_UPDATE,
  name: "HISTORICAL_DATA_UPDATE",
  direction: "in",
  write: (w, { reqId, bar: b }) =>
    w
      .int(reqId)
      .int(b.barCount)
      .str(b.date)
      .float(b.open)
      .float(b.close)
      .float(b.high)
      .float(b.low)
      .decimal(b.wap)
      .decimal(b.volume),
  read: (r) => {
    const reqId = r.int();
    const barCount = r.int();
    const date = r.str();
    const open = r.float();
    const close = r.float();
    const high = r.float();
    const low = r.float();
    const wap = r.decimal();
    const volume = r.decimal();
    return { reqId, bar: { date, open, high, low, close, volume, wap, barCount } };
  },
});

export const CANCEL_HISTORICAL_DATA = defineCodec<ReqIdOnly>({
  id: OUT.CANCEL_HISTORICAL_DATA,
  name: "CANCEL_HISTORICAL_DATA",
  direction: "out",
  write: (w, m) => w.int(1).int(m.reqId),
  read: (r) => ({ reqId: r.skip().int() }),
});

export interface ReqHeadTimestamp {
  reqId: number;
  contract: Contract;
  includeExpired: boolean;
  useRTH: boolean;
  whatToShow: string;
  formatDate: number;
}
export const REQ_HEAD_TIMESTAMP = defineCodec<ReqHeadTimestamp>({
  id: OUT.REQ_HEAD_TIMESTAMP,
  name: "REQ_HEAD_TIMESTAMP",
  direction: "out",
  write: (w, m) => {
    w.int(m.reqId);
    writeContract(w, m.contract);
    w.bool(m.includeExpired).bool(m.useRTH).str(m.whatToShow).int(m.formatDate);
  },
  read: (r) => {
    const reqId = r.int();
    const contract = readContract(r);
    return {
      reqId,
      contract,
      includeExpired: r.bool(),
      useRTH: r.bool(),
      whatToShow: r.str(),
      formatDate: r.int(),
    };
  },
});

export interface HeadTimestamp {
  reqId: number;
  headTimestamp: string;
}
export const HEAD_TIMESTAMP = defineCodec<HeadTimestamp>({
  id: IN.HEAD_TIMESTAMP,
  name: "HEAD_TIMESTAMP",
  direction: "in",
  write: (w, m) => w.int(m.reqId).str(m.headTimestamp),
  read: (r) => ({ reqId: r.int(), headTimestamp: r.str() }),
});

export const CANCEL_HEAD_TIMESTAMP = defineCodec<ReqIdOnly>({
  id: OUT.CANCEL_HEAD_TIMESTAMP,
  name: "CANCEL_HEAD_TIMESTAMP",
  direction: "out",
  write: (w, m) => w.int(m.reqId),
  read: (r) => ({ reqId: r.int() }),
});

export interface ReqRealTimeBars {
  tickerId: number;
  contract: Contract;
  barSize: number;
  whatToShow: string;
  useRTH: boolean;
  options: string;
}
export const REQ_REAL_TIME_BARS = defineCodec<ReqRealTimeBars>({
  id: OUT.REQ_REAL_TIME_BARS,
  name: "REQ_REAL_TIME_BARS",
  direction: "out",
  write: (w, m) => {
    w.int(3).int(m.tickerId);
    writeContract(w, m.contract);
    w.int(m.barSize).str(m.whatToShow).bool(m.useRTH).str(m.options);
  },
  read: (r) => {
    r.skip();
    const tickerId = r.int();
    const contract = readContract(r);
    return {
      tickerId,
      contract,
      barSize: r.int(),
      whatToShow: r.str(),
      useRTH: r.bool(),
      options: r.remaining > 0 ? r.str() : "",
    };
  },
});

export interface RealTimeBar {
  reqId: number;
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: string | undefined;
  wap: string | undefined;
  count: number;
}
export const REAL_TIME_BARS = defineCodec<RealTimeBar>({
  id: IN.REAL_TIME_BARS,
  name: "REAL_TIME_BARS",
  direction: "in",
  write: (w, m) =>
    w
      .int(3)
      .int(m.reqId)
      .int(m.time)
      .float(m.open)
      .float(m.high)
      .float(m.low)
      .float(m.close)
      .decimal(m.volume)
      .decimal(m.wap)
      .int(m.count),
  read: (r) => ({
    reqId: r.skip().int(),
    time: r.int(),
    open: r.float(),
    high: r.float(),
    low: r.float(),
    close: r.float(),
    volume: r.decimal(),
    wap: r.decimal(),
    count: r.int(),
  }),
});

export interface CancelRealTimeBars {
  tickerId: number;
}
export const CANCEL_REAL_TIME_BARS = defineCodec<CancelRealTimeBars>({
  id: OUT.CANCEL_REAL_TIME_BARS,
  name: "CANCEL_REAL_TIME_BARS",
  direction: "out",
  write: (w, m) => w.int(1).int(m.tickerId),
  read: (r) => ({ tickerId: r.skip().int() }),
});
