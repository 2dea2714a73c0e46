/** Request builders the mock's tests share (IB's defaults; pass the fields that matter). */
import { contract } from "../protocol/messages/contract.js";
import type { ReqHistoricalData } from "../protocol/messages/history.js";

export const AAPL = contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" });

/** A REQ_HISTORICAL_DATA: `1 D` of 1-min TRADES for AAPL ending now, all hours, formatDate 1. */
export const historicalRequest = (reqId: number, p: Partial<ReqHistoricalData> = {}): ReqHistoricalData => ({
  reqId,
  contract: AAPL,
  includeExpired: false,
  endDateTime: "",
  barSize: "1 min",
  duration: "1 D",
  useRTH: false,
  whatToShow: "TRADES",
  formatDate: 1,
  comboLegs: [],
  keepUpToDate: false,
  chartOptions: "",
  ...p,
});
