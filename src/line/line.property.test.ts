/**
 * Property: whatever the network and the gateway do, in any order, the line only makes
 * legal transitions, never holds two sockets (or two dials) at once, and never dials or
 * writes after close.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { FakeNet, flush } from "./fake-net.test-util.js";
import { IdentityGuard } from "./identity-guard.js";
import { Line } from "./line.js";
import { isLegalTransition, type LineEvent, type LineState } from "./line-events.js";

type Step =
  | { k: "dial"; ok: boolean }
  | { k: "hello" }
  | { k: "ids" }
  | { k: "accounts" }
  /** A gateway of another identity (live U9 where the line holds to paper DU1). */
  | { k: "stranger" }
  | { k: "ready" }
  | { k: "notice"; code: number }
  | { k: "peerClose" }
  | { k: "garbage" }
  | { k: "currentTime" }
  | { k: "advance"; ms: number }
  | { k: "sleep"; ms: number }
  | { k: "reachable"; on: boolean }
  | { k: "send" }
  | { k: "close" }
  | { k: "destroy" }
  | { k: "dialThenClose" };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 16, arbitrary: fc.record({ k: fc.constant("dial" as const), ok: fc.boolean() }) },
  { weight: 8, arbitrary: fc.constant({ k: "hello" as const }) },
  { weight: 4, arbitrary: fc.constant({ k: "ids" as const }) },
  { weight: 4, arbitrary: fc.constant({ k: "accounts" as const }) },
  { weight: 3, arbitrary: fc.constant({ k: "stranger" as const }) },
  { weight: 12, arbitrary: fc.constant({ k: "ready" as const }) },
  {
    weight: 12,
    arbitrary: fc.record({
      k: fc.constant("notice" as const),
      code: fc.constantFrom(326, 1100, 1101, 1102, 1300, 2110, 2104, 2103, 2158, 502),
    }),
  },
  { weight: 4, arbitrary: fc.constant({ k: "peerClose" as const }) },
  { weight: 4, arbitrary: fc.constant({ k: "garbage" as const }) },
  { weight: 4, arbitrary: fc.constant({ k: "currentTime" as const }) },
  {
    weight: 16,
    arbitrary: fc.record({ k: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ k: fc.constant("sleep" as const), ms: fc.integer({ min: 10_001, max: 120_000 }) }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant("reachable" as const), on: fc.boolean() }) },
  { weight: 4, arbitrary: fc.constant({ k: "send" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "close" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "destroy" as const }) },
  { weight: 1, arbitrary: fc.constant({ k: "dialThenClose" as const }) },
);

async function apply(s: Step, line: Line, net: FakeNet, clock: ManualClock): Promise<void> {
  switch (s.k) {
    case "dial":
      return net.settleDial(s.ok);
    case "hello":
      return net.hello();
    case "ids":
      return net.nextValidId();
    case "accounts":
      return net.accounts();
    case "stranger":
      net.hello();
      net.nextValidId();
      return net.accounts(["U9"]);
    case "ready":
      net.hello();
      net.nextValidId();
      return net.accounts();
    case "notice":
      return net.notice(s.code);
    case "peerClose":
      return net.current?.peerClose();
    case "garbage":
      return net.garbage();
    case "currentTime":
      return net.currentTime();
    case "advance":
      return clock.advance(s.ms);
    case "sleep":
      clock.jump(s.ms);
      return clock.advance(0);
    case "reachable":
      net.reachable = s.on;
      return;
    case "send":
      try {
        line.send(["49", "1"]);
      } catch (err) {
        expect((err as { code?: string }).code).toMatch(/^(closed|upstream_unavailable)$/);
      }
      return;
    case "close":
      await Promise.race([line.close(), flush()]);
      return;
    case "destroy":
      return line.destroy();
    case "dialThenClose":
      // A race: the socket opens in the same tick as the close.
      net.settleDial(true);
      line.destroy();
      return;
  }
}

describe("Line state machine (property)", () => {
  it("never reaches an illegal state, never holds two sockets, never reconnects after close", async () => {
    const reached = new Set<LineState>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 80, size: "max" }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (steps, r) => {
          const clock = new ManualClock();
          const net = new FakeNet();
          const line = new Line({
            connector: net.connector,
            clock,
            random: () => r,
            orderClientIdWaitMs: 30_000,
            placedOrders: () => (r > 0.5 ? [11] : []),
            identity: new IdentityGuard({ pin: { accounts: ["DU1"] } }),
          });
          const events: LineEvent[] = [];
          let state = "disconnected" as LineState;
          const violations: string[] = [];
          line.on("line.state", (e) => {
            if (e.from !== state) violations.push(`from ${e.from} while in ${state}`);
            if (!isLegalTransition(e.from, e.to)) violations.push(`${e.from} → ${e.to}`);
            state = e.to;
            reached.add(e.to);
            if (e.to === "closed") net.lineClosed = true;
            events.push(e);
          });
          line.start();
          await flush();
          for (const s of steps) {
            await apply(s, line, net, clock);
            await flush();
            expect(line.state).toBe(state);
            expect(net.openCount).toBeLessThanOrEqual(1);
            expect(net.pendingDials).toBeLessThanOrEqual(1);
            if (state === "closed") expect(net.openCount).toBe(0);
            if (state === "ready" || state === "degraded") expect(net.openCount).toBe(1);
            // Refused for its identity: no socket, and never ready on the stranger's accounts.
            if (state === "disconnected") expect(net.openCount).toBe(0);
            if (state === "ready") expect(line.accounts).toEqual(["DU1"]);
          }
          const closedAt = events.length;
          await line.close();
          await flush();
          const dialsAtClose = net.dials;
          clock.advance(120_000);
          net.reachable = true;
          net.settleDial(true);
          await flush();
          clock.advance(120_000);
          await flush();
          expect(line.state).toBe("closed");
          expect(net.maxOpen).toBeLessThanOrEqual(1);
          expect(net.maxPendingDials).toBeLessThanOrEqual(1);
          expect(net.dials).toBe(dialsAtClose);
          expect(net.dialsAfterClose).toBe(0);
          expect(net.writesAfterClose).toBe(0);
          expect(net.openCount).toBe(0);
          expect(
            events.slice(closedAt).filter((e) => e.type === "line.state" && e.from === "closed"),
          ).toEqual([]);
          expect(clock.pending).toBe(0);
          expect(violations).toEqual([]);
        },
      ),
      {
        numRuns: Number(process.env.PROP_RUNS ?? 200),
        // One path through every state always runs, so the coverage check below never
        // depends on the random seed.
        examples: [
          [
            [
              { k: "dial", ok: true },
              { k: "ready" },
              { k: "notice", code: 1100 },
              { k: "notice", code: 1102 },
              { k: "peerClose" },
              { k: "advance", ms: 1_000 },
              { k: "dial", ok: false },
              { k: "close" },
            ],
            0.5,
          ],
          [
            [
              { k: "dial", ok: true },
              { k: "stranger" },
              { k: "advance", ms: 1_000 },
              { k: "dial", ok: true },
              { k: "ready" },
              { k: "close" },
            ],
            0.5,
          ],
        ],
      },
    );
    // The generator must actually drive the line through every state.
    expect([...reached].sort()).toEqual(
      ["closed", "connecting", "degraded", "disconnected", "handshaking", "ready", "reconnecting"].sort(),
    );
  });
});
