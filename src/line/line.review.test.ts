/** Review of the 326 retry cap (issue-22b), under a ManualClock and a fake network. */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { exponentialBackoff } from "./backoff.js";
import { rangeClientIds } from "./client-ids.js";
import { FakeNet, flush } from "./fake-net.test-util.js";
import { Line } from "./line.js";
import type { LineOptions } from "./options.js";

/**
 * Drive a line whose TWS answers every handshake with 326 (then closes) until `freedAt`, and
 * completes it from then on. Returns the times of every dial (ms after start).
 */
async function squat(options: LineOptions, freedAt: number, untilMs: number) {
  const clock = new ManualClock();
  const net = new FakeNet();
  const line = new Line({ connector: net.connector, clock, clientIds: rangeClientIds(5, 9), ...options });
  const dials: number[] = [];
  const t0 = clock.now();
  line.start();
  await flush();
  while (clock.now() - t0 < untilMs && line.state !== "ready" && line.state !== "closed") {
    if (net.pendingDials > 0) {
      dials.push(clock.now() - t0);
      net.settleDial(true);
      await flush();
      net.hello();
      if (clock.now() - t0 < freedAt) {
        net.notice(326);
        net.current?.peerClose();
      } else {
        net.nextValidId(1);
        net.accounts();
      }
      await flush();
      continue;
    }
    clock.advance(10);
    await flush(2);
  }
  return { line, dials };
}

describe("Line after 326 — review", () => {
  it("a backoff that gives up after N attempts still covers the time TWS takes to free the id", async () => {
    // The user's backoff: 1, 2, 4, 8, 16 s, then give up — 31 s of looking in all. TWS frees
    // the squatted id 20 s after the first 326 (the commit's chaos hour measured 4–22 s).
    // The cap turns those 5 attempts into 5 s, so the line shuts down (its live orders with it)
    // long before the id comes free.
    const { line, dials } = await squat(
      {
        random: () => 1,
        backoff: exponentialBackoff({ initialMs: 1_000, maxMs: 30_000, maxAttempts: 5 }),
        placedOrders: () => [777],
      },
      20_000,
      60_000,
    );
    expect(line.state, `dials at ${dials.join(", ")}`).toBe("ready");
    expect(line.clientId).toBe(5);
    await line.close();
  });

  it("the capped wait keeps the backoff's jitter: lines with different draws do not redial in step", async () => {
    // Many lines meet 326 together (a daemon restarted while TWS still holds its old sockets).
    // backoff.ts: full jitter exists so that such a herd is spread. min(draw × ceiling, 1 s) is
    // exactly 1 s for almost every draw once the ceiling passes a few seconds.
    const gaps: number[] = [];
    for (const r of [0.3, 0.8]) {
      const { line, dials } = await squat({ random: () => r, placedOrders: () => [777] }, 1e9, 40_000);
      // The wait before the 9th look (backoff ceiling 30 s by then).
      gaps.push((dials[8] as number) - (dials[7] as number));
      await line.close();
    }
    expect(gaps[0]).not.toBe(gaps[1]);
  });
});
