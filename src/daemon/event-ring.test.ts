/**
 * A busy pacer does not wash the event ring: single pacer waits reach the ring (and SSE) as
 * one digest per rule per second, so the line's state changes stay replayable with
 * Last-Event-ID however many requests waited.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock.js";
import { loadConfig } from "../config/index.js";
import { silentLogger } from "../logger.js";
import { until } from "../proxy/test-stack.test-util.js";
import { Daemon } from "./daemon.js";

let dir: string;
let daemon: Daemon | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-ring-"));
});
afterEach(async () => {
  await daemon?.close();
  daemon = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the event ring under pacer load", () => {
  it("keeps line.state events replayable after 5,000 pacer waits", async () => {
    const config = loadConfig({ flags: { httpPort: "0", proxyPort: "0", mockPort: "0", stateDir: dir } });
    const d = new Daemon(config, {
      clock: systemClock,
      logger: silentLogger,
      random: () => 0.5,
      env: {},
      version: "test",
      pid: process.pid,
    });
    daemon = d;
    await d.start();
    const ready = (e: { type: string; data: unknown }) =>
      e.type === "line.state" && (e.data as { to?: string }).to === "ready";
    await until(() => d.events.since(0).some(ready), "the line ready");
    const states = d.events.since(0).filter((e) => e.type === "line.state");
    // The pacer's own event hub, as under a burst of requests that each waited a little.
    for (let i = 0; i < 5_000; i++) {
      d.pacer.events.emit({
        type: "pacer.wait",
        ts: Date.now(),
        tenant: `proxy-${i % 7}`,
        kind: "marketData",
        rule: i % 2 ? "messageRate" : "marketDataLines",
        waitedMs: i % 100,
      });
    }
    await until(() => d.events.since(0).some((e) => e.type === "pacer.wait"), "the wait digest", 10_000);
    const ring = d.events.since(0);
    const kept = ring.filter((e) => e.type === "line.state").map((e) => e.id);
    expect(kept).toEqual(states.map((e) => e.id));
    const digests = ring
      .filter((e) => e.type === "pacer.wait")
      .map((e) => e.data as unknown as Record<string, unknown>);
    expect(digests.length).toBeLessThanOrEqual(4);
    expect(digests.reduce((n, x) => n + Number(x.waits), 0)).toBe(5_000);
    expect(Math.max(...digests.map((x) => Number(x.waitedMs)))).toBe(99);
  });
});
