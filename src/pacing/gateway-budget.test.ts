/**
 * Two lines on one TWS: each line's pacer has its own message rate (IB counts 50/s per API
 * connection), and the two share what IB counts per TWS (market-data lines, historical
 * windows). Pure pacers on a manual clock.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { GatewayBudget } from "./gateway-budget.js";
import type { WindowMemory } from "./checker.js";
import { pacingRequest } from "./request.js";
import { applyRulesOverride, DEFAULT_RULES, type PacingRules } from "./rules.js";
import { Pacer } from "./scheduler.js";

const RULES = applyRulesOverride(DEFAULT_RULES, { rules: { messageRate: { holdUnheardMs: 0 } } });
const MODE = { useTarget: true, guardMs: () => 10 };

function twoLines(rules: PacingRules = RULES, memory?: { saved: WindowMemory[] }) {
  const clock = new ManualClock(0);
  const budget = new GatewayBudget({
    rules,
    mode: MODE,
    now: 0,
    name: "127.0.0.1:4002",
    ...(memory
      ? { memory: { load: () => undefined, save: (w: WindowMemory) => void memory.saved.push(w) } }
      : {}),
  });
  const make = (line: string) =>
    new Pacer({ clock, rules, deadlineMs: 1e9, guardMinMs: 10, guardFraction: 0.01, gateway: budget, line });
  return { clock, budget, paper: make("paper"), live: make("live") };
}

const other = (tenant: string) => pacingRequest({ tenant, kind: "other" });
const mkt = (tenant: string, id: number) => pacingRequest({ tenant, kind: "marketData", hold: `mkt:${id}` });

describe("lines sharing one TWS", () => {
  it("a burst on one line's connection makes no request of the other line wait", async () => {
    const { clock, paper, live } = twoLines();
    // Far past one connection's budget on the paper line.
    const burst = Array.from({ length: 120 }, () => paper.acquire(other("p")));
    const sent: number[] = [];
    // As many as one connection may send in the same 100 ms (45/s spread: 5 per 100 ms).
    const liveOnes = Array.from({ length: 5 }, () =>
      live.acquire(other("l"), { onRelease: () => sent.push(clock.now()) }),
    );
    await Promise.all(liveOnes);
    expect(sent).toEqual([0, 0, 0, 0, 0]);
    expect(paper.snapshot().queued).toBeGreaterThan(100);
    for (let i = 0; i < 40 && paper.snapshot().queued > 0; i++) clock.advance(100);
    await Promise.all(burst);
    expect(Object.keys(paper.stats().waits.byRule)).toContain("messageRate");
    expect(live.stats().waits.byRule).toEqual({});
    expect(paper.snapshot()).toMatchObject({ line: "paper", gateway: { lines: ["paper", "live"] } });
  });

  it("market-data lines are the TWS's: a line waits while the other holds them all, and is woken by its release", async () => {
    const limited: PacingRules = {
      ...RULES,
      rules: RULES.rules.map((r) => (r.id === "marketDataLines" ? { ...r, limit: 2 } : r)),
    };
    const { paper, live } = twoLines(limited);
    await paper.acquire(mkt("p", 1_000_000_001));
    // The same upstream id on the other line is another request: its own slot.
    await live.acquire(mkt("l", 1_000_000_001));
    const sent: string[] = [];
    const third = paper.acquire(mkt("p", 1_000_000_002), { onRelease: () => sent.push("paper") });
    await Promise.resolve();
    expect(sent).toEqual([]);
    expect(paper.snapshot().queued).toBe(1);
    // The live line's answer ends (a cancel, an error): its slot goes to the paper line at once.
    live.release("l", "mkt:1000000001");
    expect(sent).toEqual(["paper"]);
    await third;
    const use = (p: Pacer) => p.snapshot().rules.find((r) => r.ruleId === "marketDataLines")?.used;
    expect(use(paper)).toBe(2);
    expect(use(live)).toBe(2);
  });

  it("a cancel on one line frees the TWS's market-data line for the other line at once", async () => {
    const one: PacingRules = {
      ...RULES,
      rules: RULES.rules.map((r) => (r.id === "marketDataLines" ? { ...r, limit: 1 } : r)),
    };
    const { paper, live } = twoLines(one);
    await paper.acquire(mkt("p", 1));
    const sent: string[] = [];
    const waiting = live.acquire(mkt("l", 2), { onRelease: () => sent.push("live") });
    await Promise.resolve();
    expect(sent).toEqual([]);
    await paper.acquire(pacingRequest({ tenant: "p", kind: "cancel", releases: "mkt:1" }));
    // Sent by the cancel itself: no timer of the live pacer had to fire.
    expect(sent).toEqual(["live"]);
    await waiting;
  });

  it("a switch tenant of one name on both lines never frees the other line's slot", async () => {
    const limited: PacingRules = {
      ...RULES,
      rules: RULES.rules.map((r) => (r.id === "marketDataLines" ? { ...r, limit: 2 } : r)),
    };
    const { paper, live } = twoLines(limited);
    await paper.acquire(mkt("switchboard", 7));
    await live.acquire(mkt("switchboard", 7));
    paper.release("switchboard", "mkt:7");
    const use = (p: Pacer) => p.snapshot().rules.find((r) => r.ruleId === "marketDataLines")?.used;
    expect(use(live)).toBe(1);
    expect(live.snapshot().openHolds).toBe(1);
    expect(paper.snapshot().openHolds).toBe(0);
  });

  it("the historical windows are one per TWS: an identical request from the other line waits out the 15 s", async () => {
    const memory = { saved: [] as WindowMemory[] };
    const { clock, paper, live } = twoLines(RULES, memory);
    const hist = (tenant: string) =>
      pacingRequest({
        tenant,
        kind: "historicalData",
        key: {
          contract: "265598",
          exchange: "SMART",
          whatToShow: "TRADES",
          end: "e",
          duration: "1800 S",
          barSize: "30 secs",
        },
        hold: `hist:${tenant}`,
      });
    await paper.acquire(hist("p"));
    paper.release("p", "hist:p");
    let sentAt: number | undefined;
    const second = live.acquire(hist("l"), { onRelease: () => (sentAt = clock.now()) });
    clock.advance(10_000);
    expect(sentAt).toBeUndefined();
    clock.advance(6_000);
    await second;
    expect(sentAt).toBeGreaterThanOrEqual(15_000);
    // The budget, not each pacer, keeps the windows.
    expect(memory.saved.length).toBeGreaterThan(0);
  });
});
