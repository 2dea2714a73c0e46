/**
 * The chaos harness end to end: real processes (mock, daemon), real clients, seeded faults.
 * A short seeded run must end with zero violations, and a run with a deliberate fault of the
 * system (a second gateway order for an orderRef already placed, written straight to the
 * gateway) must be caught by the checks. Outcomes only; the time limits are hang guards.
 */
import { describe, expect, it } from "vitest";
import { runChaos } from "./run.js";

describe("chaos run", () => {
  it("a seeded 60-second run (10 clients, a fault every 5 s on average) ends with zero violations", async () => {
    const r = await runChaos({ minutes: 1, clients: 10, seed: 1, liveHeap: true });
    expect(r.violations).toEqual([]);
    // The daemon's live heap, read through its inspector after a full GC.
    expect(r.liveHeap?.length ?? 0).toBeGreaterThanOrEqual(1);
    for (const h of r.liveHeap ?? []) {
      expect(h.mb).toBeGreaterThan(1);
      expect(h.codeMB).toBeGreaterThan(0);
      expect(h.codeMB).toBeLessThan(h.mb);
    }
    expect(r.faults.length).toBeGreaterThanOrEqual(4);
    expect(r.requests.sent).toBeGreaterThan(100);
    expect(r.checks["orders.once"] ?? 0).toBeGreaterThan(0);
    expect(r.checks["lines.held"] ?? 0).toBeGreaterThan(0);
  }, 240_000);

  it("catches a deliberate duplicate placement (and names the orderRef)", async () => {
    const r = await runChaos({
      minutes: 0.5,
      clients: 4,
      seed: 3,
      sabotage: "duplicate-order",
      exclude: ["daemonKill"],
    });
    const caught = r.violations.filter((v) => v.check === "orders.once");
    expect(caught.length).toBeGreaterThan(0);
    expect(caught[0]!.detail).toMatch(/^orderRef chaos3:c\d+:\d+: 2 gateway orders/);
    // The stray order was never accepted by the daemon: the identity check sees it too.
    expect(r.violations.some((v) => v.check === "orders.identity" && /client 77/.test(v.detail))).toBe(true);
  }, 120_000);
});
