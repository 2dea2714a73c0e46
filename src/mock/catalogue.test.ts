import { afterEach, describe, expect, it } from "vitest";
import { fromFields } from "../protocol/codec.js";
import {
  REQ_ACCOUNT_DATA,
  REQ_ACCOUNT_SUMMARY,
  REQ_ACCOUNT_UPDATES_MULTI,
  REQ_PNL,
  REQ_PNL_SINGLE,
  REQ_POSITIONS,
  REQ_POSITIONS_MULTI,
} from "../protocol/messages/account.js";
import { REQ_IDS, REQ_MARKET_DATA_TYPE } from "../protocol/messages/connection.js";
import { contract } from "../protocol/messages/contract.js";
import {
  CONTRACT_DATA,
  REQ_CONTRACT_DATA,
  REQ_MATCHING_SYMBOLS,
  REQ_SEC_DEF_OPT_PARAMS,
  SECURITY_DEFINITION_OPTION_PARAMETER,
  SYMBOL_SAMPLES,
} from "../protocol/messages/contracts.js";
import {
  CANCEL_HISTORICAL_DATA,
  HEAD_TIMESTAMP,
  HISTORICAL_DATA,
  REQ_HEAD_TIMESTAMP,
  REQ_HISTORICAL_DATA,
  REQ_REAL_TIME_BARS,
} from "../protocol/messages/history.js";
import { CANCEL_MKT_DATA, REQ_MKT_DATA } from "../protocol/messages/market-data.js";
import { maxDurationFor } from "../history/bar-sizes.js";
import { BAR_SIZES } from "./bars.js";
import { MockGateway } from "./gateway.js";
import type { MockGatewayOptions } from "./options.js";
import { RawClient } from "./raw-client.test-util.js";
import { AAPL, historicalRequest } from "./requests.test-util.js";
import { TEST_NOW } from "./test-now.test-util.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function setup(options: MockGatewayOptions = {}) {
  // Pacing off by default here: these tests fire many history requests at one contract.
  const gw = new MockGateway({
    port: 0,
    controlPort: null,
    tickIntervalMs: 20,
    now: TEST_NOW,
    pacingRules: {
      rules: { historicalSameContract: { enabled: false }, historicalIdentical: { enabled: false } },
    },
    ...options,
  });
  open.push(gw);
  const { port } = await gw.start();
  const c = await RawClient.connect(port);
  open.push(c);
  return { gw, c, port };
}

const hist = historicalRequest;
const mkt = (tickerId: number, p: Partial<Parameters<typeof REQ_MKT_DATA.write>[1]> = {}) => ({
  tickerId,
  contract: AAPL,
  comboLegs: [],
  deltaNeutral: undefined,
  genericTickList: "",
  snapshot: false,
  regulatorySnapshot: false,
  mktDataOptions: "",
  ...p,
});
const isErr = (id: number, code?: number) => (f: string[]) =>
  f[0] === "4" && f[2] === String(id) && (code === undefined || f[3] === String(code));

describe("contracts", () => {
  it("answers contract details, and 200 for an unknown contract", async () => {
    const { c } = await setup();
    c.send(REQ_CONTRACT_DATA, {
      reqId: 1,
      contract: AAPL,
      includeExpired: false,
      secIdType: "",
      secId: "",
      issuerId: "",
    });
    await c.waitFor((f) => f[0] === "52" && f[2] === "1");
    const d = fromFields(CONTRACT_DATA, c.messages.find((f) => f[0] === "10") as string[], 178);
    expect(d.details.contract.conId).toBe(265598);
    expect(d.details.longName).toBe("APPLE INC");
    c.send(REQ_CONTRACT_DATA, {
      reqId: 2,
      contract: contract({ symbol: "NOPE", secType: "STK" }),
      includeExpired: false,
      secIdType: "",
      secId: "",
      issuerId: "",
    });
    await c.waitFor(isErr(2, 200));
  });

  it("lists the option chain by contract details and by option parameters", async () => {
    const { c } = await setup();
    c.send(REQ_CONTRACT_DATA, {
      reqId: 3,
      contract: contract({ symbol: "AAPL", secType: "OPT", right: "C", strike: 190 }),
      includeExpired: false,
      secIdType: "",
      secId: "",
      issuerId: "",
    });
    await c.waitFor((f) => f[0] === "52" && f[2] === "3");
    expect(c.messages.filter((f) => f[0] === "10" && f[1] === "3")).toHaveLength(3);
    c.send(REQ_SEC_DEF_OPT_PARAMS, {
      reqId: 4,
      underlyingSymbol: "AAPL",
      futFopExchange: "",
      underlyingSecType: "STK",
      underlyingConId: 265598,
    });
    await c.waitFor((f) => f[0] === "76" && f[1] === "4");
    const p = fromFields(
      SECURITY_DEFINITION_OPTION_PARAMETER,
      c.messages.find((f) => f[0] === "75") as string[],
      178,
    );
    expect(p.expirations).toHaveLength(3);
    expect(p.strikes).toContain(190);
  });

  it("answers matching symbols", async () => {
    const { c } = await setup();
    c.send(REQ_MATCHING_SYMBOLS, { reqId: 5, pattern: "MS" });
    const f = await c.waitFor((m) => m[0] === "79");
    const r = fromFields(SYMBOL_SAMPLES, f, 178);
    expect(r.samples[0]?.symbol).toBe("MSFT");
  });
});

describe("history", () => {
  it("answers every IB bar size with plausible bars, deterministic by seed", async () => {
    const { c } = await setup();
    let reqId = 100;
    for (const barSize of Object.keys(BAR_SIZES)) {
      // The longest duration IB's step table allows for the size.
      const max = maxDurationFor(barSize) as { n: number; unit: string };
      const duration = `${max.n} ${max.unit}`;
      c.send(REQ_HISTORICAL_DATA, hist(++reqId, { barSize, duration, endDateTime: "20240605 18:00:00 UTC" }));
      const f = await c.waitFor(
        (m) => (m[0] === "17" || m[0] === "4") && m[m[0] === "17" ? 1 : 2] === String(reqId),
      );
      expect(f[0], barSize).toBe("17");
      const { bars } = fromFields(HISTORICAL_DATA, f, 178);
      expect(bars.length, barSize).toBeGreaterThan(0);
      for (const b of bars)
        expect(b.low <= b.open && b.open <= b.high && b.low <= b.close && b.close <= b.high, barSize).toBe(
          true,
        );
    }
    const again = await RawClient.connect(c.socket.remotePort as number, { clientId: 2 });
    open.push(again);
    again.send(REQ_HISTORICAL_DATA, hist(1, { endDateTime: "20240605 18:00:00 UTC" }));
    c.send(REQ_HISTORICAL_DATA, hist(2, { endDateTime: "20240605 18:00:00 UTC" }));
    const a = await again.waitFor((m) => m[0] === "17");
    const b = await c.waitFor((m) => m[0] === "17" && m[1] === "2");
    expect(a.slice(2)).toEqual(b.slice(2));
  });

  it("answers every whatToShow with data; errors for unknown ones and before the head timestamp", async () => {
    const { c } = await setup();
    let reqId = 200;
    for (const what of [
      "TRADES",
      "MIDPOINT",
      "BID",
      "ASK",
      "BID_ASK",
      "ADJUSTED_LAST",
      "HISTORICAL_VOLATILITY",
      "OPTION_IMPLIED_VOLATILITY",
    ]) {
      c.send(REQ_HISTORICAL_DATA, hist(++reqId, { whatToShow: what }));
      await c.waitFor((m) => m[0] === "17" && m[1] === String(reqId));
    }
    c.send(REQ_HISTORICAL_DATA, hist(300, { whatToShow: "NONSENSE" }));
    await c.waitFor(isErr(300, 321));
    c.send(REQ_HISTORICAL_DATA, hist(301, { barSize: "7 mins" }));
    await c.waitFor(isErr(301, 321));
    c.send(REQ_HISTORICAL_DATA, hist(302, { endDateTime: "19700105 12:00:00 UTC" }));
    const e = await c.waitFor(isErr(302, 162));
    expect(e[4]).toContain("HMDS query returned no data");
    c.send(REQ_HISTORICAL_DATA, hist(303, { contract: contract({ symbol: "ZZZZ", secType: "STK" }) }));
    await c.waitFor(isErr(303, 200));
    c.send(REQ_HEAD_TIMESTAMP, {
      reqId: 304,
      contract: AAPL,
      includeExpired: false,
      useRTH: true,
      whatToShow: "TRADES",
      formatDate: 2,
    });
    const h = fromFields(HEAD_TIMESTAMP, await c.waitFor((m) => m[0] === "88"), 178);
    expect(Number(h.headTimestamp)).toBe(Date.UTC(1980, 11, 12, 14, 30) / 1000);
  });

  it("streams keepUpToDate updates and real-time bars until cancelled", async () => {
    const { c } = await setup({ timeScale: 20 });
    c.send(REQ_HISTORICAL_DATA, hist(400, { keepUpToDate: true, duration: "1800 S", barSize: "5 secs" }));
    await c.waitFor((m) => m[0] === "90" && m[1] === "400");
    c.send(CANCEL_HISTORICAL_DATA, { reqId: 400 });
    c.send(REQ_REAL_TIME_BARS, {
      tickerId: 401,
      contract: AAPL,
      barSize: 5,
      whatToShow: "TRADES",
      useRTH: false,
      options: "",
    });
    const bar = await c.waitFor((m) => m[0] === "50" && m[2] === "401");
    expect(bar).toHaveLength(11);
  });
});

describe("market data", () => {
  it("streams TICK_REQ_PARAMS, MARKET_DATA_TYPE, then ticks; snapshots end with 57", async () => {
    const { c, gw } = await setup();
    c.send(REQ_MARKET_DATA_TYPE, { marketDataType: 3 });
    c.send(REQ_MKT_DATA, mkt(10, { genericTickList: "233,236" }));
    await c.waitFor((f) => f[0] === "81" && f[1] === "10");
    expect(await c.waitFor((f) => f[0] === "58")).toEqual(["58", "1", "10", "3"]);
    await c.waitFor((f) => f[0] === "1" && f[2] === "10" && f[3] === "66");
    const before = c.messages.length;
    await c.waitFor((f) => c.messages.indexOf(f) > before && f[0] === "1" && f[2] === "10");
    expect(gw.snapshot().subscriptionList).toEqual([
      { clientId: 1, reqId: 10, kind: "marketData", conId: 265598 },
    ]);
    c.send(CANCEL_MKT_DATA, { tickerId: 10 });
    c.send(REQ_MKT_DATA, mkt(11, { snapshot: true }));
    await c.waitFor((f) => f[0] === "57" && f[2] === "11");
  });

  it("answers 101 over 100 market-data lines", async () => {
    // The 50 msg/s rule is lifted here so one burst can open 101 lines.
    const { c } = await setup({ pacingRules: { rules: { messageRate: { limit: 1000 } } } });
    for (let i = 1; i <= 101; i++) c.send(REQ_MKT_DATA, mkt(1000 + i));
    const e = await c.waitFor(isErr(1101, 101), 10_000);
    expect(e[4]).toContain("Max number of tickers");
  });
});

describe("account", () => {
  it("answers positions, account updates, summary, multi and PnL, each with its end", async () => {
    const { c } = await setup();
    c.send(REQ_POSITIONS, {});
    await c.waitFor((f) => f[0] === "62");
    expect(c.messages.filter((f) => f[0] === "61").length).toBeGreaterThan(0);
    c.send(REQ_ACCOUNT_DATA, { subscribe: true, account: "DU1234567" });
    await c.waitFor((f) => f[0] === "54" && f[2] === "DU1234567");
    expect(c.messages.some((f) => f[0] === "7")).toBe(true);
    expect(c.messages.some((f) => f[0] === "8")).toBe(true);
    c.send(REQ_ACCOUNT_SUMMARY, { reqId: 20, group: "All", tags: "NetLiquidation,BuyingPower,$LEDGER" });
    await c.waitFor((f) => f[0] === "64" && f[2] === "20");
    expect(c.messages.find((f) => f[0] === "63" && f[4] === "NetLiquidation")).toBeDefined();
    c.send(REQ_POSITIONS_MULTI, { reqId: 21, account: "DU1234567", modelCode: "" });
    await c.waitFor((f) => f[0] === "72" && f[2] === "21");
    c.send(REQ_ACCOUNT_UPDATES_MULTI, { reqId: 22, account: "DU1234567", modelCode: "", ledgerAndNLV: true });
    await c.waitFor((f) => f[0] === "74" && f[2] === "22");
    c.send(REQ_PNL, { reqId: 23, account: "DU1234567", modelCode: "" });
    await c.waitFor((f) => f[0] === "94" && f[1] === "23");
    c.send(REQ_PNL_SINGLE, { reqId: 24, account: "DU1234567", modelCode: "", conId: 265598 });
    await c.waitFor((f) => f[0] === "95" && f[1] === "24");
    c.send(REQ_IDS, { numIds: 1 });
    await c.waitFor((f) => f[0] === "9" && c.messages.filter((m) => m[0] === "9").length === 2);
  });
});
