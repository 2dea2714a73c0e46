import { describe, expect, it } from "vitest";
import { toFields } from "../protocol/codec.js";
import { ERR_MSG } from "../protocol/messages/connection.js";
import { contract } from "../protocol/messages/contract.js";
import {
  CANCEL_HISTORICAL_DATA,
  HEAD_TIMESTAMP,
  HISTORICAL_DATA,
  REQ_HEAD_TIMESTAMP,
  REQ_HISTORICAL_DATA,
} from "../protocol/messages/history.js";
import { CANCEL_MKT_DATA, REQ_MKT_DATA, TICK_SNAPSHOT_END } from "../protocol/messages/market-data.js";
import { classifyOutgoing, incomingReleases } from "./request.js";

const V = 178;
const aapl = contract({ conId: 265598, symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" });
const opts = { version: V, tenant: "a" };

function histFields(reqId: number, end: string, whatToShow = "TRADES", c = aapl): string[] {
  return toFields(
    REQ_HISTORICAL_DATA,
    {
      reqId,
      contract: c,
      includeExpired: false,
      endDateTime: end,
      barSize: "1 min",
      duration: "1 D",
      useRTH: true,
      whatToShow,
      formatDate: 1,
      comboLegs: [],
      keepUpToDate: false,
      chartOptions: "",
    },
    V,
  );
}

describe("classifyOutgoing", () => {
  it("describes REQ_HISTORICAL_DATA with its pacing key, cost and hold", () => {
    const d = classifyOutgoing(histFields(7, "20240102 16:00:00 US/Eastern"), opts);
    expect(d).toMatchObject({
      tenant: "a",
      kind: "historicalData",
      cost: 1,
      hold: "hist:7",
      reqId: 7,
      priority: "normal",
      reorderable: true,
      key: {
        contract: "#265598",
        exchange: "SMART",
        whatToShow: "TRADES",
        end: "20240102 16:00:00 US/Eastern",
        duration: "1 D",
        barSize: "1 min",
        useRTH: "1",
      },
    });
    expect(classifyOutgoing(histFields(8, "", "bid_ask"), opts).cost).toBe(2);
  });

  it("describes head timestamp, market data, snapshots and cancels", () => {
    const head = toFields(
      REQ_HEAD_TIMESTAMP,
      { reqId: 3, contract: aapl, includeExpired: false, useRTH: true, whatToShow: "TRADES", formatDate: 2 },
      V,
    );
    expect(classifyOutgoing(head, opts)).toMatchObject({ kind: "headTimestamp", hold: "hist:3" });
    const mkt = (snapshot: boolean) =>
      toFields(
        REQ_MKT_DATA,
        {
          tickerId: 5,
          contract: aapl,
          comboLegs: [],
          deltaNeutral: undefined,
          genericTickList: "",
          snapshot,
          regulatorySnapshot: false,
          mktDataOptions: "",
        },
        V,
      );
    expect(classifyOutgoing(mkt(false), opts)).toMatchObject({ kind: "marketData", hold: "mkt:5" });
    expect(classifyOutgoing(mkt(true), opts)).toMatchObject({ kind: "marketDataSnapshot", hold: "mkt:5" });
    expect(classifyOutgoing(toFields(CANCEL_MKT_DATA, { tickerId: 5 }, V), opts)).toMatchObject({
      kind: "cancel",
      releases: "mkt:5",
      priority: "urgent",
    });
    expect(classifyOutgoing(toFields(CANCEL_HISTORICAL_DATA, { reqId: 7 }, V), opts).releases).toBe("hist:7");
    expect(classifyOutgoing(["49", "1"], opts)).toMatchObject({ kind: "heartbeat", priority: "urgent" });
    expect(classifyOutgoing(["3", "12"], opts)).toMatchObject({ kind: "order", priority: "urgent" });
    expect(classifyOutgoing(["59", "1", "3"], opts).kind).toBe("other");
    // Unreadable frames still count as one message.
    expect(classifyOutgoing(["20", "x"], opts).kind).toBe("other");
    expect(classifyOutgoing(histFields(1, ""), { ...opts, priority: "bulk" }).priority).toBe("bulk");
  });
});

describe("incomingReleases", () => {
  it("frees the slot at the answer's end or a terminal error, not on warnings", () => {
    expect(
      incomingReleases(toFields(HISTORICAL_DATA, { reqId: 7, start: "", end: "", bars: [] }, V), V),
    ).toEqual(["hist:7"]);
    expect(incomingReleases(toFields(HEAD_TIMESTAMP, { reqId: 3, headTimestamp: "1" }, V), V)).toEqual([
      "hist:3",
    ]);
    expect(incomingReleases(toFields(TICK_SNAPSHOT_END, { tickerId: 5 }, V), V)).toEqual(["mkt:5"]);
    const err = (id: number, code: number) =>
      incomingReleases(toFields(ERR_MSG, { id, code, message: "x", advancedOrderRejectJson: "" }, V), V);
    expect(err(7, 162)).toContain("hist:7");
    expect(err(7, 10167)).toEqual([]);
    expect(err(-1, 2104)).toEqual([]);
  });
});
