/**
 * Review of Pacer.releaseNow (issue-22b): its contract is "a request that would leave in
 * acquire()'s own pump, with the same bookkeeping". These play the same scenario through
 * acquire() and through releaseNow() and expect the same outcome.
 */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { pacingRequest, type PacingRequest } from "./request.js";
import { applyRulesOverride, DEFAULT_RULES } from "./rules.js";
import { Pacer, type Permit } from "./scheduler.js";

const RULES = applyRulesOverride(DEFAULT_RULES, { rules: { messageRate: { holdUnheardMs: 0 } } });
/** Historical requests with one open at a time: the second waits for the first's slot. */
const ONE_OPEN = applyRulesOverride(RULES, { rules: { openHistorical: { limit: 1 } } });

const hist = (tenant: string, hold: string, contract: string) =>
  pacingRequest({
    tenant,
    kind: "historicalData",
    hold,
    key: { contract, exchange: "SMART", whatToShow: "TRADES", end: "e", duration: "1 D", barSize: "1 min" },
  });

function setup(rules = RULES) {
  const clock = new ManualClock(0);
  const pacer = new Pacer({ clock, rules, deadlineMs: 1e9, guardMinMs: 10, guardFraction: 0.01 });
  return { clock, pacer };
}

type Entry = "acquire" | "releaseNow";

/** Send `req` the way dispatch() does on each path; a throw from onRelease is swallowed. */
function send(pacer: Pacer, how: Entry, req: PacingRequest, onRelease: (p: Permit) => void): void {
  if (how === "acquire") {
    pacer.acquire(req, { onRelease }).catch(() => undefined);
    return;
  }
  try {
    if (pacer.releaseNow(req, onRelease)) return;
  } catch {
    return;
  }
  pacer.acquire(req, { onRelease }).catch(() => undefined);
}

describe("Pacer.releaseNow review", () => {
  it.each<Entry>(["acquire", "releaseNow"])(
    "%s: a throwing release callback frees its slot and the request queued behind that slot goes at once",
    (how) => {
      const { pacer } = setup(ONE_OPEN);
      const out: string[] = [];
      send(pacer, how, hist("a", "hist:1", "#1"), () => {
        // Something asks for the same kind of slot while the first is being written …
        pacer.acquire(hist("b", "hist:2", "#2"), { onRelease: (p) => out.push(p.request.hold ?? "") });
        // … and the write fails: the first's slot goes back.
        throw new Error("write failed");
      });
      // acquire(): #deliver frees the hold inside the pump, which goes on and lets hist:2 go.
      // releaseNow(): frees the hold but never pumps, so hist:2 waits (for a capacity rule
      // there is no wake timer) until some unrelated pump or its deadline.
      expect(out).toEqual(["hist:2"]);
      expect(pacer.snapshot().queued).toBe(0);
    },
  );

  it.each<Entry>(["acquire", "releaseNow"])(
    "%s: requests made inside a release callback leave after it, in the pump's priority order",
    (how) => {
      const { pacer } = setup();
      const out: string[] = [];
      const note = (p: Permit) => out.push(`${p.request.tenant}:${p.request.priority}`);
      send(pacer, how, pacingRequest({ tenant: "a", kind: "other" }), (p) => {
        send(pacer, how, pacingRequest({ tenant: "b", kind: "other", priority: "normal" }), note);
        send(pacer, how, pacingRequest({ tenant: "c", kind: "other", priority: "urgent" }), note);
        note(p);
      });
      // acquire(): the two inner requests queue while the pump delivers a's permit, then the
      // pump lets the urgent one go first. releaseNow(): no pump runs during a's callback, so
      // each inner request is released (and written) inside it, in call order, before a.
      expect(out).toEqual(["a:normal", "c:urgent", "b:normal"]);
    },
  );
});
