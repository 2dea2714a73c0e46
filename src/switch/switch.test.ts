import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { toFields } from "../protocol/codec.js";
import type { Handler } from "../mock/context.js";
import { HANDLERS } from "../mock/handlers/index.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { contract } from "../protocol/messages/contract.js";
import { CANCEL_HISTORICAL_DATA, REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";
import { CANCEL_MKT_DATA } from "../protocol/messages/market-data.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { FIRST_REQUEST_ID } from "./id-space.js";
import { SINGLETON_RETRY_MS } from "./outbound.js";
import { Switch } from "./switch.js";
import {
  AAPL,
  contractReq,
  Inbox,
  is,
  isTick,
  MSFT,
  mktData,
  type Stack,
  startStack,
  V,
} from "./test-harness.test-util.js";

const aapl = AAPL;
const msft = MSFT;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("switch over a real line to the mock gateway", () => {
  it("gives two tenants with the same request id only their own answers", async () => {
    stack = await startStack();
    const a = stack.sw.openTenant({ kind: "client", name: "a" });
    const b = stack.sw.openTenant({ kind: "client", name: "b" });
    const ia = new Inbox(a);
    const ib = new Inbox(b);
    a.send(contractReq(1, aapl));
    b.send(contractReq(1, msft));
    const da = await ia.next(is(IN.CONTRACT_DATA, 1, 1));
    const db = await ib.next(is(IN.CONTRACT_DATA, 1, 1));
    expect(da[2]).toBe("AAPL");
    expect(db[2]).toBe("MSFT");
    await ia.next(is(IN.CONTRACT_DATA_END, 1));
    await ib.next(is(IN.CONTRACT_DATA_END, 1));
    expect(ia.messages.some((m) => m[2] === "MSFT")).toBe(false);
    expect(ib.messages.some((m) => m[2] === "AAPL")).toBe(false);
    // Nothing upstream-only leaks: no id of ours from the 1e9 range reaches a tenant.
    for (const m of [...ia.messages, ...ib.messages])
      expect(m.some((f) => Number(f) >= FIRST_REQUEST_ID)).toBe(false);
  });

  it("fans a broadcast out to both tenants; the late joiner is served from the cache", async () => {
    stack = await startStack();
    const a = stack.sw.openTenant({ kind: "client" });
    const b = stack.sw.openTenant({ kind: "client" });
    const ia = new Inbox(a);
    const ib = new Inbox(b);
    a.send(["61", "1"]);
    await ia.next(is(IN.POSITION_END));
    b.send(["61", "1"]);
    await ib.next(is(IN.POSITION_END));
    const pa = ia.messages.filter(is(IN.POSITION_DATA)).length;
    const pb = ib.messages.filter(is(IN.POSITION_DATA)).length;
    expect(pa).toBeGreaterThan(0);
    expect(pb).toBe(pa);
  });

  it("restores market data after a dropped socket and after 1101, without tenant action", async () => {
    stack = await startStack();
    const t = stack.sw.openTenant({ kind: "client" });
    const inbox = new Inbox(t);
    t.send(mktData(5));
    await inbox.next(isTick(5));
    const gen = stack.line.generation;
    stack.mock.drop();
    await waitFor(() => stack?.line.state === "ready" && stack.line.generation > gen);
    await inbox.next(isTick(5), { from: inbox.length });
    stack.mock.injectError({ code: 1101 });
    await inbox.next(is(IN.ERR_MSG, -1), { from: 0 });
    const mark = inbox.length;
    await inbox.next(isTick(5), { from: mark });
    expect(stack.mock.snapshot().subscriptionList.filter((s) => s.kind === "marketData")).toHaveLength(1);
  });

  it("cancels a closing tenant's market data upstream and keeps the other's", async () => {
    stack = await startStack();
    const a = stack.sw.openTenant({ kind: "client" });
    const b = stack.sw.openTenant({ kind: "client" });
    const ia = new Inbox(a);
    const ib = new Inbox(b);
    a.send(mktData(7));
    b.send(mktData(7, msft));
    await ia.next(isTick(7));
    await ib.next(isTick(7));
    expect(stack.mock.snapshot().subscriptionList).toHaveLength(2);
    await a.close();
    await waitFor(() => (stack?.mock.snapshot().subscriptionList.length ?? 0) === 1);
    b.send(toFields(CANCEL_MKT_DATA, { tickerId: 7 }, V));
    await waitFor(() => (stack?.mock.snapshot().subscriptionList.length ?? 0) === 0);
  });

  it("never sends an order twice, even when the socket drops right after it", async () => {
    stack = await startStack();
    const t = stack.sw.openTenant({ kind: "proxy", clientId: 9 });
    const inbox = new Inbox(t);
    const order = placeOrder({
      orderId: 1,
      contract: aapl,
      action: "BUY",
      totalQuantity: "10",
      orderType: "MKT",
      orderRef: "once",
    });
    t.send(toFields(PLACE_ORDER, order, V));
    await inbox.next(is(IN.ORDER_STATUS, 1, 1));
    const gen = stack.line.generation;
    stack.mock.drop();
    await waitFor(() => stack?.line.state === "ready" && stack.line.generation > gen);
    // The same PLACE_ORDER again is a modify of order 1, not a new order; an id at or below
    // the tenant's high-water mark that it never used is refused with 103.
    t.send(toFields(PLACE_ORDER, { ...order, orderId: 0 }, V));
    await inbox.next(is(IN.ERR_MSG, 0));
    const err = inbox.messages.find(is(IN.ERR_MSG, 0));
    expect(err?.[3]).toBe("103");
    const placed = stack.mock.snapshot().orders.filter((o) => o.orderRef === "once");
    expect(placed).toHaveLength(1);
    expect(placed[0]?.placeCount).toBe(1);
  });

  it("refuses order messages in read-only mode with 201", async () => {
    stack = await startStack({ readOnly: true });
    const t = stack.sw.openTenant({ kind: "client" });
    const inbox = new Inbox(t);
    t.send(
      toFields(
        PLACE_ORDER,
        placeOrder({ orderId: 3, contract: aapl, action: "BUY", totalQuantity: "1", orderType: "MKT" }),
        V,
      ),
    );
    const err = await inbox.next(is(IN.ERR_MSG, 3));
    expect(err[3]).toBe("201");
    expect(stack.mock.snapshot().orders).toHaveLength(0);
  });

  it("holds requests while the line is down and answers them once it is back", async () => {
    stack = await startStack();
    const t = stack.sw.openTenant({ kind: "client" });
    const inbox = new Inbox(t);
    const down = stack.mock.down(1_000);
    await down;
    await waitFor(() => stack?.line.state !== "ready");
    t.send(contractReq(42));
    const d = await inbox.next(is(IN.CONTRACT_DATA, 42, 1), { timeoutMs: 15_000 });
    expect(d[2]).toBe("AAPL");
  });

  it("a held market-data request keeps the type its tenant had when it asked", async () => {
    stack = await startStack();
    const t = stack.sw.openTenant({ kind: "client" });
    const inbox = new Inbox(t);
    await stack.mock.down(1_000);
    await waitFor(() => stack?.line.state !== "ready");
    // Live data for 1, then delayed for 2: both wait for the line.
    t.send(mktData(1));
    t.send(["59", "1", "3"]);
    t.send(mktData(2, MSFT));
    const first = await inbox.next(is(IN.MARKET_DATA_TYPE, 1), { timeoutMs: 15_000 });
    const second = await inbox.next(is(IN.MARKET_DATA_TYPE, 2), { timeoutMs: 15_000 });
    expect([first[3], second[3]]).toEqual(["1", "3"]);
  });
});

const SYMBOLS = [
  ...["AAPL", "MSFT", "SPY", "AMZN", "GOOGL", "TSLA", "NVDA", "META", "IBM", "QQQ"],
  ...["INTC", "CSCO", "AMD", "NFLX", "BAC", "JPM", "KO", "XOM", "WMT", "DIS"],
];

async function waitFor(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("cancelling a request still waiting in the pacer", () => {
  it("withdraws it: nothing reaches TWS and the tenant gets no error", async () => {
    // No kept answer: the identical second request must reach the pacer.
    stack = await startStack({ switch: { historyCacheMs: 0 } });
    const t = stack.sw.openTenant({ kind: "client" });
    const inbox = new Inbox(t);
    const hist = (reqId: number) =>
      toFields(
        REQ_HISTORICAL_DATA,
        {
          reqId,
          contract: aapl,
          includeExpired: false,
          endDateTime: "",
          barSize: "30 secs",
          duration: "1800 S",
          useRTH: false,
          whatToShow: "TRADES",
          formatDate: 2,
          comboLegs: [],
          keepUpToDate: false,
          chartOptions: "",
        },
        V,
      );
    // The second identical request must wait 15 s in the pacer (IB's identical-request rule).
    t.send(hist(1));
    await inbox.next(is(IN.HISTORICAL_DATA, 1, 1));
    const before = stack.mock.snapshot().counters.requests;
    t.send(hist(2));
    t.send(toFields(CANCEL_HISTORICAL_DATA, { reqId: 2 }, V));
    t.send(contractReq(3));
    await inbox.next(is(IN.CONTRACT_DATA_END, 3));
    // Only the contract request reached the mock; no error for request 2.
    expect(stack.mock.snapshot().counters.requests).toBe(before + 1);
    expect(inbox.messages.filter(is(IN.ERR_MSG, 2))).toEqual([]);
    expect(stack.pacer.snapshot().queued).toBe(0);
  });
});

describe("a proxy client that reconnects with the same client id", () => {
  it("keeps its orders and its order ids: a resent PLACE_ORDER never becomes a second order", async () => {
    stack = await startStack();
    const first = stack.sw.openTenant({ kind: "proxy", clientId: 9 });
    const in1 = new Inbox(first);
    const order = placeOrder({
      orderId: 1,
      contract: aapl,
      action: "BUY",
      totalQuantity: "5",
      orderType: "LMT",
      lmtPrice: 1,
      orderRef: "keep",
    });
    first.send(toFields(PLACE_ORDER, order, V));
    await in1.next(is(IN.ORDER_STATUS, 1, 1));
    await first.close();

    const again = stack.sw.openTenant({ kind: "proxy", clientId: 9 });
    const in2 = new Inbox(again);
    expect(stack.sw.nextOrderId(again)).toBe(2);
    // Another client id has an order-id space of its own.
    expect(stack.sw.nextOrderId(stack.sw.openTenant({ kind: "proxy", clientId: 10 }))).toBe(1);
    // The client resends its last order after the reconnect: same order, not a new one.
    again.send(toFields(PLACE_ORDER, order, V));
    await in2.next(is(IN.ORDER_STATUS, 1, 1));
    again.send(["5", "1"]);
    const open = await in2.next(is(IN.OPEN_ORDER, 1, 1));
    expect(open[23]).toBe("keep");
    expect(stack.mock.snapshot().orders.filter((o) => o.orderRef === "keep")).toHaveLength(1);
  });
});

describe("what a closing tenant leaves behind", () => {
  it("cancels every subscription upstream, even more than the pacer lets out at once", async () => {
    stack = await startStack();
    const t = stack.sw.openTenant({ kind: "client" });
    const inbox = new Inbox(t);
    // 60 distinct streams (identical ones would share one upstream request).
    for (let i = 1; i <= 60; i++) {
      const c = contract({ symbol: SYMBOLS[i % 20], secType: "STK", exchange: "SMART", currency: "USD" });
      t.send(mktData(i, c, ["", "233", "236"][i % 3]));
    }
    await inbox.next(isTick(60), { timeoutMs: 20_000 });
    await waitFor(() => (stack?.mock.snapshot().subscriptionList.length ?? 0) === 60, 20_000);
    await t.close();
    await waitFor(() => (stack?.mock.snapshot().subscriptionList.length ?? 0) === 0, 20_000);
  });

  it("routes an exercise's error back and keeps no live request for it", async () => {
    stack = await startStack();
    const t = stack.sw.openTenant({ kind: "proxy", clientId: 4 });
    const inbox = new Inbox(t);
    t.send([
      "21",
      "2",
      "77",
      "0",
      "AAPL",
      "OPT",
      "20261218",
      "200",
      "C",
      "100",
      "SMART",
      "USD",
      "",
      "",
      "1",
      "1",
      "DU1234567",
      "0",
    ]);
    const err = await inbox.next(is(IN.ERR_MSG, 77));
    expect(Number(err[3])).toBeGreaterThan(0);
    expect(stack.sw.snapshot().liveRequests).toBe(0);
  });
});

describe("a singleton whose answer was lost", () => {
  it("is asked again for the next tenant instead of blocking it forever", async () => {
    stack = await startStack();
    const clock = new ManualClock(Date.now());
    const sw = new Switch(stack.line, stack.pacer, { clock });
    try {
      const a = sw.openTenant({ kind: "client" });
      const b = sw.openTenant({ kind: "client" });
      const ia = new Inbox(a);
      const ib = new Inbox(b);
      // TWS swallows the first question (its answer is lost), then answers as usual.
      const answer = HANDLERS.get(OUT.REQ_CURRENT_TIME) as Handler;
      let asked = 0;
      stack.mock.register(
        new Map<number, Handler>([
          [OUT.REQ_CURRENT_TIME, (ctx, s, f, hold) => (asked++ === 0 ? undefined : answer(ctx, s, f, hold))],
        ]),
      );
      a.send(["49", "1"]);
      await waitFor(() => asked > 0);
      clock.advance(SINGLETON_RETRY_MS + 1);
      b.send(["49", "1"]);
      await ib.next(is(IN.CURRENT_TIME));
      await ia.next(is(IN.CURRENT_TIME));
    } finally {
      await sw.close();
    }
  });
});
