import { describe, expect, it } from "vitest";
import { IN_CODECS, OUT_CODECS } from "./catalog.js";
import { IN, OUT } from "./message-ids.js";
import { IN_ROUTES, inRoute, OUT_ROUTES, outRoute } from "./routing.js";

describe("routing table", () => {
  it("routes every outgoing message id", () => {
    const missing = Object.entries(OUT)
      .filter(([, id]) => !outRoute(id))
      .map(([n]) => n);
    expect(missing).toEqual([]);
  });

  it("routes every incoming message id", () => {
    const missing = Object.entries(IN)
      .filter(([, id]) => !inRoute(id))
      .map(([n]) => n);
    expect(missing).toEqual([]);
  });

  it("has one route per id and names that match the id tables", () => {
    expect(new Set(OUT_ROUTES.map((r) => r.id)).size).toBe(OUT_ROUTES.length);
    expect(new Set(IN_ROUTES.map((r) => r.id)).size).toBe(IN_ROUTES.length);
    for (const r of OUT_ROUTES) expect(OUT[r.name as keyof typeof OUT]).toBe(r.id);
    for (const r of IN_ROUTES) expect(IN[r.name as keyof typeof IN]).toBe(r.id);
  });

  it("pairs every cancellable request with its cancel message and back", () => {
    for (const r of OUT_ROUTES) {
      if (r.cancelledBy !== undefined) expect(outRoute(r.cancelledBy)?.cancels).toBe(r.id);
      if (r.cancels !== undefined) expect(outRoute(r.cancels)?.cancelledBy).toBe(r.id);
    }
  });

  it("gives every request and order route an id field", () => {
    for (const r of [...OUT_ROUTES, ...IN_ROUTES]) {
      if (r.kind === "request" || r.kind === "order") expect(r.idIndex, r.name).toBeDefined();
    }
  });

  it("points id fields at the codec's own id field (checked on encoded messages)", async () => {
    const { toFields } = await import("./codec.js");
    const { fieldIndex } = await import("./routing.js");
    const samples: Record<string, { msg: unknown; id: number }> = {
      REQ_CONTRACT_DATA: {
        msg: {
          reqId: 4242,
          contract: (await import("./messages/contract.js")).contract({ symbol: "AAPL" }),
          includeExpired: false,
          secIdType: "",
          secId: "",
          issuerId: "",
        },
        id: 4242,
      },
      CANCEL_MKT_DATA: { msg: { tickerId: 4242 }, id: 4242 },
      CANCEL_HISTORICAL_DATA: { msg: { reqId: 4242 }, id: 4242 },
      REQ_MATCHING_SYMBOLS: { msg: { reqId: 4242, pattern: "AA" }, id: 4242 },
      CANCEL_ORDER: { msg: { orderId: 4242, manualOrderCancelTime: "" }, id: 4242 },
    };
    for (const v of [157, 170, 178]) {
      for (const [name, s] of Object.entries(samples)) {
        const codec = [...OUT_CODECS.values()].find((c) => c.name === name);
        const route = OUT_ROUTES.find((r) => r.name === name);
        expect(codec && route?.idIndex !== undefined, name).toBe(true);
        if (!codec || route?.idIndex === undefined) continue;
        const fields = toFields(codec, s.msg, v);
        expect(fields[fieldIndex(route.idIndex, v)], `${name}@${v}`).toBe(String(s.id));
      }
      const cd = IN_CODECS.get(IN.CONTRACT_DATA);
      const route = inRoute(IN.CONTRACT_DATA);
      if (!cd || route?.idIndex === undefined) throw new Error("missing CONTRACT_DATA");
      const fields = toFields(cd, { reqId: 4242, details: sampleDetails() }, v);
      expect(fields[fieldIndex(route.idIndex, v)]).toBe("4242");
    }
  });
});

function sampleDetails() {
  return {
    contract: {
      conId: 1,
      symbol: "X",
      secType: "STK",
      lastTradeDateOrContractMonth: "",
      strike: 0,
      right: "",
      multiplier: "",
      exchange: "SMART",
      primaryExchange: "",
      currency: "USD",
      localSymbol: "X",
      tradingClass: "X",
    },
    marketName: "",
    minTick: 0.01,
    orderTypes: "",
    validExchanges: "",
    priceMagnifier: 1,
    underConId: 0,
    longName: "",
    contractMonth: "",
    industry: "",
    category: "",
    subcategory: "",
    timeZoneId: "",
    tradingHours: "",
    liquidHours: "",
    evRule: "",
    evMultiplier: 0,
    secIdList: [],
    aggGroup: 0,
    underSymbol: "",
    underSecType: "",
    marketRuleIds: "",
    realExpirationDate: "",
    stockType: "",
    minSize: undefined,
    sizeIncrement: undefined,
    suggestedSizeIncrement: undefined,
  };
}
