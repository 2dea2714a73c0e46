import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { findViolations, type ScheduledRequest } from "./checker.js";
import { type PacingRequest, pacingRequest } from "./request.js";
import { PACING_PROFILES, type PacingRules, resolveRules } from "./rules.js";
import { Pacer, type Permit } from "./scheduler.js";

type Op =
  | { t: "hist"; dt: number; tenant: number; contract: number; bidAsk: boolean; end: number; bar: string }
  | { t: "head"; dt: number; tenant: number; contract: number }
  | { t: "mkt" | "depth" | "acct" | "tbt"; dt: number; tenant: number; contract: number }
  | { t: "cancel"; dt: number; tenant: number; pick: number }
  | { t: "other" | "heartbeat"; dt: number; tenant: number }
  | { t: "err100"; dt: number };

// Mostly bursts, sometimes pauses: pressure on every window.
const dt = fc.oneof(fc.constant(0), fc.nat({ max: 50 }), fc.nat({ max: 3_000 }));
const tenant = fc.nat({ max: 2 });
const contract = fc.nat({ max: 2 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constant("hist" as const),
      dt,
      tenant,
      contract,
      bidAsk: fc.boolean(),
      end: fc.nat({ max: 3 }),
      // Small bars meet IB's hard limits under every profile, larger ones only under legacy.
      bar: fc.constantFrom("5 secs", "30 secs", "1 min", "1 hour"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("head" as const), dt, tenant, contract }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constantFrom("mkt" as const, "depth" as const, "acct" as const, "tbt" as const),
      dt,
      tenant,
      contract,
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("cancel" as const), dt, tenant, pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constantFrom("other" as const, "heartbeat" as const),
      dt: fc.nat({ max: 20 }),
      tenant,
    }),
  },
  // IB's error 100: the pacer sends nothing until its window has drained.
  { weight: 1, arbitrary: fc.record({ t: fc.constant("err100" as const), dt }) },
);

/** How a request is handed to the pacer: always queued, or released synchronously when it may be. */
type Mode = "acquire" | "releaseNow";

interface Run {
  sent: ScheduledRequest[];
  ends: { at: number; tenant: string; hold: string }[];
  /** Every outcome in order: released (with the time), elided, or rejected (with the error's code). */
  outcomes: string[];
  stats: unknown;
}

/** Plays `ops` against a pacer on a manual clock, long enough for every window to pass. */
async function play(ops: readonly Op[], rules: PacingRules, timeScale: number, mode: Mode): Promise<Run> {
  const clock = new ManualClock(0);
  const pacer = new Pacer({ clock, rules, deadlineMs: 1e12 });
  const sent: ScheduledRequest[] = [];
  const ends: { at: number; tenant: string; hold: string }[] = [];
  const holds: { tenant: string; hold: string; kind: string }[] = [];
  const outcomes: string[] = [];
  const onRelease = (p: Permit) => {
    if (p.elided) {
      outcomes.push(`elided ${p.request.tenant} ${p.request.kind} at ${clock.now()}`);
      return;
    }
    outcomes.push(`sent ${p.request.tenant} ${p.request.kind} ${p.request.hold ?? ""} at ${clock.now()}`);
    sent.push({ at: clock.now(), request: p.request });
    const { hold, tenant: t, kind } = p.request;
    // One-shot historical answers come back after a while and free their slot.
    if (hold !== undefined && (kind === "historicalData" || kind === "headTimestamp")) {
      clock.setTimeout(() => {
        ends.push({ at: clock.now(), tenant: t, hold });
        pacer.release(t, hold);
      }, 300);
    }
  };
  const submit = (req: PacingRequest) => {
    if (mode === "releaseNow" && pacer.releaseNow(req, onRelease)) return;
    pacer.acquire(req, { onRelease }).catch((err: unknown) => {
      outcomes.push(`rejected ${req.tenant} ${req.kind}: ${(err as { code?: string }).code ?? String(err)}`);
    });
  };
  ops.forEach((o, i) => {
    clock.advance(o.dt);
    const t = `t${"tenant" in o ? o.tenant : 0}`;
    const hold = `${o.t}:${i}`;
    switch (o.t) {
      case "hist":
        submit(
          pacingRequest({
            tenant: t,
            kind: "historicalData",
            cost: o.bidAsk ? 2 : 1,
            hold,
            key: {
              contract: `#${o.contract}`,
              exchange: "SMART",
              whatToShow: o.bidAsk ? "BID_ASK" : "TRADES",
              end: `e${o.end}`,
              duration: "1 D",
              barSize: o.bar,
              useRTH: "1",
            },
          }),
        );
        break;
      case "head":
        submit(
          pacingRequest({
            tenant: t,
            kind: "headTimestamp",
            hold,
            key: { contract: `#${o.contract}` },
          }),
        );
        break;
      case "mkt":
      case "depth":
      case "acct":
      case "tbt": {
        const kind = {
          mkt: "marketData",
          depth: "marketDepth",
          acct: "accountSummary",
          tbt: "tickByTick",
        } as const;
        holds.push({ tenant: t, hold, kind: o.t });
        submit(pacingRequest({ tenant: t, kind: kind[o.t], hold, key: { contract: `#${o.contract}` } }));
        break;
      }
      case "cancel": {
        const target = holds[o.pick % Math.max(1, holds.length)];
        if (target) submit(pacingRequest({ tenant: target.tenant, kind: "cancel", releases: target.hold }));
        break;
      }
      case "err100":
        pacer.observeError(100, "Max rate of messages per second has been exceeded:max=50 rec=51 (1)");
        break;
      default:
        submit(pacingRequest({ tenant: t, kind: o.t }));
    }
  });
  // Long enough for every window to pass many times over.
  for (let i = 0; i < 40; i++) clock.advance(700_000 / timeScale);
  const stats = pacer.stats();
  pacer.destroy();
  // Rejections arrive as promise callbacks.
  await new Promise((r) => setImmediate(r));
  return { sent, ends, outcomes, stats };
}

describe("Pacer property", () => {
  const mix = fc.array(op, { minLength: 20, maxLength: 200, size: "max" });
  const rulesOf = (profile: (typeof PACING_PROFILES)[number], timeScale: number) =>
    resolveRules({
      profile,
      override: { rules: { marketDataLines: { limit: 5 }, openHistorical: { limit: 8 } } },
      timeScale,
    });

  it("no schedule produced from random request mixes breaks any rule of its profile", async () => {
    await fc.assert(
      fc.asyncProperty(
        mix,
        fc.constantFrom(1, 10, 60),
        fc.constantFrom(...PACING_PROFILES),
        fc.constantFrom<Mode>("acquire", "releaseNow"),
        async (ops, timeScale, profile, mode) => {
          const rules = rulesOf(profile, timeScale);
          const { sent, ends } = await play(ops, rules, timeScale, mode);
          expect(findViolations(rules, sent, ends)).toEqual([]);
          return true;
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });

  it("releaseNow() releases exactly what acquire() would, at the same times, in the same order", async () => {
    await fc.assert(
      fc.asyncProperty(
        mix,
        fc.constantFrom(1, 60),
        fc.constantFrom(...PACING_PROFILES),
        async (ops, timeScale, profile) => {
          const rules = rulesOf(profile, timeScale);
          const queued = await play(ops, rules, timeScale, "acquire");
          const direct = await play(ops, rules, timeScale, "releaseNow");
          expect(direct.outcomes).toEqual(queued.outcomes);
          expect(direct.ends).toEqual(queued.ends);
          expect(direct.stats).toEqual(queued.stats);
          return true;
        },
      ),
      { numRuns: 80, seed: 11 },
    );
  });
});
