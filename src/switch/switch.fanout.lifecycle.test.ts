/**
 * Fan-out over a real line to the mock gateway, through the lives of groups: holds of shared
 * one-shots when a member closes, the kept-answer cache's bounds, counting, last values across
 * a replay, kept history across a bar boundary, each member's own pacing deadline, and kept
 * answers across a reconnect.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Line } from "../line/line.js";
import { MockGateway } from "../mock/gateway.js";
import { Pacer } from "../pacing/scheduler.js";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";
import { CANCEL_MKT_DATA } from "../protocol/messages/market-data.js";
import { AnswerCache, answerBytes } from "./groups.js";
import { Switch } from "./switch.js";
import {
  AAPL,
  contractReq,
  Inbox,
  is,
  isTick,
  mktData,
  MSFT,
  type Stack,
  startStack,
  V,
} from "./test-harness.test-util.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const hist = (reqId: number) =>
  toFields(
    REQ_HISTORICAL_DATA,
    {
      reqId,
      contract: AAPL,
      includeExpired: false,
      endDateTime: "",
      barSize: "1 min",
      duration: "1 D",
      useRTH: true,
      whatToShow: "TRADES",
      formatDate: 2,
      comboLegs: [],
      keepUpToDate: false,
      chartOptions: "",
    },
    V,
  );

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("holds of shared one-shots", () => {
  it("a shared history request in flight keeps its open-historical-request hold when the tenant that asked first closes", async () => {
    stack = await startStack({ historyLatencyMs: 3_000 });
    const s = stack;
    const a = s.sw.openTenant({ kind: "client", name: "first" });
    const b = s.sw.openTenant({ kind: "client", name: "second" });
    const bIn = new Inbox(b);
    const before = s.mock.snapshot().historyRequests.length;
    a.send(hist(1));
    await until(() => s.mock.snapshot().historyRequests.length > before, "the history request at the mock");
    b.send(hist(2));
    // One request at TWS, one open historical request held in the pacer.
    expect(s.sw.snapshot().groups.map((g) => g.members)).toEqual([2]);
    expect(s.pacer.snapshot().openHolds).toBe(1);
    await a.close();
    // b still waits for the answer of the one request TWS is working on: its slot is still open.
    expect(s.sw.snapshot().groups.map((g) => g.members)).toEqual([1]);
    expect(s.pacer.snapshot().openHolds).toBe(1);
    // And the answer still reaches b.
    await bIn.next(is(IN.HISTORICAL_DATA, 2, 1));
  });
});

describe("the kept-answer cache", () => {
  it("answers past their time are not kept: the cache does not grow with requests nobody repeats", () => {
    const cache = new AnswerCache();
    const bars = Array.from({ length: 2_000 }, (_, i) => ["17", String(i), "bar"]);
    for (let i = 0; i < 500; i++) cache.put(`k${i}`, bars, 0, 15_000);
    // A minute later every one of them has expired; one more answer is kept.
    cache.put("later", bars, 60_000, 15_000);
    expect(cache.size).toBe(1);
  });

  it("is bounded by bytes: an answer over a quarter of the bound is not kept, the oldest fall off", () => {
    const bars = (n: number) => Array.from({ length: n }, (_, i) => ["17", String(i), "bar"]);
    const one = answerBytes(bars(100));
    const cache = new AnswerCache({ maxBytes: one * 4 });
    cache.put("too-large", bars(101), 0, 15_000);
    expect(cache.size).toBe(0);
    for (let i = 0; i < 6; i++) cache.put(`k${i}`, bars(100), 0, 15_000);
    expect(cache.size).toBe(4);
    expect(cache.bytes).toBe(one * 4);
    expect(cache.get("k0", 1)).toBeUndefined();
    expect(cache.get("k5", 1)).toBeDefined();
  });
});

describe("a tenant in one group under several ids", () => {
  it("counts each of its subscriptions once", async () => {
    stack = await startStack({ historyLatencyMs: 0 });
    const s = stack;
    const t = s.sw.openTenant({ kind: "client", name: "same-stream-thrice" });
    const inbox = new Inbox(t);
    for (const id of [1, 2, 3]) t.send(mktData(id));
    for (const id of [1, 2, 3]) await inbox.next(is(IN.TICK_PRICE, id));
    expect(s.sw.snapshot().groups.map((g) => g.members)).toEqual([3]);
    const mine = s.sw.snapshot().tenants.find((x) => x.id === t.id);
    expect(mine?.liveRequests).toBe(3);
    // Each (group, id) once: not once per id of the tenant in the group (3 × 3).
    expect(mine?.subscriptions).toBe(3);
  });
});

describe("the kept history answer across a bar boundary", () => {
  it("an identical 1-min request after the next bar completed gets that bar (bars over 30 secs have no 15 s identical rule)", async () => {
    // The gateway's calendar is set by the test: 10:59:59 New York, then 11:00:01 (the 10:59
    // bar completes at 11:00:00). The switch's own clock runs on: both asks are within 15 s.
    let calendar = Date.parse("2026-11-17T15:59:59.000Z");
    const mock = new MockGateway({
      port: 0,
      controlPort: null,
      tickIntervalMs: 50,
      wallClock: { now: () => calendar },
    });
    await mock.start();
    const line = new Line({
      host: "127.0.0.1",
      port: mock.port,
      clientId: 1,
      backoffInitialMs: 50,
      backoffMaxMs: 500,
    });
    line.start();
    await line.ready({ timeoutMs: 10_000 });
    const pacer = new Pacer();
    const sw = new Switch(line, pacer, { readOnly: false });
    stack = {
      mock,
      line,
      pacer,
      sw,
      async close() {
        await sw.close();
        await line.close();
        await pacer.close();
        await mock.close();
      },
    };
    const t = sw.openTenant({ kind: "client", name: "chart" });
    const inbox = new Inbox(t);
    const bar1059 = "1794931140";
    t.send(hist(1));
    const first = await inbox.next(is(IN.HISTORICAL_DATA, 1, 1));
    expect(first.includes(bar1059)).toBe(false);
    calendar = Date.parse("2026-11-17T16:00:01.000Z");
    t.send(hist(2));
    const second = await inbox.next(is(IN.HISTORICAL_DATA, 2, 1));
    // TWS would now send the completed 10:59 bar; the kept answer does not have it.
    expect(second.includes(bar1059)).toBe(true);
  });
});

describe("last values across a data loss", () => {
  it("a tenant joining a group while its replay after 1101 is on the way does not get the values from before the loss", async () => {
    // The gateway's calendar is set by the test; ticks come only on subscribe.
    let calendar = Date.parse("2026-11-17T15:00:00.000Z");
    const mock = new MockGateway({
      port: 0,
      controlPort: null,
      tickIntervalMs: 600_000,
      wallClock: { now: () => calendar },
    });
    await mock.start();
    const line = new Line({
      host: "127.0.0.1",
      port: mock.port,
      clientId: 1,
      backoffInitialMs: 50,
      backoffMaxMs: 500,
    });
    line.start();
    await line.ready({ timeoutMs: 10_000 });
    const pacer = new Pacer();
    const sw = new Switch(line, pacer, { readOnly: false });
    stack = {
      mock,
      line,
      pacer,
      sw,
      async close() {
        await sw.close();
        await line.close();
        await pacer.close();
        await mock.close();
      },
    };
    const a = sw.openTenant({ kind: "client", name: "early" });
    const aIn = new Inbox(a);
    const b = sw.openTenant({ kind: "client", name: "late" });
    const bIn = new Inbox(b);
    const bid = (id: number) => (f: string[]) => is(IN.TICK_PRICE, id)(f) && f[3] === "1";
    a.send(mktData(1));
    const before = await aIn.next(bid(1));
    // Two hours pass (prices move), then TWS reports the data lost; the switch replays the
    // group, and b joins it at that moment.
    calendar = Date.parse("2026-11-17T17:00:00.000Z");
    sw.events.on("switch.replayed", () => b.send(mktData(9)));
    const from = aIn.length;
    mock.injectError({ code: 1101 });
    const after = await aIn.next(bid(1), { from });
    expect(after[4]).not.toBe(before[4]);
    const first = await bIn.next(bid(9));
    // b's first bid is not the one from before the data loss, but today's.
    expect(first[4]).not.toBe(before[4]);
    expect(first[4]).toBe(after[4]);
  });
});

const hist30s = (reqId: number, duration: string) =>
  toFields(
    REQ_HISTORICAL_DATA,
    {
      reqId,
      contract: AAPL,
      includeExpired: false,
      endDateTime: "",
      barSize: "30 secs",
      duration,
      useRTH: false,
      whatToShow: "TRADES",
      formatDate: 2,
      comboLegs: [],
      keepUpToDate: false,
      chartOptions: "",
    },
    V,
  );

describe("each member waits by its own pacing deadline", () => {
  it("a member that joins a waiting history group keeps its own pacing deadline, not the first asker's", async () => {
    stack = await startStack({ historyLatencyMs: 0 });
    const s = stack;
    const c = s.sw.openTenant({ kind: "client", name: "busy" });
    const a = s.sw.openTenant({ kind: "client", name: "impatient", pacingDeadlineMs: 300 });
    const aIn = new Inbox(a);
    const b = s.sw.openTenant({ kind: "client", name: "patient" });
    const bIn = new Inbox(b);
    // Five requests for one contract/exchange/whatToShow: a 6th within 2 s waits in the pacer.
    ["600 S", "900 S", "1200 S", "1500 S", "1800 S"].forEach((d, i) => c.send(hist30s(1 + i, d)));
    a.send(hist30s(1, "2400 S"));
    b.send(hist30s(2, "2400 S"));
    // a asked to wait at most 300 ms: it hears so.
    const aFirst = await aIn.next((f) => is(IN.HISTORICAL_DATA, 1, 1)(f) || is(IN.ERR_MSG, 1)(f));
    expect(aFirst[0]).toBe(String(IN.ERR_MSG));
    // b asked to wait up to the default 30 s: the pacer lets the request go within 2 s.
    const answer = await bIn.next((f) => is(IN.HISTORICAL_DATA, 2, 1)(f) || is(IN.ERR_MSG, 2)(f));
    expect(answer[0]).toBe(String(IN.HISTORICAL_DATA));
  });
});

describe("each member waits by its own pacing deadline (continued)", () => {
  it("a member that joins with a shorter deadline than the first asker's hears its timeout alone", async () => {
    stack = await startStack({ historyLatencyMs: 0 });
    const s = stack;
    const c = s.sw.openTenant({ kind: "client", name: "busy" });
    const b = s.sw.openTenant({ kind: "client", name: "patient" });
    const bIn = new Inbox(b);
    const a = s.sw.openTenant({ kind: "client", name: "impatient", pacingDeadlineMs: 300 });
    const aIn = new Inbox(a);
    ["600 S", "900 S", "1200 S", "1500 S", "1800 S"].forEach((d, i) => c.send(hist30s(1 + i, d)));
    // The patient one asks first; the impatient one joins its waiting request.
    b.send(hist30s(2, "2400 S"));
    a.send(hist30s(1, "2400 S"));
    expect(s.sw.snapshot().groups.filter((g) => g.members === 2)).toHaveLength(1);
    const aFirst = await aIn.next((f) => is(IN.HISTORICAL_DATA, 1, 1)(f) || is(IN.ERR_MSG, 1)(f));
    expect(aFirst[0]).toBe(String(IN.ERR_MSG));
    // Only a left: b still waits, and gets the answer once the pacer lets the request go.
    expect(s.sw.snapshot().groups.filter((g) => g.members === 2)).toHaveLength(0);
    expect(bIn.messages.filter(is(IN.ERR_MSG, 2))).toEqual([]);
    const answer = await bIn.next((f) => is(IN.HISTORICAL_DATA, 2, 1)(f) || is(IN.ERR_MSG, 2)(f));
    expect(answer[0]).toBe(String(IN.HISTORICAL_DATA));
    expect(aIn.messages.filter(is(IN.HISTORICAL_DATA, 1, 1))).toEqual([]);
  });

  it("a shared stream waiting for a market-data line: the first asker hears 101 by its deadline, a member that waits longer gets the stream", async () => {
    stack = await startStack({ historyLatencyMs: 0, marketDataLines: 1 });
    const s = stack;
    const x = s.sw.openTenant({ kind: "client", name: "holds-the-line" });
    const xIn = new Inbox(x);
    x.send(mktData(1, MSFT));
    await xIn.next(isTick(1));
    const a = s.sw.openTenant({ kind: "client", name: "impatient", pacingDeadlineMs: 300 });
    const aIn = new Inbox(a);
    const b = s.sw.openTenant({ kind: "client", name: "patient" });
    const bIn = new Inbox(b);
    a.send(mktData(5));
    b.send(mktData(6));
    const aErr = await aIn.next(is(IN.ERR_MSG, 5));
    expect(aErr[3]).toBe("101");
    expect(bIn.messages.filter(is(IN.ERR_MSG, 6))).toEqual([]);
    // The line frees: the group's one request goes out, for b alone.
    x.send(toFields(CANCEL_MKT_DATA, { tickerId: 1 }, V));
    await bIn.next(isTick(6));
    expect(s.sw.snapshot().groups.find((g) => g.request === "REQ_MKT_DATA" && g.members === 1)).toBeDefined();
    expect(aIn.messages.filter(isTick(5))).toEqual([]);
    expect(s.pacer.snapshot().openHolds).toBe(1);
  });
});

describe("kept answers across a reconnect", () => {
  it("contract details kept from one gateway socket are asked again on the next", async () => {
    stack = await startStack({ historyLatencyMs: 0 });
    const s = stack;
    const t = s.sw.openTenant({ kind: "client", name: "details" });
    const inbox = new Inbox(t);
    t.send(contractReq(1));
    await inbox.next(is(IN.CONTRACT_DATA_END, 1));
    // Kept: the same question is answered without asking the gateway.
    let before = s.mock.snapshot().counters.requests;
    t.send(contractReq(2));
    await inbox.next(is(IN.CONTRACT_DATA_END, 2));
    expect(s.mock.snapshot().counters.requests).toBe(before);
    const gen = s.line.generation;
    s.mock.drop();
    await until(() => s.line.state === "ready" && s.line.generation > gen, "the line back on a new socket");
    before = s.mock.snapshot().counters.requests;
    t.send(contractReq(3));
    await inbox.next(is(IN.CONTRACT_DATA_END, 3));
    expect(s.mock.snapshot().counters.requests).toBe(before + 1);
  });
});
