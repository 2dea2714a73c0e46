import { describe, expect, it } from "vitest";
import { findViolations, PacingLedger } from "./checker.js";
import { pacingRequest } from "./request.js";
import { DEFAULT_RULES } from "./rules.js";

const hist = (i: number, what = "TRADES", contract = "#1") =>
  pacingRequest({
    tenant: "t",
    kind: "historicalData",
    cost: what === "BID_ASK" ? 2 : 1,
    key: {
      contract,
      exchange: "SMART",
      whatToShow: what,
      end: `e${i}`,
      duration: "1800 S",
      barSize: "30 secs",
      useRTH: "1",
    },
    hold: `hist:${i}`,
  });

describe("violation checker", () => {
  it("the 51st message in a sliding second is error 100", () => {
    const l = new PacingLedger(DEFAULT_RULES);
    const msg = pacingRequest({ tenant: "t", kind: "other" });
    for (let i = 0; i < 50; i++) expect(l.admit(msg, i)).toBeUndefined();
    expect(l.admit(msg, 999)?.ibCode).toBe(100);
    // The first message (t=0) leaves the window at t=1000; the violator still counts.
    expect(l.check(msg, 1000)?.ibCode).toBe(100);
    expect(l.check(msg, 1002)).toBeUndefined();
  });

  it("identical historical request within 15 s is 162", () => {
    const l = new PacingLedger(DEFAULT_RULES);
    expect(l.admit(hist(1), 0)).toBeUndefined();
    l.release("t", "hist:1");
    const v = l.check({ ...hist(1) }, 14_999);
    expect(v).toMatchObject({ ruleId: "historicalIdentical", ibCode: 162 });
    expect(v?.ibMessage).toMatch(/pacing violation/);
    expect(l.check(hist(1), 15_000)).toBeUndefined();
  });

  it("the 6th request for one contract/exchange/whatToShow in 2 s is the violation; BID_ASK counts 2", () => {
    const l = new PacingLedger(DEFAULT_RULES);
    for (let i = 0; i < 5; i++) expect(l.admit(hist(i), i * 10)).toBeUndefined();
    expect(l.check(hist(9), 1_999)?.ruleId).toBe("historicalSameContract");
    expect(l.check(hist(9, "TRADES", "#2"), 1_999)).toBeUndefined();
    expect(l.check(hist(9), 2_000)).toBeUndefined();
    const b = new PacingLedger(DEFAULT_RULES);
    expect(b.admit(hist(1, "BID_ASK"), 0)).toBeUndefined();
    expect(b.admit(hist(2, "BID_ASK"), 1)).toBeUndefined();
    expect(b.check(hist(3, "BID_ASK"), 2)?.ruleId).toBe("historicalSameContract");
    expect(b.check(hist(3, "TRADES"), 2)).toBeUndefined();
  });

  it("61 historical requests in 10 minutes break the total rule; earliest() says when room comes", () => {
    const l = new PacingLedger(DEFAULT_RULES);
    for (let i = 0; i < 60; i++) {
      const r = hist(i, "TRADES", `#${i}`);
      expect(l.admit(r, i * 1_000)).toBeUndefined();
      l.release("t", `hist:${i}`);
    }
    const next = hist(99, "TRADES", "#99");
    expect(l.check(next, 120_000)?.ruleId).toBe("historicalTotal");
    expect(l.earliest(next, 120_000)).toEqual({ at: 600_000, ruleId: "historicalTotal" });
    expect(l.check(next, 600_000)).toBeUndefined();
  });

  it("capacity: the 51st open historical request is refused until one ends", () => {
    const l = new PacingLedger(DEFAULT_RULES);
    for (let i = 0; i < 50; i++) expect(l.admit(hist(i, "TRADES", `#${i}`), i * 40_000)).toBeUndefined();
    expect(l.usage(2_000_000).find((u) => u.ruleId === "openHistorical")?.used).toBe(50);
    const next = hist(50, "TRADES", "#50");
    expect(l.check(next, 2_000_000)).toMatchObject({ ruleId: "openHistorical", ibCode: 322 });
    expect(l.earliest(next, 2_000_000).at).toBe(Number.POSITIVE_INFINITY);
    expect(l.release("t", "hist:3")).toBe(true);
    expect(l.check(next, 2_000_000)).toBeUndefined();
  });

  it("market-data lines, depth and account summary use IB's codes; a cancel frees the slot", () => {
    const l = new PacingLedger(DEFAULT_RULES);
    const depth = (i: number) => pacingRequest({ tenant: "t", kind: "marketDepth", hold: `depth:${i}` });
    for (let i = 0; i < 3; i++) expect(l.admit(depth(i), i * 100)).toBeUndefined();
    expect(l.check(depth(3), 1_000)?.ibCode).toBe(309);
    l.record(pacingRequest({ tenant: "t", kind: "cancel", releases: "depth:1" }), 1_000);
    expect(l.check(depth(3), 1_030)).toBeUndefined();
    const acct = (i: number) => pacingRequest({ tenant: "t", kind: "accountSummary", hold: `acct:${i}` });
    l.admit(acct(1), 2_000);
    l.admit(acct(2), 2_030);
    expect(l.check(acct(3), 2_060)?.ibCode).toBe(322);
    const mkt = (i: number) => pacingRequest({ tenant: "t", kind: "marketData", hold: `mkt:${i}` });
    for (let i = 0; i < 100; i++) l.record(mkt(i), 10_000 + i * 30);
    expect(l.check(mkt(100), 20_000)?.ibCode).toBe(101);
    expect(l.releaseTenant("t")).toBe(100 + 2 + 2);
  });

  it("findViolations replays a schedule against the hard limits", () => {
    const schedule = Array.from({ length: 7 }, (_, i) => ({ at: i, request: hist(i) }));
    const v = findViolations(DEFAULT_RULES, schedule);
    expect(v.map((x) => [x.index, x.ruleId])).toEqual([
      [5, "historicalSameContract"],
      [6, "historicalSameContract"],
    ]);
  });

  it("forgets the oldest key rather than grow past maxKeysPerRule", () => {
    const l = new PacingLedger(DEFAULT_RULES, { maxKeysPerRule: 10 });
    for (let i = 0; i < 30; i++) l.record(hist(i, "TRADES", `#${i}`), 0);
    const use = l.usage(1).find((u) => u.ruleId === "historicalIdentical");
    expect(use?.keys).toBe(10);
  });
});

describe("restamp", () => {
  it("moves a request's entries to its answer time", () => {
    const l = new PacingLedger(DEFAULT_RULES);
    for (let i = 0; i < 5; i++) l.record(hist(i), 0);
    expect(l.check(hist(9), 1_999)?.ruleId).toBe("historicalSameContract");
    // The gateway answered them at t=300: they count until 2_300.
    for (let i = 0; i < 5; i++) l.restamp("t", `hist:${i}`, 300);
    expect(l.check(hist(9), 2_000)?.ruleId).toBe("historicalSameContract");
    expect(l.check(hist(9), 2_300)).toBeUndefined();
    // Only once, and never backwards.
    l.restamp("t", "hist:0", 5_000);
    l.restamp("t", "hist:1", -10);
    expect(l.check(hist(9), 2_300)).toBeUndefined();
  });
});
