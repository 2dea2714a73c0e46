/**
 * Properties of the HA role and its freshness rule, with holders run against the lease's pure
 * model (lease-rule.ts) on a manual clock: requests take arbitrary time to reach Redis and to
 * come back, processes pause (SIGSTOP) for arbitrary stretches, each process's monotonic
 * clock has its own origin and runs up to 10 % slow or fast against Redis's, and an order
 * found fresh may reach the socket up to 0.3 × leaseMs after the check (a pause in between).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { haRenewIntervalMs, mayWriteFrom, writeWindowMs } from "./freshness.js";
import { type LeaseAnswer, type LeaseCall, type LeaseModel, applyLeaseCall } from "./lease-rule.js";
import { HaRole } from "./role.js";

interface Flight {
  call: LeaseCall;
  sentAt: number; // holder's own clock
  execAt: number; // simulation time
  replyAt: number;
  answer?: LeaseAnswer;
}

interface Holder {
  name: string;
  role: HaRole;
  origin: number;
  /** Own clock rate against Redis's, in tenths. */
  rate: number;
  pauses: [number, number][];
  flight: Flight | undefined;
  nextAt: number;
}

const scenario = fc.record({
  leaseMs: fc.constantFrom(50, 100, 250),
  holders: fc.array(
    fc.record({
      origin: fc.integer({ min: -1_000_000, max: 1_000_000 }),
      rate: fc.integer({ min: 9, max: 11 }),
      pauses: fc.array(fc.tuple(fc.nat({ max: 2_000 }), fc.nat({ max: 600 })), { maxLength: 4 }),
    }),
    { minLength: 2, maxLength: 3 },
  ),
  // Delays to Redis and back, drawn in turn; up to two leases long.
  delays: fc.array(fc.nat({ max: 500 }), { minLength: 1, maxLength: 64 }),
});

describe("HA role on a fenced lease (property)", () => {
  it("never lets two holders write at once: whoever may write holds the lease in Redis under its token", () => {
    fc.assert(
      fc.property(scenario, ({ leaseMs, holders: hs, delays }) => {
        const renewMs = haRenewIntervalMs(leaseMs);
        let redis: LeaseModel = { lease: null, fence: 0 };
        let d = 0;
        const delay = () => Math.min(delays[d++ % delays.length] as number, 2 * leaseMs);
        const holders: Holder[] = hs.map((h, i) => ({
          name: `h${i}`,
          role: new HaRole(leaseMs),
          origin: h.origin,
          rate: h.rate,
          pauses: h.pauses.map(([at, len]) => [at, at + len]),
          flight: undefined,
          nextAt: 0,
        }));
        const paused = (h: Holder, t: number) => h.pauses.some(([a, b]) => t >= a && t < b);
        let grants = 0;
        const own = (h: Holder, t: number) => h.origin + Math.floor((t * h.rate) / 10);
        const lateMs = Math.floor(0.3 * leaseMs);
        const timeline: ({ holder: string; token: number } | null)[] = [];
        const claims: { holder: string; token: number; at: number }[] = [];
        for (let t = 0; t < 2_500; t++) {
          // Redis executes what reached it.
          for (const h of holders) {
            const f = h.flight;
            if (f && f.answer === undefined && f.execAt <= t) {
              const r = applyLeaseCall(redis, f.call, t, leaseMs);
              redis = r.model;
              f.answer = r.answer;
            }
          }
          for (const h of holders) {
            if (paused(h, t)) continue;
            const now = own(h, t);
            const f = h.flight;
            if (f?.answer !== undefined && f.replyAt <= t) {
              h.flight = undefined;
              const a = f.answer;
              if (a.status === "granted") {
                grants++;
                h.role.granted(a.token, f.sentAt);
              } else if (a.status === "renewed") h.role.renewed(a.token, f.sentAt);
              else if (a.status === "lost" && f.call.kind === "renew")
                h.role.lost(f.call.token, "lease_lost");
            }
            h.role.check(now);
            if (h.role.role === "stepping_down") {
              const token = h.role.token as number;
              h.role.steppedDown();
              if (!h.flight) {
                const execAt = t + delay();
                h.flight = {
                  call: { kind: "release", holder: h.name, token },
                  sentAt: now,
                  execAt,
                  replyAt: execAt + delay(),
                };
              }
            }
            if (!h.flight && t >= h.nextAt) {
              const s = h.role.state;
              const call: LeaseCall =
                s.role === "active"
                  ? { kind: "renew", holder: h.name, token: s.token }
                  : { kind: "acquire", holder: h.name };
              const execAt = t + delay();
              h.flight = { call, sentAt: now, execAt, replyAt: execAt + delay() };
              h.nextAt = t + renewMs;
            }
          }
          const current = redis.lease !== null && redis.lease.expiresAt > t ? redis.lease : null;
          timeline.push(current && { holder: current.holder, token: current.token });
          // Checked at every millisecond for every holder, paused or not.
          const writers = holders.filter((h) => h.role.mayWrite(own(h, t)));
          expect(writers.length).toBeLessThanOrEqual(1);
          for (const w of writers) claims.push({ holder: w.name, token: w.role.token as number, at: t });
        }
        // No other holder gets the lease from the check until the write lands up to
        // 0.3 × leaseMs later. (The claimant itself may release it meanwhile, and even be
        // granted it again under a newer token: it releases only after closing its upstream
        // sockets, so no write of its own is still on the way, and Redis fences the old token.)
        for (const c of claims) {
          expect(timeline[c.at]).toEqual({ holder: c.holder, token: c.token });
          for (let u = c.at; u <= Math.min(c.at + lateMs, timeline.length - 1); u++) {
            const l = timeline[u];
            if (!l) continue;
            expect(l.holder).toBe(c.holder);
            expect(l.token).toBeGreaterThanOrEqual(c.token);
          }
        }
        // Tokens only grow: every grant took a new one.
        expect(redis.fence).toBe(
          grants + holders.filter((h) => h.flight?.answer?.status === "granted").length,
        );
      }),
      { numRuns: Number(process.env.HA_RUNS ?? 100) },
    );
  });

  it("a holder past its window never reports that it may write, whatever renewals it saw", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1_000, 3_000, 5_000),
        fc.array(
          fc.record({
            advance: fc.nat({ max: 4_000 }),
            renew: fc.boolean(),
            sentBack: fc.nat({ max: 3_000 }),
          }),
          {
            maxLength: 40,
          },
        ),
        (leaseMs, steps) => {
          const role = new HaRole(leaseMs);
          let now = 10_000;
          role.granted(1, now);
          let lastSent = now;
          for (const s of steps) {
            now += s.advance;
            if (s.renew && role.role === "active") {
              const sentAt = now - s.sentBack;
              role.renewed(1, sentAt);
              lastSent = Math.max(lastSent, sentAt);
            }
            const may = role.mayWrite(now);
            if (now - lastSent >= writeWindowMs(leaseMs)) expect(may).toBe(false);
            expect(may).toBe(mayWriteFrom(lastSent, now, leaseMs) && role.role === "active");
            role.check(now);
            if (role.role !== "active") expect(role.mayWrite(now)).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("steps down on a lost lease or a stale token and never returns to active from stepping down", () => {
    const events: string[] = [];
    const role = new HaRole(5_000);
    role.on((e) => events.push(`${e.previous}->${e.role}:${e.reason}`));
    role.granted(7, 0);
    expect(role.mayWrite(2_999)).toBe(true);
    expect(role.mayWrite(3_000)).toBe(false); // 5000 − 2 × 1000
    role.lost(6, "fenced"); // an older tenure's token: not ours now
    expect(role.role).toBe("active");
    role.lost(7, "fenced");
    role.granted(8, 10); // a grant reaching a daemon that is still closing its sockets
    expect(role.role).toBe("stepping_down");
    expect(role.mayWrite(11)).toBe(false);
    role.steppedDown();
    expect(events).toEqual([
      "standby->active:granted",
      "active->stepping_down:fenced",
      "stepping_down->standby:stepped_down",
    ]);
  });
});
