import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { pacingRequest } from "./request.js";
import { applyRulesOverride, DEFAULT_RULES } from "./rules.js";
import { Pacer, type Permit } from "./scheduler.js";

/** IB's table without the hold on unheard messages: these tests have no gateway to hear from. */
const RULES = applyRulesOverride(DEFAULT_RULES, { rules: { messageRate: { holdUnheardMs: 0 } } });

function setup(rules = RULES) {
  const clock = new ManualClock(0);
  const pacer = new Pacer({ clock, rules, deadlineMs: 1e9, guardMinMs: 10, guardFraction: 0.01 });
  const sent: string[] = [];
  const note = (p: Permit) => sent.push(`${p.request.tenant}:${p.request.kind}@${clock.now()}`);
  return { clock, pacer, sent, note };
}

const other = (tenant: string) => pacingRequest({ tenant, kind: "other" });

/** Historical requests with one open at a time: the second waits for the first's answer. */
const ONE_OPEN = applyRulesOverride(RULES, { rules: { openHistorical: { limit: 1 } } });
const hist = (tenant: string, hold: string) =>
  pacingRequest({
    tenant,
    kind: "historicalData",
    hold,
    key: {
      contract: "#1",
      exchange: "SMART",
      whatToShow: "TRADES",
      end: "e",
      duration: "1 D",
      barSize: "1 min",
    },
  });

/** Release until the message rate has no room; returns how many went. */
function fill(pacer: Pacer, note: (p: Permit) => void): number {
  let n = 0;
  while (n < 1_000 && pacer.releaseNow(other("filler"), note)) n++;
  return n;
}

describe("Pacer.releaseNow", () => {
  it("releases a request with room synchronously and counts it as a release without a wait", () => {
    const { pacer, sent, note } = setup();
    const permit = pacer.releaseNow(other("a"), note);
    expect(permit).toMatchObject({ waitedMs: 0, elided: false });
    expect(sent).toEqual(["a:other@0"]);
    expect(pacer.stats()).toMatchObject({ released: 1, waits: { count: 1, waited: 0 } });
  });

  it("declines, touching nothing, when a rule has no room; acquire() then waits as before", async () => {
    const { clock, pacer, sent, note } = setup();
    const n = fill(pacer, note);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(1_000);
    const before = pacer.stats();
    expect(pacer.releaseNow(other("a"), note)).toBeUndefined();
    expect(pacer.stats()).toEqual(before);
    const late = pacer.acquire(other("a"), { onRelease: note });
    expect(sent).toHaveLength(n);
    clock.advance(2_000);
    await late;
    expect(sent.at(-1)).toMatch(/^a:other/);
  });

  it("declines while anything waits; acquire() then serves it in the pump as before", async () => {
    const { pacer, sent, note } = setup(ONE_OPEN);
    expect(pacer.releaseNow(hist("a", "h1"), note)).toBeDefined();
    expect(pacer.releaseNow(hist("a", "h2"), note)).toBeUndefined(); // one open at a time
    void pacer.acquire(hist("a", "h2"), { onRelease: note }).catch(() => undefined);
    expect(pacer.snapshot().queued).toBe(1);
    // Room for "other" on every rule, but a request waits: the fast path stays out of the way.
    expect(pacer.releaseNow(other("b"), note)).toBeUndefined();
    const b = pacer.acquire(other("b"), { onRelease: note });
    expect(sent.at(-1)).toMatch(/^b:other/);
    await b;
    pacer.destroy();
  });

  it("declines after IB's error 100 until the pause is over", () => {
    const { clock, pacer, note } = setup();
    pacer.observeError(100, "Max rate of messages per second has been exceeded");
    expect(pacer.releaseNow(other("a"), note)).toBeUndefined();
    clock.advance(60_000);
    expect(pacer.releaseNow(other("a"), note)).toBeDefined();
  });

  it("declines cancels (acquire() may elide them) and a closing pacer", () => {
    const { pacer, note } = setup();
    expect(
      pacer.releaseNow(pacingRequest({ tenant: "a", kind: "cancel", releases: "mkt:1" }), note),
    ).toBeUndefined();
    void pacer.close();
    expect(pacer.releaseNow(other("a"), note)).toBeUndefined();
  });

  it("declines inside a release callback (the running pump serves in order)", async () => {
    const { clock, pacer, note } = setup();
    fill(pacer, note);
    let inner: Permit | undefined | "unset" = "unset";
    const outer = pacer.acquire(other("b"), {
      onRelease: () => {
        inner = pacer.releaseNow(other("c"), note);
      },
    });
    clock.advance(2_000);
    await outer;
    expect(inner).toBeUndefined();
  });

  it("a throwing callback frees the slot it took and the error reaches the caller", () => {
    const { pacer, note } = setup();
    const held = pacingRequest({ tenant: "a", kind: "marketData", hold: "mkt:1", key: { contract: "#1" } });
    expect(() =>
      pacer.releaseNow(held, () => {
        throw new Error("socket gone");
      }),
    ).toThrow("socket gone");
    expect(pacer.snapshot().openHolds).toBe(0);
    expect(pacer.stats().rejected).toMatchObject({ callback: 1 });
    expect(pacer.releaseNow(other("a"), note)).toBeDefined();
  });
});
