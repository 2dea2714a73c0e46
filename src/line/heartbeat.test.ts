import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { Heartbeat, type HeartbeatEvent, type HeartbeatOptions, type StaleInfo } from "./heartbeat.js";

const OPTIONS: HeartbeatOptions = { idleMs: 2_000, deadlineMs: 2_500, maxMissed: 1, sleepMinLateMs: 10_000 };

function setup(options: Partial<HeartbeatOptions> = {}) {
  const clock = new ManualClock();
  const probes: number[] = [];
  const stale: StaleInfo[] = [];
  const events: HeartbeatEvent[] = [];
  const hb = new Heartbeat(
    {
      probe: () => probes.push(clock.now()),
      stale: (info) => stale.push(info),
      emit: (e) => events.push(e),
    },
    clock,
    { ...OPTIONS, ...options },
  );
  return { clock, hb, probes, stale, events, t0: clock.now() };
}

describe("Heartbeat", () => {
  it("probes only after idleMs of silence", () => {
    const { clock, hb, probes, t0 } = setup();
    hb.start();
    clock.advance(1_999);
    expect(probes).toEqual([]);
    clock.advance(1);
    expect(probes).toEqual([t0 + 2_000]);
  });

  it("does not probe a busy line", () => {
    const { clock, hb, probes } = setup();
    hb.start();
    for (let i = 0; i < 100; i++) {
      clock.advance(500);
      hb.received();
    }
    expect(probes).toEqual([]);
    expect(hb.state).toBe("idle");
  });

  it("re-arms for the rest of the idle period after traffic", () => {
    const { clock, hb, probes, t0 } = setup();
    hb.start();
    clock.advance(1_500);
    hb.received();
    clock.advance(500); // first timer fires, line was quiet only 500 ms
    expect(probes).toEqual([]);
    clock.advance(1_500);
    expect(probes).toEqual([t0 + 3_500]);
  });

  it("declares a silent line stale at idle + deadline (4.5 s with defaults)", () => {
    const { clock, hb, stale, t0 } = setup();
    hb.start();
    clock.advance(4_499);
    expect(stale).toEqual([]);
    clock.advance(1);
    expect(stale).toEqual([{ missed: 1, quietMs: 4_500 }]);
    expect(hb.state).toBe("stale");
    expect(clock.now() - t0).toBe(4_500);
    clock.advance(60_000);
    expect(stale).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it("keeps a slow line that answers before the deadline and measures its RTT", () => {
    const { clock, hb, stale, events } = setup();
    hb.start();
    for (let i = 0; i < 10; i++) {
      clock.advance(2_000);
      clock.advance(2_400);
      hb.answered();
    }
    expect(stale).toEqual([]);
    expect(hb.rttMs).toBe(2_400);
    expect(events.filter((e) => e.type === "rtt")).toHaveLength(10);
  });

  it("counts any inbound message as an answer", () => {
    const { clock, hb, stale } = setup();
    hb.start();
    clock.advance(2_000);
    expect(hb.state).toBe("probing");
    clock.advance(1_000);
    hb.received();
    expect(hb.state).toBe("idle");
    clock.advance(2_000);
    expect(hb.state).toBe("probing");
    expect(stale).toEqual([]);
  });

  it("retries up to maxMissed before declaring stale", () => {
    const { clock, hb, probes, stale } = setup({ maxMissed: 3 });
    hb.start();
    clock.advance(2_000 + 2_500 * 2);
    expect(probes).toHaveLength(3);
    expect(stale).toEqual([]);
    clock.advance(2_500);
    expect(stale).toEqual([{ missed: 3, quietMs: 9_500 }]);
  });

  it("treats a deadline that lapsed during a sleep as a reason to probe again", () => {
    const { clock, hb, probes, stale, events } = setup();
    hb.start();
    clock.advance(2_000);
    expect(probes).toHaveLength(1);
    clock.jump(60_000);
    clock.advance(0);
    expect(stale).toEqual([]);
    expect(probes).toHaveLength(2);
    expect(events.some((e) => e.type === "sleep")).toBe(true);
    hb.answered();
    expect(hb.state).toBe("idle");
  });

  it("probes at once when an idle timer fires after a sleep", () => {
    const { clock, hb, probes, events } = setup();
    hb.start();
    clock.advance(100);
    clock.jump(30_000);
    clock.advance(0);
    expect(probes).toHaveLength(1);
    expect(events.find((e) => e.type === "probe")).toMatchObject({ reason: "sleep" });
  });

  it("probeNow probes an idle line once and ignores a line already probing", () => {
    const { clock, hb, probes } = setup();
    hb.start();
    clock.advance(100);
    hb.probeNow("sleep");
    hb.probeNow("sleep");
    expect(probes).toHaveLength(1);
  });

  it("stop cancels every timer", () => {
    const { clock, hb, probes } = setup();
    hb.start();
    hb.stop();
    expect(clock.pending).toBe(0);
    hb.probeNow();
    clock.advance(10_000);
    expect(probes).toEqual([]);
  });
});
