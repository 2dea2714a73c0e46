import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import type { LineView } from "../daemon/health.js";
import { PoolHistory } from "./pool-history.js";

function fakeView() {
  const v = { count: 0, rtt: 10 as number | null };
  return {
    v,
    view: {
      lines: () => [{ name: "default", state: "ready", heartbeatRttMs: v.rtt } as LineView],
      requests: () => [
        { kind: "history", outcome: "ok", count: v.count },
        { kind: "quote", outcome: "ok", count: 1 },
      ],
    },
  };
}

describe("PoolHistory", () => {
  it("samples on its interval, with the request rate since the previous sample", () => {
    const clock = new ManualClock();
    const { v, view } = fakeView();
    const h = new PoolHistory(view, { clock, closing: new AbortController().signal, intervalMs: 1_000 });
    v.count = 2;
    clock.advance(1_000);
    v.count = 12;
    v.rtt = null;
    clock.advance(1_000);
    const [start, a, b] = h.samples();
    expect(start).toMatchObject({ requests: 1, requestRate: 0 });
    expect(a).toMatchObject({ requests: 3, requestRate: 2, lines: [{ heartbeatRttMs: 10 }] });
    expect(b).toMatchObject({
      requests: 13,
      requestRate: 10,
      lines: [{ name: "default", heartbeatRttMs: null }],
    });
    expect(h.samples(a!.ts)).toEqual([b]);
  });

  it("keeps only the newest `size` samples, oldest first", () => {
    const clock = new ManualClock();
    const h = new PoolHistory(fakeView().view, {
      clock,
      closing: new AbortController().signal,
      intervalMs: 10,
      size: 3,
    });
    clock.advance(50);
    const ts = h.samples().map((s) => s.ts);
    expect(ts).toEqual([30, 40, 50].map((d) => 1_700_000_000_000 + d));
    expect(h.capacity).toBe(3);
  });

  it("stops sampling when the server closes", () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const h = new PoolHistory(fakeView().view, { clock, closing: ac.signal, intervalMs: 10 });
    clock.advance(10);
    ac.abort();
    clock.advance(100);
    expect(h.samples()).toHaveLength(2);
    expect(h.state).toBe("stopped");
    expect(clock.pending).toBe(0);
  });
});
