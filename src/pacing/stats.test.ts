import { describe, expect, it } from "vitest";
import { PacerStats, quantile } from "./stats.js";

describe("PacerStats", () => {
  it("keeps p50/p99 over a bounded ring and totals per rule", () => {
    const s = new PacerStats(0, 100);
    for (let i = 1; i <= 1_000; i++) s.recordRelease("historicalData", i, "historicalTotal");
    s.recordRelease("other", 0, undefined);
    const snap = s.snapshot();
    expect(snap.waits.sample).toBe(100);
    expect(snap.waits.count).toBe(1_001);
    expect(snap.waits.waited).toBe(1_000);
    expect(snap.waits.maxMs).toBe(1_000);
    expect(snap.waits.p50Ms).toBe(950);
    expect(snap.waits.p99Ms).toBe(999);
    expect(snap.waits.byRule.historicalTotal).toEqual({ count: 1_000, totalMs: 500_500, maxMs: 1_000 });
    expect(snap.releasedByKind).toEqual({ historicalData: 1_000, other: 1 });
  });

  it("nearest-rank quantiles", () => {
    expect(quantile([], 0.5)).toBe(0);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
  });
});
