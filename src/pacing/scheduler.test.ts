import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { isSwitchboardError } from "../errors.js";
import { findViolations, type ScheduledRequest } from "./checker.js";
import { type PacingRequest, pacingRequest } from "./request.js";
import { applyRulesOverride, DEFAULT_RULES, type PacingRules, scaleRules } from "./rules.js";
import { Pacer, type PacerOptions } from "./scheduler.js";

/** IB's table without the hold on unheard messages: these tests have no gateway to hear from. */
const UNHEARD_OFF = applyRulesOverride(DEFAULT_RULES, { rules: { messageRate: { holdUnheardMs: 0 } } });

function harness(options: PacerOptions = {}) {
  const clock = new ManualClock(0);
  const rules: PacingRules = options.rules ?? UNHEARD_OFF;
  // A 10 ms guard keeps the arithmetic below readable (the default is max(50 ms, 2 %)).
  const pacer = new Pacer({ clock, rules, deadlineMs: 1e9, guardMinMs: 10, guardFraction: 0.01, ...options });
  const sent: ScheduledRequest[] = [];
  const ends: { at: number; tenant: string; hold: string }[] = [];
  const errors: unknown[] = [];
  // Historical answers arrive `answerMs` after the request and free its open-request slot.
  const answerMs = 50;
  const submit = (req: PacingRequest, opts: { signal?: AbortSignal; deadlineMs?: number } = {}) =>
    pacer
      .acquire(req, {
        ...opts,
        onRelease: (p) => {
          if (p.elided) return;
          sent.push({ at: clock.now(), request: p.request });
          const { hold, tenant, kind } = p.request;
          if (hold !== undefined && kind === "historicalData") {
            clock.setTimeout(() => {
              ends.push({ at: clock.now(), tenant, hold });
              pacer.release(tenant, hold);
            }, answerMs);
          }
        },
      })
      .catch((err: unknown) => {
        errors.push(err);
        return undefined;
      });
  return { clock, pacer, sent, ends, errors, submit, rules };
}

const hist = (tenant: string, i: number, contract = `#${i}`) =>
  pacingRequest({
    tenant,
    kind: "historicalData",
    key: {
      contract,
      exchange: "SMART",
      whatToShow: "TRADES",
      end: `e${i}`,
      duration: "1800 S",
      barSize: "30 secs",
    },
    hold: `hist:${tenant}${i}`,
  });

const flush = () => new Promise<void>((r) => setImmediate(r));

describe("Pacer", () => {
  it("spreads a burst over the window (5 per 100 ms), 45 a window, never a violation", async () => {
    const h = harness();
    for (let i = 0; i < 100; i++) void h.submit(pacingRequest({ tenant: "a", kind: "other" }));
    expect(h.sent).toHaveLength(5);
    h.clock.advance(99);
    expect(h.sent).toHaveLength(5);
    h.clock.advance(1);
    expect(h.sent).toHaveLength(10);
    h.clock.advance(700);
    expect(h.sent).toHaveLength(45);
    // The window (1,000 ms + a 10 ms guard) is full until its first five leave.
    h.clock.advance(209);
    expect(h.sent).toHaveLength(45);
    h.clock.advance(1);
    expect(h.sent).toHaveLength(50);
    h.clock.advance(3_000);
    expect(h.sent).toHaveLength(100);
    expect(findViolations(h.rules, h.sent)).toEqual([]);
    // However late the gateway reads a step (up to 150 ms more than the next), no second of
    // its reading holds more than 50.
    const at = h.sent.map((x) => x.at);
    for (const delay of [50, 100, 150]) {
      const read = at.map((t) => (Math.floor(t / 100) % 2 === 0 ? t + delay : t));
      read.sort((a, b) => a - b);
      for (let i = 0; i < read.length; i++) {
        const inSecond = read.filter((t) => t >= read[i]! && t < read[i]! + 1_000).length;
        expect(inSecond).toBeLessThanOrEqual(50);
      }
    }
    await flush();
    expect(h.pacer.stats().waits.byRule.messageRate?.count).toBe(95);
  });

  it("messages sent into the gateway's silence keep counting until it speaks (at most 5 s)", () => {
    const h = harness({ rules: DEFAULT_RULES });
    for (let i = 0; i < 60; i++) void h.submit(pacingRequest({ tenant: "a", kind: "other" }));
    h.clock.advance(800);
    expect(h.sent).toHaveLength(45);
    // Nothing came back: a frozen gateway may count all 45 when it wakes, so the window stays full.
    h.clock.advance(2_000);
    expect(h.sent).toHaveLength(45);
    // It speaks at 2.8 s: the 45 count from then, and leave the window a second later.
    h.pacer.heard();
    h.clock.advance(1_009);
    expect(h.sent).toHaveLength(45);
    h.clock.advance(1);
    expect(h.sent).toHaveLength(50);
    // A gateway that never speaks again holds nothing longer than 5 s.
    h.clock.advance(10_000);
    expect(h.sent).toHaveLength(60);
  });

  it("sends nothing for a second after IB's error 100 (its window must drain)", () => {
    const h = harness();
    void h.submit(pacingRequest({ tenant: "a", kind: "other" }));
    expect(h.sent).toHaveLength(1);
    h.pacer.observeError(100, "Max rate of messages per second has been exceeded:max=50");
    void h.submit(pacingRequest({ tenant: "a", kind: "other" }));
    void h.submit(pacingRequest({ tenant: "b", kind: "heartbeat" }));
    h.clock.advance(999);
    expect(h.sent).toHaveLength(1);
    h.clock.advance(1);
    expect(h.sent.map((x) => x.request.kind)).toEqual(["other", "heartbeat", "other"]);
    expect(h.pacer.stats().violations).toEqual({ total: 1, byCode: { "100": 1 } });
  });

  it("heartbeats and cancels overtake queued requests", () => {
    const h = harness();
    for (let i = 0; i < 60; i++) void h.submit(pacingRequest({ tenant: "a", kind: "other" }));
    void h.submit(pacingRequest({ tenant: "b", kind: "heartbeat" }));
    expect(h.sent).toHaveLength(5);
    h.clock.advance(100);
    expect(h.sent[5]?.request.kind).toBe("heartbeat");
  });

  it("a cancel frees a capacity slot at once", () => {
    const h = harness();
    const depth = (i: number) => pacingRequest({ tenant: "a", kind: "marketDepth", hold: `depth:${i}` });
    for (let i = 0; i < 4; i++) void h.submit(depth(i));
    h.clock.advance(5_000);
    expect(h.sent.map((s) => s.request.hold)).toEqual(["depth:0", "depth:1", "depth:2"]);
    void h.submit(pacingRequest({ tenant: "a", kind: "cancel", releases: "depth:1" }));
    expect(h.sent.map((s) => s.request.kind)).toEqual([
      "marketDepth",
      "marketDepth",
      "marketDepth",
      "cancel",
      "marketDepth",
    ]);
    expect(h.sent[4]?.at).toBe(5_000);
    // The end of a request (answer or error) frees its slot too.
    void h.submit(depth(9));
    expect(h.sent).toHaveLength(5);
    h.pacer.release("a", "depth:0");
    expect(h.sent.at(-1)?.request.hold).toBe("depth:9");
  });

  it("a cancel of a request still queued drops both and sends nothing", async () => {
    const h = harness();
    const depth = (i: number) => pacingRequest({ tenant: "a", kind: "marketDepth", hold: `depth:${i}` });
    for (let i = 0; i < 4; i++) void h.submit(depth(i));
    const permit = await h.pacer.acquire(pacingRequest({ tenant: "a", kind: "cancel", releases: "depth:3" }));
    expect(permit.elided).toBe(true);
    await flush();
    expect(h.errors).toHaveLength(1);
    expect(h.sent).toHaveLength(3);
    expect(h.pacer.stats().elided).toBe(1);
  });

  it("shares the historical budget fairly between two greedy tenants", () => {
    const h = harness();
    for (let i = 0; i < 300; i++) {
      void h.submit(hist("a", i));
      void h.submit(hist("b", i));
    }
    h.clock.advance(4 * 600_000);
    const count = (t: string) => h.sent.filter((s) => s.request.tenant === t).length;
    const a = count("a");
    const b = count("b");
    expect(a + b).toBeGreaterThanOrEqual(4 * 60);
    expect(Math.abs(a - b) / ((a + b) / 2)).toBeLessThanOrEqual(0.1);
    expect(findViolations(h.rules, h.sent, h.ends)).toEqual([]);
  });

  it("a late price agent is not starved by a greedy backfill", () => {
    const h = harness();
    for (let i = 0; i < 500; i++) void h.submit(hist("backfill", i));
    h.clock.advance(100_000);
    for (let i = 0; i < 10; i++) void h.submit(hist("agent", i, `#agent${i}`));
    h.clock.advance(600_000);
    const agent = h.sent.filter((s) => s.request.tenant === "agent");
    expect(agent).toHaveLength(10);
    // Agent and backfill alternate in the next window: all 10 go among its first 20.
    const firstOfWindow = h.sent.findIndex((s) => s.at > 100_000);
    const lastAgent = h.sent.map((s) => s.request.tenant).lastIndexOf("agent");
    expect(lastAgent - firstOfWindow).toBeLessThan(20);
  });

  it("rejects past the deadline with pacing_timeout, on abort, and on a full queue", async () => {
    const h = harness({ maxQueuePerTenant: 3 });
    const depth = (i: number) => pacingRequest({ tenant: "a", kind: "marketDepth", hold: `depth:${i}` });
    for (let i = 0; i < 3; i++) void h.submit(depth(i));
    const late = h.pacer.acquire(depth(3), { deadlineMs: 2_000 });
    const ac = new AbortController();
    const aborted = h.pacer.acquire(depth(4), { signal: ac.signal });
    const ok = h.pacer.acquire(depth(5));
    const full = h.pacer.acquire(depth(6));
    ac.abort();
    h.clock.advance(2_000);
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => "resolved",
        (e) => (isSwitchboardError(e) ? e.code : "?"),
      );
    expect(await codeOf(late)).toBe("pacing_timeout");
    expect(await codeOf(aborted)).toBe("aborted");
    expect(await codeOf(full)).toBe("queue_full");
    h.pacer.destroy();
    expect(await codeOf(ok)).toBe("closed");
    expect(await codeOf(h.pacer.acquire(depth(7)))).toBe("closed");
    expect(h.pacer.stats().rejected).toMatchObject({ timeout: 1, aborted: 1, overflow: 1, closed: 1 });
  });

  it("an item waits past its deadline when onDeadline says so, in its place, and its deadline moves", async () => {
    const h = harness();
    const depth = (i: number) => pacingRequest({ tenant: "a", kind: "marketDepth", hold: `depth:${i}` });
    for (let i = 0; i < 3; i++) void h.submit(depth(i));
    h.clock.advance(100);
    const seen: string[] = [];
    let wait: { setDeadline(ms: number): void } | undefined;
    const extended = h.pacer.acquire(depth(3), {
      deadlineMs: 1_000,
      onQueued: (w) => {
        wait = w;
      },
      onDeadline: (err) => {
        seen.push(`${h.clock.now()}:${err.code}`);
        return seen.length === 1 ? 5_000 : undefined;
      },
    });
    const behind = h.pacer.acquire(depth(4), { deadlineMs: 1e9 });
    h.clock.advance(1_000);
    expect(seen).toEqual(["1100:pacing_timeout"]);
    // Moved earlier than the 5 s it was given: it expires then, and fails (the callback says so).
    wait?.setDeadline(500);
    h.clock.advance(500);
    expect(seen).toEqual(["1100:pacing_timeout", "1600:pacing_timeout"]);
    await expect(extended).rejects.toMatchObject({ code: "pacing_timeout" });
    // The one behind it was never affected, and gets the next free slot.
    h.pacer.release("a", "depth:0");
    expect((await behind).request.hold).toBe("depth:4");
  });

  it("an extended item keeps its place: it is released before the ones queued after it", async () => {
    const h = harness();
    const depth = (i: number) => pacingRequest({ tenant: "a", kind: "marketDepth", hold: `depth:${i}` });
    for (let i = 0; i < 3; i++) void h.submit(depth(i));
    const first = h.pacer.acquire(depth(3), { deadlineMs: 100, onDeadline: () => 10_000 });
    const second = h.pacer.acquire(depth(4), { deadlineMs: 1e9 });
    h.clock.advance(100);
    h.pacer.release("a", "depth:0");
    expect((await first).request.hold).toBe("depth:3");
    h.pacer.release("a", "depth:1");
    expect((await second).request.hold).toBe("depth:4");
  });

  it("a held slot moved to another tenant stays taken when the first tenant leaves", () => {
    const h = harness();
    const depth = (t: string, i: number) =>
      pacingRequest({ tenant: t, kind: "marketDepth", hold: `depth:${i}` });
    for (let i = 0; i < 3; i++) void h.submit(depth("a", i));
    expect(h.pacer.transferHold("a", "depth:0", "switch")).toBe(true);
    expect(h.pacer.transferHold("a", "depth:9", "switch")).toBe(false);
    h.pacer.releaseTenant("a");
    expect(h.pacer.snapshot().openHolds).toBe(1);
    void h.submit(depth("b", 3));
    void h.submit(depth("b", 4));
    void h.submit(depth("b", 5));
    expect(h.sent.filter((s) => s.request.tenant === "b")).toHaveLength(2);
    h.clock.advance(5_000);
    expect(h.sent.filter((s) => s.request.tenant === "b")).toHaveLength(2);
    h.pacer.release("switch", "depth:0");
    expect(h.sent.filter((s) => s.request.tenant === "b")).toHaveLength(3);
  });

  it("close() waits for the queue to drain", async () => {
    const h = harness();
    for (let i = 0; i < 50; i++) void h.submit(pacingRequest({ tenant: "a", kind: "other" }));
    let closed = false;
    const done = h.pacer.close().then(() => {
      closed = true;
    });
    await flush();
    expect(closed).toBe(false);
    expect(h.pacer.state).toBe("closing");
    h.clock.advance(1_010);
    await done;
    expect(h.pacer.state).toBe("closed");
    expect(h.sent).toHaveLength(50);
  });

  it("snapshot shows window use per rule and queue per tenant; errors count as violations", () => {
    const h = harness({ rules: scaleRules(DEFAULT_RULES, 10) });
    for (let i = 0; i < 70; i++) void h.submit(hist("a", i));
    // Answers (50 ms each) move their message-rate entries: steps of 5 every 150 ms.
    h.clock.advance(1_200);
    const s = h.pacer.snapshot();
    expect(s.timeScale).toBe(10);
    expect(s.rules.find((r) => r.ruleId === "historicalTotal")).toMatchObject({ used: 45, limit: 60 });
    expect(s.tenants).toEqual([{ tenant: "a", queued: 25, oldestWaitMs: 1_200 }]);
    const events: string[] = [];
    h.pacer.events.on("pacer.violation", (e) => events.push(`${e.code}:${e.reason}`));
    h.pacer.observeError(
      162,
      "Historical Market Data Service error message:Historical data request pacing violation",
      5,
    );
    h.pacer.observeError(162, "Historical Market Data Service error message:HMDS query returned no data", 6);
    expect(events).toEqual(["162:hmds_pacing"]);
    expect(h.pacer.stats().violations).toEqual({ total: 1, byCode: { "162": 1 } });
  });
});

describe("a release callback that throws", () => {
  it("fails its own item only: the next caller is released and its slot is freed", async () => {
    const clock = new ManualClock(0);
    const limited = {
      ...DEFAULT_RULES,
      rules: DEFAULT_RULES.rules.map((r) => (r.id === "marketDataLines" ? { ...r, limit: 1 } : r)),
    };
    const pacer = new Pacer({ clock, rules: limited });
    const mkt = (tenant: string, id: number) =>
      pacingRequest({ tenant, kind: "marketData", hold: `mkt:${id}` });
    const thrower = pacer.acquire(mkt("a", 1), {
      onRelease: () => {
        throw new Error("write failed");
      },
    });
    await expect(thrower).rejects.toThrow("write failed");
    // The thrower's line is free again, so the next request gets it at once.
    const sent: string[] = [];
    const next = pacer.acquire(mkt("b", 2), { onRelease: (p) => sent.push(p.request.tenant) });
    await expect(next).resolves.toMatchObject({ elided: false });
    expect(sent).toEqual(["b"]);
    expect(pacer.snapshot()).toMatchObject({ queued: 0, openHolds: 1 });
    expect(pacer.stats().rejected.callback).toBe(1);
  });

  it("does not reject a caller queued behind it", async () => {
    const clock = new ManualClock(0);
    const pacer = new Pacer({ clock });
    const order: string[] = [];
    // Fill the 1 s window so both wait and are released by the same pump.
    for (let i = 0; i < 45; i++) void pacer.acquire(pacingRequest({ tenant: "fill", kind: "other" }));
    const first = pacer.acquire(pacingRequest({ tenant: "x", kind: "other" }), {
      onRelease: () => {
        order.push("x");
        throw new Error("boom");
      },
    });
    const second = pacer.acquire(pacingRequest({ tenant: "y", kind: "other" }), {
      onRelease: () => order.push("y"),
    });
    first.catch(() => undefined);
    clock.advance(1_100);
    await expect(first).rejects.toThrow("boom");
    await expect(second).resolves.toMatchObject({ elided: false });
    expect(order).toEqual(["x", "y"]);
  });
});
