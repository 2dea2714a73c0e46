/** The chaos checks and schedule as pure functions: each check fires on the fault it names, and only then. */
import { describe, expect, it } from "vitest";
import {
  acceptedOrders,
  checkLeases,
  checkOrdersIdentity,
  checkOrdersOnce,
  HeldLinesCheck,
  percentile,
  slope,
} from "./invariants.js";
import { faultSchedule } from "./schedule.js";

const order = (clientId: number, orderId: number, orderRef: string, placeCount = 1) => ({
  clientId,
  orderId,
  orderRef,
  placeCount,
});

describe("orders.once", () => {
  it("passes one gateway order per orderRef, modified any number of times", () => {
    expect(checkOrdersOnce([order(900, 1, "a"), order(900, 2, "b")])).toEqual([]);
  });
  it("names an orderRef with two gateway orders, and one created twice", () => {
    expect(checkOrdersOnce([order(900, 1, "a"), order(901, 7, "a")])).toEqual([
      "orderRef a: 2 gateway orders (client 900 order 1, client 901 order 7)",
    ]);
    expect(checkOrdersOnce([order(900, 1, "a", 2)])).toEqual([
      "orderRef a: created by 2 PLACE_ORDER messages",
    ]);
  });
});

describe("orders.identity", () => {
  const journal = [
    JSON.stringify({
      k: "order",
      owner: "proxy:5",
      localId: 3,
      upstreamId: 11,
      upstreamClientId: 900,
      orderRef: "a",
    }),
    JSON.stringify({ k: "written", upstreamId: 11 }),
    '{"k":"order","owner":"proxy:6","loc', // a torn last line
  ].join("\n");

  it("reads the order records of a journal, skipping other kinds and a torn line", () => {
    expect(acceptedOrders(journal)).toEqual([{ orderRef: "a", upstreamClientId: 900, upstreamId: 11 }]);
  });
  it("passes an order under the client id and order id it was accepted for", () => {
    expect(checkOrdersIdentity([order(900, 11, "a")], acceptedOrders(journal))).toEqual([]);
  });
  it("names an order under another client id, and one the daemon never accepted", () => {
    expect(checkOrdersIdentity([order(901, 11, "a")], acceptedOrders(journal))).toEqual([
      "orderRef a is at the gateway as client 901 order 11, accepted as client 900 order 11",
    ]);
    expect(checkOrdersIdentity([order(77, 500, "zz")], acceptedOrders(journal))[0]).toMatch(/never accepted/);
  });
});

describe("leases.ttl", () => {
  it("names a lease listed past its expiry and grace only", () => {
    const leases = [
      { clientId: 10, purpose: "workers", expiresAt: 1_000, pid: null },
      { clientId: 11, purpose: "workers", expiresAt: 9_000, pid: null },
    ];
    expect(checkLeases(leases, 5_000, 3_000)).toEqual(["lease workers/10 listed 4000 ms past its expiry"]);
  });
});

describe("lines.held", () => {
  it("forgives a difference that settles, reports one that lasts, once", () => {
    const c = new HeldLinesCheck(10_000);
    expect(c.sample(0, true, 3, 2)).toBeUndefined();
    expect(c.sample(5_000, true, 3, 3)).toBeUndefined(); // settled
    expect(c.sample(6_000, true, 3, 2)).toBeUndefined();
    expect(c.sample(15_000, true, 3, 2)).toBeUndefined();
    expect(c.sample(16_000, true, 3, 2)).toMatch(/holds 3 .* serves 2/);
    expect(c.sample(17_000, true, 3, 2)).toBeUndefined(); // reported once
  });
  it("does not judge while the line is not ready", () => {
    const c = new HeldLinesCheck(1_000);
    expect(c.sample(0, false, 5, 0)).toBeUndefined();
    expect(c.sample(5_000, false, 5, 0)).toBeUndefined();
  });
});

describe("schedule", () => {
  const o = {
    seed: 42,
    durationMs: 600_000,
    warmupMs: 10_000,
    cooldownMs: 20_000,
    meanGapMs: 5_000,
    redis: false,
  };
  it("is a pure function of its inputs", () => {
    expect(faultSchedule(o)).toEqual(faultSchedule(o));
    expect(faultSchedule({ ...o, seed: 43 })).not.toEqual(faultSchedule(o));
  });
  it("keeps faults between warm-up and cool-down, in order, without Redis faults when there is no Redis", () => {
    const s = faultSchedule(o);
    expect(s.length).toBeGreaterThan(50);
    for (const [i, f] of s.entries()) {
      expect(f.at).toBeGreaterThanOrEqual(o.warmupMs);
      expect(f.at + f.ms).toBeLessThan(o.durationMs - o.cooldownMs);
      if (i > 0) expect(f.at).toBeGreaterThan(s[i - 1]!.at + s[i - 1]!.ms);
      expect(f.kind).not.toBe("redisRestart");
    }
    expect(new Set(s.map((f) => f.kind)).size).toBeGreaterThanOrEqual(12);
  });
  it("leaves out excluded kinds", () => {
    expect(faultSchedule({ ...o, exclude: ["daemonKill"] }).some((f) => f.kind === "daemonKill")).toBe(false);
  });
});

describe("statistics", () => {
  it("percentile by nearest rank, slope by least squares", () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([], 99)).toBeUndefined();
    expect(
      slope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 5 },
      ]),
    ).toBeCloseTo(2);
  });
});
