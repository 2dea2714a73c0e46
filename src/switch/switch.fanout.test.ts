/**
 * Fan-out over a real line to the mock gateway: what reaches the gateway (its
 * `subscriptionList` and `historyRequests`) against what every tenant receives.
 */
import { afterEach, describe, expect, it } from "vitest";
import { toFields } from "../protocol/codec.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { contract } from "../protocol/messages/contract.js";
import {
  CANCEL_REAL_TIME_BARS,
  REQ_HISTORICAL_DATA,
  REQ_REAL_TIME_BARS,
} from "../protocol/messages/history.js";
import { CANCEL_MKT_DATA, REQ_TICK_BY_TICK_DATA } from "../protocol/messages/market-data.js";
import { outRoute } from "../protocol/routing.js";
import { groupKeyOf } from "./groups.js";
import type { Tenant } from "./tenant.js";
import {
  AAPL,
  contractReq,
  Inbox,
  is,
  mktData,
  type Stack,
  startStack,
  V,
} from "./test-harness.test-util.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const AAPL_CONID = 265598;

function open(s: Stack, n: number): { tenant: Tenant; inbox: Inbox }[] {
  return Array.from({ length: n }, (_, i) => {
    const tenant = s.sw.openTenant({ kind: "client", name: `t${i}` });
    return { tenant, inbox: new Inbox(tenant) };
  });
}

const linesFor = (s: Stack, conId: number) =>
  s.mock.snapshot().subscriptionList.filter((x) => x.kind === "marketData" && x.conId === conId).length;

/**
 * A question TWS answers after everything written before it: the cancels of this tenant are
 * urgent, so once the answer is here they have been written.
 */
async function barrier(t: { tenant: Tenant; inbox: Inbox }): Promise<void> {
  // Group requests wait in the pacer under the switch's own tenant, not under `t`: let the
  // pacer send everything queued first, so the probe below really follows them on the wire.
  for (let i = 0; i < 500 && (stack?.pacer.snapshot().queued ?? 0) > 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  const from = t.inbox.length;
  t.tenant.send([String(OUT.REQ_CURRENT_TIME), "1"]);
  await t.inbox.next((f) => f[0] === String(IN.CURRENT_TIME), { from });
}

const hist = (reqId: number) =>
  toFields(
    REQ_HISTORICAL_DATA,
    {
      reqId,
      contract: AAPL,
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

describe("shared market data", () => {
  it("two tenants with the same key share one upstream request; another generic-tick list or market-data type gets its own", async () => {
    stack = await startStack();
    const s = stack;
    const [a, b, c, d] = open(s, 4) as [
      { tenant: Tenant; inbox: Inbox },
      { tenant: Tenant; inbox: Inbox },
      { tenant: Tenant; inbox: Inbox },
      { tenant: Tenant; inbox: Inbox },
    ];
    a.tenant.send(mktData(1));
    b.tenant.send(mktData(7));
    await a.inbox.next(is(IN.TICK_PRICE, 1));
    await b.inbox.next(is(IN.TICK_PRICE, 7));
    await barrier(b);
    // Same key: one upstream request for both.
    expect(linesFor(s, AAPL_CONID)).toBe(1);

    c.tenant.send(mktData(1, AAPL, "233"));
    await c.inbox.next(is(IN.TICK_PRICE, 1));
    // Another generic-tick list: its own upstream request.
    expect(linesFor(s, AAPL_CONID)).toBe(2);

    d.tenant.send(["59", "1", "3"]);
    d.tenant.send(mktData(1));
    const type = await d.inbox.next(is(IN.MARKET_DATA_TYPE, 1));
    expect(type[3]).toBe("3");
    // Another market-data type: its own upstream request too.
    expect(linesFor(s, AAPL_CONID)).toBe(3);
    const groups = s.sw.snapshot().groups;
    expect(groups.map((g) => g.members).sort()).toEqual([1, 1, 2]);
    expect(s.sw.snapshot().linesSaved).toBe(1);

    // The first of two leaves: the stream stays; the last one out cancels it upstream.
    a.tenant.send(toFields(CANCEL_MKT_DATA, { tickerId: 1 }, V));
    await barrier(a);
    expect(linesFor(s, AAPL_CONID)).toBe(3);
    const from = b.inbox.length;
    await b.inbox.next(is(IN.TICK_PRICE, 7), { from });
    b.tenant.send(toFields(CANCEL_MKT_DATA, { tickerId: 7 }, V));
    await barrier(b);
    expect(linesFor(s, AAPL_CONID)).toBe(2);
  });

  it("a group's error reaches every member under its own id", async () => {
    stack = await startStack();
    const members = open(stack, 3);
    const nowhere = contract({ symbol: "NOSUCH", secType: "STK", exchange: "SMART", currency: "USD" });
    members.forEach((m, i) => m.tenant.send(mktData(10 + i, nowhere)));
    for (const [i, m] of members.entries()) {
      const err = await m.inbox.next(is(IN.ERR_MSG, 10 + i));
      expect(err[3]).toBe("200");
    }
    expect(stack.sw.snapshot().groups).toEqual([]);
    expect(stack.mock.snapshot().subscriptionList).toEqual([]);
  });
});

describe("shared one-shots", () => {
  it("a history request repeated by 10 tenants within 15 s reaches the gateway once", async () => {
    stack = await startStack();
    const s = stack;
    const tenants = open(s, 10);
    const before = s.mock.snapshot().historyRequests.length;
    // Five ask together (one in flight), five after the answer (the kept answer).
    for (const [i, t] of tenants.slice(0, 5).entries()) t.tenant.send(hist(100 + i));
    const first: string[][] = [];
    for (const [i, t] of tenants.slice(0, 5).entries())
      first.push(await t.inbox.next(is(IN.HISTORICAL_DATA, 100 + i, 1)));
    for (const [i, t] of tenants.slice(5).entries()) t.tenant.send(hist(105 + i));
    const later: string[][] = [];
    for (const [i, t] of tenants.slice(5).entries())
      later.push(await t.inbox.next(is(IN.HISTORICAL_DATA, 105 + i, 1)));
    expect(s.mock.snapshot().historyRequests.length - before).toBe(1);
    // Every tenant gets the same bars under its own id.
    const bars = (f: string[]) => f.slice(2).join("|");
    for (const f of [...first, ...later]) expect(bars(f)).toBe(bars(first[0] as string[]));
    expect(new Set([...first, ...later].map((f) => f[1])).size).toBe(10);
  });

  it("contract details are asked once for every tenant while the answer is kept", async () => {
    stack = await startStack();
    const s = stack;
    const tenants = open(s, 10);
    tenants[0]?.tenant.send(contractReq(1));
    await tenants[0]?.inbox.next(is(IN.CONTRACT_DATA_END, 1));
    const before = s.mock.snapshot().counters.requests;
    for (const [i, t] of tenants.entries()) t.tenant.send(contractReq(20 + i));
    for (const [i, t] of tenants.entries()) {
      const detail = await t.inbox.next(
        (f) => f[0] === String(IN.CONTRACT_DATA) && f.includes(String(20 + i)),
      );
      expect(detail).toContain(String(AAPL_CONID));
      await t.inbox.next(is(IN.CONTRACT_DATA_END, 20 + i));
    }
    expect(s.mock.snapshot().counters.requests).toBe(before);
  });

  it("historyCacheMs 0: an identical request after the answer goes upstream again", async () => {
    stack = await startStack({ switch: { historyCacheMs: 0 } });
    const [t] = open(stack, 1) as [{ tenant: Tenant; inbox: Inbox }];
    const before = stack.mock.snapshot().historyRequests.length;
    t.tenant.send(hist(1));
    await t.inbox.next(is(IN.HISTORICAL_DATA, 1, 1));
    t.tenant.send(hist(2));
    // Not answered from a kept answer: it waits in the pacer 15 s (IB's identical-request
    // rule) while a later contract request passes it.
    await barrier(t);
    expect(t.inbox.messages.filter(is(IN.HISTORICAL_DATA, 2, 1))).toEqual([]);
    expect(stack.pacer.snapshot().queued).toBe(1);
    expect(stack.mock.snapshot().historyRequests.length - before).toBe(1);
  });
});

const bars = (tickerId: number, whatToShow = "TRADES") =>
  toFields(
    REQ_REAL_TIME_BARS,
    { tickerId, contract: AAPL, barSize: 5, whatToShow, useRTH: false, options: "" },
    V,
  );

describe("shared real-time bars and tick-by-tick", () => {
  it("identical real-time bars share one upstream request; another whatToShow gets its own", async () => {
    stack = await startStack();
    const s = stack;
    const [a, b, c] = open(s, 3) as [
      { tenant: Tenant; inbox: Inbox },
      { tenant: Tenant; inbox: Inbox },
      { tenant: Tenant; inbox: Inbox },
    ];
    const barLines = () => s.mock.snapshot().subscriptionList.filter((x) => x.kind === "realTimeBars").length;
    a.tenant.send(bars(3));
    b.tenant.send(bars(4));
    await barrier(b);
    expect(barLines()).toBe(1);
    c.tenant.send(bars(3, "MIDPOINT"));
    await barrier(c);
    expect(barLines()).toBe(2);
    a.tenant.send(toFields(CANCEL_REAL_TIME_BARS, { tickerId: 3 }, V));
    await barrier(a);
    expect(barLines()).toBe(2);
    b.tenant.send(toFields(CANCEL_REAL_TIME_BARS, { tickerId: 4 }, V));
    await barrier(b);
    expect(barLines()).toBe(1);
  });

  it("tick-by-tick streams are shared; a request with historical ticks is not", () => {
    const route = outRoute(OUT.REQ_TICK_BY_TICK_DATA);
    if (!route) throw new Error("no route");
    const tbt = (reqId: number, numberOfTicks: number, tickType = "Last") =>
      toFields(
        REQ_TICK_BY_TICK_DATA,
        { reqId, contract: AAPL, tickType, numberOfTicks, ignoreSize: false },
        V,
      );
    const key = (f: string[]) => groupKeyOf(route, f, V, 1)?.key;
    expect(key(tbt(1, 0))).toBeDefined();
    expect(key(tbt(1, 0))).toBe(key(tbt(2, 0)));
    expect(key(tbt(1, 0, "BidAsk"))).not.toBe(key(tbt(1, 0)));
    expect(key(tbt(1, 10))).toBeUndefined();
  });
});
