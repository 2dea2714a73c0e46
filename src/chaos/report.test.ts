import { describe, expect, it } from "vitest";
import { type RunFacts, type Sample, summarize, table } from "./report.js";

function facts(samples: Sample[]): RunFacts {
  return {
    seed: 7,
    minutes: 30,
    clients: 4,
    redis: false,
    exclude: ["daemonKill"],
    durationMs: samples.at(-1)?.at ?? 0,
    faults: [],
    violations: [],
    checks: {},
    samples,
    requests: { sent: 0, answered: 0, errored: 0, lost: 0, overdue: 0 },
    http: { ok: 0, errors: 0, refused: 0 },
    leases: { leased: 0, released: 0, abandoned: 0 },
    daemonRestarts: 1,
  };
}

const sample = (at: number, rssMB: number, daemonRestarts: number): Sample => ({
  at,
  rssMB,
  heapMB: rssMB / 2,
  lagMs: 1,
  reconnects: daemonRestarts,
  ready: true,
  daemonRestarts,
});

describe("chaos report: memory", () => {
  it("fits the slope on the longest stretch without a daemon restart, after its warm-up", () => {
    const samples: Sample[] = [];
    // 10 minutes growing fast (a leak or a warm-up), then a restart and 40 flat minutes.
    for (let i = 0; i < 60; i++) samples.push(sample(i * 10_000, 100 + i, 0));
    for (let i = 0; i < 240; i++) samples.push(sample(600_000 + i * 10_000, i < 48 ? 80 + i : 128, 1));
    const r = summarize(facts(samples));
    expect(r.memory.stretchMinutes).toBeCloseTo(39.8, 1);
    expect(r.memory.slopeMBPerHour).toBe(0);
    expect(table(r)).toContain("without daemonKill");
  });
});

describe("chaos report: live heap", () => {
  it("fits the live heap's slope on its longest stretch without a restart, after its first fifth", () => {
    const f = facts([sample(0, 100, 0)]);
    // Five minutes at 30 MB, a restart, then 20 minutes: a warm-up of 4 minutes, then +0.1 MB a minute.
    f.liveHeap = [];
    for (let m = 0; m < 5; m++) f.liveHeap.push({ at: m * 60_000, mb: 30, codeMB: 3, daemonRestarts: 0 });
    for (let m = 0; m < 20; m++) {
      const grown = Math.max(0, m - 4);
      f.liveHeap.push({
        at: (5 + m) * 60_000,
        mb: m < 4 ? 20 + m : 24 + 0.1 * grown,
        codeMB: 2 + 0.05 * grown,
        daemonRestarts: 1,
      });
    }
    const r = summarize(f);
    expect(r.memory.liveHeapSlopeMBPerHour).toBeCloseTo(6, 5);
    expect(r.memory.liveHeapStartMB).toBe(24);
    expect(r.memory.liveHeapEndMB).toBe(25.5);
    expect(r.memory.liveCodeSlopeMBPerHour).toBeCloseTo(3, 5);
    expect(table(r)).toContain(
      "live heap        24 → 25.5 MB after a full GC, slope 6 MB/h, of which compiled code 3 MB/h",
    );
  });

  it("says nothing of the live heap when the run did not measure it", () => {
    const r = summarize(facts([sample(0, 100, 0)]));
    expect(r.memory.liveHeapSlopeMBPerHour).toBeNull();
    expect(r.memory.liveCodeSlopeMBPerHour).toBeNull();
    expect(table(r)).not.toContain("live heap");
  });
});
