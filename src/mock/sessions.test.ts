/**
 * The mock counts history as IB does, at pinned calendar instants (a Sunday, a holiday, an
 * early close, DST changes): our codec and @stoqey/ib, over TCP, see the same answers.
 */
import { EventName } from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { fromFields } from "../protocol/codec.js";
import { contract } from "../protocol/messages/contract.js";
import {
  CANCEL_HISTORICAL_DATA,
  HEAD_TIMESTAMP,
  HISTORICAL_DATA,
  REQ_HEAD_TIMESTAMP,
  REQ_HISTORICAL_DATA,
  type ReqHistoricalData,
} from "../protocol/messages/history.js";
import { MockGateway } from "./gateway.js";
import { RawClient } from "./raw-client.test-util.js";
import { AAPL, historicalRequest } from "./requests.test-util.js";
import { AAPL as STOQEY_AAPL, connectStoqey, expectNo505 } from "./stoqey-client.test-util.js";
import { frozenClock } from "./wall-clock.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

const SAP = contract({ symbol: "SAP", secType: "STK", exchange: "SMART", currency: "EUR" });

async function at(iso: string) {
  const gw = new MockGateway({
    port: 0,
    controlPort: null,
    wallClock: frozenClock(iso),
    // These tests ask the same contract many times; IB's pacing is tested elsewhere.
    pacingRules: {
      rules: { historicalSameContract: { enabled: false }, historicalIdentical: { enabled: false } },
    },
  });
  open.push(gw);
  const { port } = await gw.start();
  const c = await RawClient.connect(port);
  open.push(c);
  return { gw, c, port };
}

let nextReq = 1;
const req = (p: Partial<ReqHistoricalData> = {}) => historicalRequest(nextReq++, { useRTH: true, ...p });

/** Ask and read the answer: bars, or the error code. */
async function bars(c: RawClient, p: Partial<ReqHistoricalData> = {}) {
  const r = req(p);
  c.send(REQ_HISTORICAL_DATA, r);
  const f = await c.waitFor(
    (m) => (m[0] === "17" && m[1] === String(r.reqId)) || (m[0] === "4" && m[2] === String(r.reqId)),
  );
  if (f[0] === "4") return { error: Number(f[3]), text: f[4] ?? "", dates: [], bars: [] };
  const answer = fromFields(HISTORICAL_DATA, f, c.serverVersion);
  return { error: 0, text: "", bars: answer.bars, dates: answer.bars.map((b) => b.date), answer };
}

/** "20261204 09:30:00 US/Eastern" → "20261204". */
const dayOf = (date: string) => date.slice(0, 8);
const count = (dates: string[]) => {
  const out: Record<string, number> = {};
  for (const d of dates) out[dayOf(d)] = (out[dayOf(d)] ?? 0) + 1;
  return out;
};

describe("history on the exchange's calendar", () => {
  it("1 D of 1-min RTH bars asked on a Sunday is Friday's session: 390 bars, 09:30 to 15:59 New York", async () => {
    const { c } = await at("2026-12-06T15:00:00Z");
    const r = await bars(c);
    expect(r.dates).toHaveLength(390);
    expect(count(r.dates)).toEqual({ "20261204": 390 });
    expect(r.dates[0]).toBe("20261204 09:30:00 US/Eastern");
    expect(r.dates[389]).toBe("20261204 15:59:00 US/Eastern");
    expect(r.answer?.start).toBe("20261204 09:30:00 US/Eastern");
    expect(r.answer?.end).toBe("20261204 16:00:00 US/Eastern");
  });

  it("the day after Thanksgiving closes at 13:00: 210 bars", async () => {
    const { c } = await at("2026-11-28T15:00:00Z");
    const r = await bars(c);
    expect(count(r.dates)).toEqual({ "20261127": 210 });
    expect(r.dates[209]).toBe("20261127 12:59:00 US/Eastern");
  });

  it("1 D on a holiday Monday gives the Friday before", async () => {
    const { c } = await at("2027-01-18T17:00:00Z");
    expect(count((await bars(c)).dates)).toEqual({ "20270115": 390 });
  });

  it("2 D on a Monday at 11:00 New York: Friday's 390 plus Monday's 90 complete bars", async () => {
    const { c } = await at("2026-12-07T16:00:30Z");
    const r = await bars(c, { duration: "2 D" });
    expect(count(r.dates)).toEqual({ "20261204": 390, "20261207": 90 });
    expect(r.dates.at(-1)).toBe("20261207 10:59:00 US/Eastern");
  });

  it("1 W is 5 sessions (a holiday skipped); daily bars are dated by session", async () => {
    const { c } = await at("2026-11-30T22:00:00Z");
    const hourly = await bars(c, { duration: "1 W", barSize: "1 hour" });
    // 09:30, 10:00, 11:00 … 15:00: 7 bars a full day, 4 on the early close (09:30–13:00).
    expect(count(hourly.dates)).toEqual({
      "20261123": 7,
      "20261124": 7,
      "20261125": 7,
      "20261127": 4,
      "20261130": 7,
    });
    const daily = await bars(c, { duration: "1 W", barSize: "1 day" });
    expect(daily.dates).toEqual(["20261123", "20261124", "20261125", "20261127", "20261130"]);
  });

  it("useRTH=0 extends the session to 04:00–20:00", async () => {
    const { c } = await at("2026-12-06T15:00:00Z");
    const r = await bars(c, { useRTH: false });
    expect(count(r.dates)).toEqual({ "20261204": 960 });
    expect([r.dates[0], r.dates[959]]).toEqual([
      "20261204 04:00:00 US/Eastern",
      "20261204 19:59:00 US/Eastern",
    ]);
  });

  it("across the DST changes the open is 09:30 New York to the minute (UTC moves by an hour)", async () => {
    const spring = await at("2026-03-10T22:00:00Z");
    const s = await bars(spring.c, { duration: "3 D", formatDate: 2 });
    const opens = (dates: string[]) =>
      Object.values(
        Object.fromEntries(
          dates
            .map((d) => new Date(Number(d) * 1000).toISOString())
            .reverse()
            .map((t) => [t.slice(0, 10), t.slice(11, 16)]),
        ),
      ).reverse();
    // Fri 6 March (EST), Mon 9 and Tue 10 March (EDT).
    expect(opens(s.dates)).toEqual(["14:30", "13:30", "13:30"]);
    expect(s.dates).toHaveLength(3 * 390);
    const fall = await at("2026-11-02T22:00:00Z");
    const f = await bars(fall.c, { duration: "2 D", formatDate: 2 });
    // Fri 30 October (EDT), Mon 2 November (EST).
    expect(opens(f.dates)).toEqual(["13:30", "14:30"]);
  });

  it("M and Y are calendar time; other instruments trade every weekday, no holidays", async () => {
    const { c } = await at("2026-11-28T12:00:00Z");
    const month = await bars(c, { duration: "1 M", barSize: "1 day" });
    // The window starts Oct 27 at 14:00 New York (a month before Friday's 13:00 close): the
    // sessions it touches, less Thanksgiving.
    expect(month.dates[0]).toBe("20261027");
    expect(month.dates.at(-1)).toBe("20261127");
    expect(month.dates).toHaveLength(23);
    const sap = await bars(c, { contract: SAP, duration: "2 D", barSize: "1 day" });
    expect(sap.dates).toEqual(["20261126", "20261127"]); // Thanksgiving trades here
  });

  it("more bars than IB's step table allows for the bar size gets 162 Time length exceed max", async () => {
    const { c, gw } = await at("2026-11-17T16:00:00Z");
    // 1 min: at most 1,440 bars (1 D of 24 h); 1 secs: 1,800; 1 hour: 720 (1 M); 1 day: 365 (1 Y).
    for (const [barSize, duration] of [
      ["1 min", "5 D"],
      ["1 secs", "3600 S"],
      ["1 hour", "6 M"],
      ["1 day", "2 Y"],
    ] as const) {
      const r = await bars(c, { barSize, duration });
      expect([r.error, r.text], `${duration} of ${barSize}`).toEqual([
        162,
        "Historical Market Data Service error message:Time length exceed max.",
      ]);
    }
    // The longest allowed ones are answered (2 D of regular hours is 780 one-minute bars).
    expect((await bars(c, { barSize: "1 min", duration: "2 D" })).error).toBe(0);
    expect((await bars(c, { barSize: "1 secs", duration: "1800 S" })).error).toBe(0);
    expect(gw.snapshot().historyRequests.map((e) => e.answer)).toEqual([162, 162, 162, 162, "bars", "bars"]);
  });

  it("no data before the head timestamp, and the head is the first session's open", async () => {
    const { c } = await at("2026-12-06T15:00:00Z");
    const r = await bars(c, { endDateTime: "19801205 12:00:00 UTC" });
    expect(r.error).toBe(162);
    expect(r.text).toContain("HMDS query returned no data");
    c.send(REQ_HEAD_TIMESTAMP, {
      reqId: 77,
      contract: AAPL,
      includeExpired: false,
      useRTH: true,
      whatToShow: "TRADES",
      formatDate: 1,
    });
    const h = fromFields(HEAD_TIMESTAMP, await c.waitFor((m) => m[0] === "88"), c.serverVersion);
    expect(h.headTimestamp).toBe("19801212 09:30:00 US/Eastern");
  });

  it("keepUpToDate sends updates only while the session trades", async () => {
    const weekend = await at("2026-12-06T15:00:00Z");
    const r = req({ keepUpToDate: true, barSize: "5 secs", duration: "60 S", useRTH: false });
    weekend.c.send(REQ_HISTORICAL_DATA, r);
    await weekend.c.waitFor((m) => m[0] === "17" && m[1] === String(r.reqId));
    weekend.gw.streamer.barRound();
    weekend.gw.streamer.barRound();
    expect(weekend.c.messages.filter((m) => m[0] === "90")).toHaveLength(0);
    weekend.c.send(CANCEL_HISTORICAL_DATA, { reqId: r.reqId });

    const tuesday = await at("2026-11-17T16:00:00Z");
    const t = req({ keepUpToDate: true, barSize: "5 secs", duration: "60 S", useRTH: true });
    tuesday.c.send(REQ_HISTORICAL_DATA, t);
    await tuesday.c.waitFor((m) => m[0] === "17" && m[1] === String(t.reqId));
    tuesday.gw.streamer.barRound();
    const update = await tuesday.c.waitFor((m) => m[0] === "90" && m[1] === String(t.reqId));
    expect(update).toContain("20261117 11:00:00 US/Eastern");
  });

  it("/state lists the history requests that reached the gateway and their answers", async () => {
    const { c, gw } = await at("2026-12-06T15:00:00Z");
    await bars(c);
    await bars(c, { endDateTime: "19801205 12:00:00 UTC" });
    await bars(c, { barSize: "7 mins" });
    const log = gw.snapshot().historyRequests.slice(-3);
    expect(log.map((e) => e.answer)).toEqual(["bars", "noData", 321]);
    expect(log[0]).toMatchObject({
      symbol: "AAPL",
      conId: 265598,
      duration: "1 D",
      barSize: "1 min",
      useRTH: true,
    });
    expect(gw.snapshot().now).toBe("2026-12-06T15:00:00.000Z");
  });

  it("@stoqey/ib reads the same Sunday answer as our codec", async () => {
    const { c, port } = await at("2026-12-06T15:00:00Z");
    const ours = await bars(c);
    const s = await connectStoqey(port, 9, (x) => open.push(x));
    const theirs: { time: string; open: number; close: number; volume: number }[] = [];
    const done = new Promise<void>((resolve) =>
      s.api.on(
        EventName.historicalData,
        (_id, time: string, o: number, _h, _l, cl: number, volume: number) => {
          if (time.startsWith("finished")) resolve();
          else theirs.push({ time, open: o, close: cl, volume });
        },
      ),
    );
    s.api.reqHistoricalData(5, STOQEY_AAPL, "", "1 D", "1 min" as never, "TRADES" as never, 1, 1, false);
    await done;
    expectNo505(s);
    expect(theirs).toHaveLength(390);
    expect(theirs.map((b) => b.time)).toEqual(ours.dates);
    expect(theirs.map((b) => [b.open, b.close, b.volume])).toEqual(
      ours.bars.map((b) => [b.open, b.close, Number(b.volume)]),
    );
  });
});
