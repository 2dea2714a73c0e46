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
