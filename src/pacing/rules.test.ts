import { describe, expect, it } from "vitest";
import { isSwitchboardError } from "../errors.js";
import {
  applyRulesOverride,
  DEFAULT_RULES,
  findRule,
  resolveRules,
  scaleRules,
  smallestScaledWindowMs,
  type WindowRule,
} from "./rules.js";

const windowOf = (rules: typeof DEFAULT_RULES, id: string) => (findRule(rules, id) as WindowRule).windowMs;

describe("rules table", () => {
  it("carries IB's numbers", () => {
    const byId = Object.fromEntries(DEFAULT_RULES.rules.map((r) => [r.id, r]));
    expect(byId.messageRate).toMatchObject({
      windowMs: 1000,
      limit: 50,
      target: 45,
      ibCode: 100,
      scalable: false,
    });
    expect(byId.historicalIdentical).toMatchObject({ windowMs: 15_000, limit: 1, ibCode: 162 });
    expect(byId.historicalSameContract).toMatchObject({ windowMs: 2_000, limit: 5, weighted: true });
    expect(byId.historicalTotal).toMatchObject({ windowMs: 600_000, limit: 60, weighted: true });
    expect(byId.openHistorical).toMatchObject({ type: "capacity", limit: 50 });
    expect(byId.marketDataLines).toMatchObject({ limit: 100, ibCode: 101 });
    expect(byId.marketDepth).toMatchObject({ limit: 3, ibCode: 309 });
    expect(byId.accountSummary).toMatchObject({ limit: 2, ibCode: 322 });
    expect(byId.scanners).toMatchObject({ limit: 10 });
    expect(DEFAULT_RULES.whatToShowCost.BID_ASK).toBe(2);
  });

  it("time scale shortens every window but the 1 s message rate", () => {
    const scaled = scaleRules(DEFAULT_RULES, 8);
    expect(windowOf(scaled, "messageRate")).toBe(1000);
    expect(windowOf(scaled, "historicalSameContract")).toBe(250);
    expect(windowOf(scaled, "historicalIdentical")).toBe(1875);
    expect(windowOf(scaled, "historicalTotal")).toBe(75_000);
    expect(smallestScaledWindowMs(scaled)).toBe(250);
    // Relative to IB's numbers: scaling a scaled table does not compound.
    expect(windowOf(scaleRules(scaled, 8), "historicalTotal")).toBe(75_000);
    expect(() => scaleRules(DEFAULT_RULES, 0)).toThrow(/time scale/);
  });

  it("spreads the message rate by default; an override changes or turns off the spread", () => {
    expect(findRule(DEFAULT_RULES, "messageRate")).toMatchObject({ spreadMs: 100 });
    const wider = applyRulesOverride(DEFAULT_RULES, { rules: { messageRate: { spreadMs: 200 } } });
    expect(findRule(wider, "messageRate")).toMatchObject({ spreadMs: 200 });
    const off = applyRulesOverride(DEFAULT_RULES, { rules: { messageRate: { spreadMs: 0 } } });
    expect(findRule(off, "messageRate")).not.toHaveProperty("spreadMs");
  });

  it("applies a JSON override and refuses bad keys by name", () => {
    const r = applyRulesOverride(DEFAULT_RULES, {
      rules: {
        historicalTotal: { windowMs: 12_000 },
        marketDataLines: { limit: 300 },
        messageRate: { limit: 40 },
      },
      whatToShowCost: { TRADES: 1, BID_ASK: 3 },
    });
    expect(windowOf(r, "historicalTotal")).toBe(12_000);
    expect(findRule(r, "marketDataLines")?.limit).toBe(300);
    // A lowered limit pulls the target down with it.
    expect(findRule(r, "messageRate")).toMatchObject({ limit: 40, target: 40 });
    expect(r.whatToShowCost.BID_ASK).toBe(3);
    const fails = (json: unknown) => {
      try {
        applyRulesOverride(DEFAULT_RULES, json);
      } catch (err) {
        return isSwitchboardError(err) ? err.field : "not typed";
      }
      return "no error";
    };
    expect(fails({ rules: { nope: { limit: 1 } } })).toBe("rules.nope");
    expect(fails({ rules: { messageRate: { limit: -1 } } })).toBe("rules.messageRate.limit");
    expect(fails({ rules: { messageRate: { target: 60 } } })).toBe("rules.messageRate.target");
    expect(fails({ rules: { marketDepth: { windowMs: 5 } } })).toBe("rules.marketDepth");
    expect(fails({ rules: { marketDepth: { spreadMs: 100 } } })).toBe("rules.marketDepth");
    expect(fails({ extra: 1 })).toBe("extra");
  });

  it("resolveRules applies override then scale", () => {
    const r = resolveRules({ override: { rules: { historicalTotal: { windowMs: 12_000 } } }, timeScale: 8 });
    expect(windowOf(r, "historicalTotal")).toBe(1_500);
    expect(r.timeScale).toBe(8);
  });
});
