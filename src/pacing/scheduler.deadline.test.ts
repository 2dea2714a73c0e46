/**
 * The pacer's movable deadlines (onDeadline / onQueued): a deadline moved while the
 * item's own onDeadline runs must not leave a second timer behind.
 */
import { describe, expect, it } from "vitest";
import { type Clock, ManualClock } from "../clock.js";
import { pacingRequest } from "./request.js";
import { applyRulesOverride, DEFAULT_RULES } from "./rules.js";
import { Pacer, type QueuedWait } from "./scheduler.js";

const UNHEARD_OFF = applyRulesOverride(DEFAULT_RULES, { rules: { messageRate: { holdUnheardMs: 0 } } });

describe("Pacer movable deadlines", () => {
  it("a deadline moved from inside onDeadline leaves one timer: onDeadline never runs after the item was released", async () => {
    const clock = new ManualClock(0);
    const pacer = new Pacer({ clock, rules: UNHEARD_OFF, deadlineMs: 1e9 });
    const depth = (i: number) => pacingRequest({ tenant: "a", kind: "marketDepth", hold: `depth:${i}` });
    // Three depth slots are taken: the fourth waits.
    for (let i = 0; i < 3; i++) void pacer.acquire(depth(i));
    let wait: QueuedWait | undefined;
    const calls: number[] = [];
    let released = false;
    const item = pacer.acquire(depth(3), {
      deadlineMs: 1_000,
      onQueued: (w) => {
        wait = w;
      },
      onRelease: () => {
        released = true;
      },
      onDeadline: () => {
        calls.push(clock.now());
        // As the switch does when a member joins the group while its deadline passes (a
        // tenant that retries at once on the timeout it was just told of).
        if (calls.length === 1) wait?.setDeadline(2_000);
        return 2_000;
      },
    });
    clock.advance(1_000);
    expect(calls).toEqual([1_000]);
    // A slot frees: the item goes out.
    pacer.release("a", "depth:0");
    await item;
    expect(released).toBe(true);
    const atRelease = calls.length;
    // Nothing may wake it after it left the queue.
    clock.advance(10_000);
    expect(calls.length).toBe(atRelease);
  });
});

describe("Pacer deadline timers", () => {
  it("arms no timer for a request that leaves at once, and the full deadline for one that waits", async () => {
    const manual = new ManualClock(0);
    let armed = 0;
    const clock: Clock = {
      now: () => manual.now(),
      setTimeout: (fn, ms) => {
        armed++;
        return manual.setTimeout(fn, ms);
      },
      clearTimeout: (h) => manual.clearTimeout(h),
    };
    const pacer = new Pacer({ clock, rules: UNHEARD_OFF, deadlineMs: 5_000 });
    const depth = (i: number) => pacingRequest({ tenant: "a", kind: "marketDepth", hold: `depth:${i}` });
    for (let i = 0; i < 3; i++) await pacer.acquire(depth(i));
    // Released in the pump that queued them: no deadline timer was armed for any.
    expect(armed).toBe(0);
    // The fourth finds the three depth slots taken: it waits, under its deadline.
    const fourth = pacer.acquire(depth(3));
    expect(manual.pending).toBe(1);
    manual.advance(4_999);
    pacer.release("a", "depth:0");
    await expect(fourth).resolves.toMatchObject({ waitedMs: 4_999 });
    expect(manual.pending).toBe(0);
    const fifth = pacer.acquire(depth(4));
    manual.advance(5_000);
    await expect(fifth).rejects.toMatchObject({ code: "pacing_timeout" });
  });
});

describe("Pacer wait accounting", () => {
  it("counts no wait for a request released in the call that queued it, even when the clock's millisecond turns meanwhile", async () => {
    // A busy machine: every reading of the clock finds the next millisecond.
    const manual = new ManualClock(0);
    const clock: Clock = {
      now: () => {
        manual.advance(1);
        return manual.now();
      },
      setTimeout: (fn, ms) => manual.setTimeout(fn, ms),
      clearTimeout: (h) => manual.clearTimeout(h),
    };
    const pacer = new Pacer({ clock, rules: UNHEARD_OFF, deadlineMs: 5_000 });
    const depth = (i: number) => pacingRequest({ tenant: "a", kind: "marketDepth", hold: `depth:${i}` });
    const permits = [];
    for (let i = 0; i < 3; i++) permits.push(await pacer.acquire(depth(i)));
    expect(permits.map((p) => p.waitedMs)).toEqual([0, 0, 0]);
    expect(pacer.stats().waits.waited).toBe(0);
    // One that finds the slots taken still waits, and is counted.
    const fourth = pacer.acquire(depth(3));
    pacer.release("a", "depth:0");
    expect((await fourth).waitedMs).toBeGreaterThan(0);
    expect(pacer.stats().waits.waited).toBe(1);
  });
});
