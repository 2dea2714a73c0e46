import { describe, expect, it } from "vitest";
import { AdaptiveConcurrency, IB_OPEN_HISTORICAL } from "./concurrency.js";

/** Answers at `perMs` answers per ms for one full window of the current limit; returns the limit. */
function window(c: AdaptiveConcurrency, clock: { t: number }, perMs: (limit: number) => number): number {
  const n = Math.max(c.limit, 4);
  for (let i = 0; i < n; i++) {
    clock.t += 1 / perMs(c.limit);
    c.answered(clock.t);
  }
  return c.limit;
}

describe("adaptive concurrency", () => {
  it("climbs while more in flight answers faster, and stays under IB's 50 open requests", () => {
    const c = new AdaptiveConcurrency({ initial: 8 });
    const clock = { t: 0 };
    c.started(clock.t);
    // Latency independent of the load: throughput grows with what is in flight.
    for (let i = 0; i < 60; i++) window(c, clock, (limit) => limit / 100);
    expect(c.limit).toBe(IB_OPEN_HISTORICAL - 2);
  });

  it("gives back slots when an increase made answers slower (a saturated service)", () => {
    const c = new AdaptiveConcurrency({ initial: 8 });
    const clock = { t: 0 };
    c.started(clock.t);
    // Up to 12 in flight the service keeps up; beyond, each extra request slows everyone.
    const rate = (limit: number) => (limit <= 12 ? limit / 100 : 12 / 100 / (1 + (limit - 12) / 2));
    const seen: number[] = [];
    for (let i = 0; i < 40; i++) seen.push(window(c, clock, rate));
    expect(Math.max(...seen)).toBeLessThan(20);
    expect(seen.at(-1)).toBeLessThanOrEqual(14);
  });

  it("halves at once when IB refuses for pacing, never below 1", () => {
    const c = new AdaptiveConcurrency({ initial: 8 });
    c.pacing();
    expect(c.limit).toBe(4);
    for (let i = 0; i < 5; i++) c.pacing();
    expect(c.limit).toBe(1);
  });
});
