import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { isSleep, SleepDetector, sleepThresholdMs } from "./sleep-detector.js";

describe("sleep threshold", () => {
  it.each([
    [1_000, 10_000, 10_000],
    [5_000, 10_000, 15_000],
    [500, 10_000, 10_000],
  ])("interval %i, min %i → %i", (interval, min, expected) => {
    expect(sleepThresholdMs(interval, min)).toBe(expected);
  });

  it("counts only lateness strictly above the threshold", () => {
    expect(isSleep(1_000, 11_000, 1_000, 10_000)).toBe(false);
    expect(isSleep(1_000, 11_001, 1_000, 10_000)).toBe(true);
  });
});

describe("SleepDetector", () => {
  it("stays quiet while time moves normally", () => {
    const clock = new ManualClock();
    const sleeps: number[] = [];
    const d = new SleepDetector(clock, { intervalMs: 1_000, minLateMs: 10_000 }, (e) =>
      sleeps.push(e.lateMs),
    );
    d.start();
    clock.advance(60_000);
    expect(sleeps).toEqual([]);
    d.stop();
    expect(clock.pending).toBe(0);
  });

  it("reports a wall-clock jump as a sleep, once", () => {
    const clock = new ManualClock();
    const sleeps: number[] = [];
    const d = new SleepDetector(clock, { intervalMs: 1_000, minLateMs: 10_000 }, (e) =>
      sleeps.push(e.lateMs),
    );
    d.start();
    clock.advance(500);
    clock.jump(30_000);
    clock.advance(0);
    expect(sleeps).toEqual([29_500]);
    clock.advance(5_000);
    expect(sleeps).toHaveLength(1);
    d.stop();
  });

  it("ignores a short stall below the threshold", () => {
    const clock = new ManualClock();
    const sleeps: number[] = [];
    const d = new SleepDetector(clock, { intervalMs: 1_000, minLateMs: 10_000 }, (e) =>
      sleeps.push(e.lateMs),
    );
    d.start();
    clock.jump(9_000);
    clock.advance(0);
    expect(sleeps).toEqual([]);
    d.stop();
  });
});
