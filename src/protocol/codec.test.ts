/**
 * Reading exactly: a message from TWS must end where its layout at the server version ends;
 * a client message may carry what its library adds.
 */
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../errors.js";
import { fromFields, toFields } from "./codec.js";
import { formatJavaDouble } from "./fields.js";
import { ERR_MSG, EXECUTION_DATA, REQ_MKT_DATA, TICK_PRICE } from "./messages/index.js";

describe("fromFields", () => {
  const tick = { tickerId: 7, tickType: 1, price: 101.5, size: "300", attrMask: 0 };

  it("refuses a message from TWS with a field too many, naming the message and the version", () => {
    const fields = [...toFields(TICK_PRICE, tick, 178), "surplus"];
    expect(() => fromFields(TICK_PRICE, fields, 178)).toThrow(ProtocolError);
    expect(() => fromFields(TICK_PRICE, fields, 178)).toThrow(
      "TICK_PRICE at server version 178: the layout ends at field 7 but the message has 8 fields",
    );
  });

  it("refuses a message from TWS with a field too few, naming the message and the version", () => {
    const fields = toFields(TICK_PRICE, tick, 178).slice(0, -1);
    expect(() => fromFields(TICK_PRICE, fields, 178)).toThrow(
      /^TICK_PRICE at server version 178: message ended/,
    );
  });

  it("reads a version-gated tail because the version says so, not because fields remain", () => {
    const err = { id: 3, code: 200, message: "No security definition", advancedOrderRejectJson: "" };
    // Five fields at 166 or later: the sixth is missing, whatever the reader finds after.
    const five = toFields(ERR_MSG, err, 165);
    expect(() => fromFields(ERR_MSG, five, 166)).toThrow("ERR_MSG at server version 166");
    expect(fromFields(ERR_MSG, toFields(ERR_MSG, err, 166), 166)).toEqual(err);
    const exec = toFields(
      EXECUTION_DATA,
      {
        reqId: -1,
        execution: {
          orderId: 1,
          contract: {
            conId: 265598,
            symbol: "AAPL",
            secType: "STK",
            lastTradeDateOrContractMonth: "",
            strike: 0,
            right: "",
            multiplier: "",
            exchange: "IEX",
            primaryExchange: "",
            currency: "USD",
            localSymbol: "AAPL",
            tradingClass: "NMS",
          },
          execId: "0000e0d5.67fe667b.01.01",
          time: "20250415  19:38:31",
          acctNumber: "DU1234567",
          exchange: "IEX",
          side: "BOT",
          shares: "100",
          price: 201.94,
          permId: 600745656,
          clientId: 100,
          liquidation: 0,
          cumQty: "100",
          avgPrice: 201.94,
          orderRef: "",
          evRule: "",
          evMultiplier: undefined,
          modelCode: "",
          lastLiquidity: 2,
          pendingPriceRevision: false,
        },
      },
      177,
    );
    expect(() => fromFields(EXECUTION_DATA, exec, 178)).toThrow("EXECUTION_DATA at server version 178");
  });

  it("reads a client message leniently: libraries add fields TWS ignores", () => {
    const md = {
      tickerId: 1,
      contract: {
        conId: 0,
        symbol: "AAPL",
        secType: "STK",
        lastTradeDateOrContractMonth: "",
        strike: 0,
        right: "",
        multiplier: "",
        exchange: "SMART",
        primaryExchange: "",
        currency: "USD",
        localSymbol: "",
        tradingClass: "",
      },
      comboLegs: [],
      deltaNeutral: undefined,
      genericTickList: "",
      snapshot: false,
      regulatorySnapshot: false,
      mktDataOptions: "",
    };
    expect(fromFields(REQ_MKT_DATA, [...toFields(REQ_MKT_DATA, md, 178), "extra"], 178)).toEqual(md);
  });
});

describe("formatJavaDouble", () => {
  it("prints a double as TWS (Java) does", () => {
    expect(
      [0, 1, 5800, 196.52, 0.02, 1e-4, 12_345_678, -2.5, Number.MAX_VALUE].map(formatJavaDouble),
    ).toEqual([
      "0.0",
      "1.0",
      "5800.0",
      "196.52",
      "0.02",
      "1.0E-4",
      "1.2345678E7",
      "-2.5",
      "1.7976931348623157E308",
    ]);
  });
});
