/**
 * The daemon's client-id lease survives a store that fails for a while: a renewal the store
 * could not make is retried with backoff, so the lease is renewed once the store answers
 * again instead of running out while the line holds its id.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "../clock.js";
import { silentLogger } from "../logger.js";
import { until } from "../proxy/test-stack.test-util.js";
import { FileLeaseStore } from "../registry/file-store.js";
import { withFileLock } from "../registry/file-lock.js";
import { Registry } from "../registry/registry.js";
import { type LeaseConflict, registryClientIds, renewIntervalMs, renewRetryDelayMs } from "./client-ids.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-ids-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("renewRetryDelayMs", () => {
  it("grows from 500 ms, is capped at a sixth of the TTL and jittered to 50–100 %", () => {
    expect([0, 1, 2, 3].map((a) => renewRetryDelayMs(a, 600_000, () => 1))).toEqual([
      500, 1_000, 2_000, 4_000,
    ]);
    expect(renewRetryDelayMs(30, 60_000, () => 1)).toBe(10_000);
    expect(renewRetryDelayMs(0, 600_000, () => 0)).toBe(250);
  });
});

describe("the daemon's client-id lease", () => {
  it("is renewed after the store failed for a while", async () => {
    const store = new FileLeaseStore({ stateDir: dir, lockTimeoutMs: 100 });
    const registry = new Registry({ store, clock: systemClock, sweepIntervalMs: 0 });
    const renewed: number[] = [];
    registry.on("lease.renewed", (e) => renewed.push(e.lease.expiresAt));
    const ids = registryClientIds({
      registry,
      upstream: () => "paper",
      owner: "test",
      pid: process.pid,
      clock: systemClock,
      logger: silentLogger,
      ttlMs: 3_000,
      random: () => 0.5,
    });
    const lease = await ids.acquire();
    // Another process holds the store's lock past the first renewal (due after 1 s).
    let unlock!: () => void;
    const held = new Promise<void>((r) => {
      unlock = r;
    });
    const locked = withFileLock(
      join(dir, "leases.json.lock"),
      {
        clock: systemClock,
        host: hostname(),
        isPidAlive: () => true,
        random: () => 0.5,
        timeoutMs: 5_000,
        staleMs: 60_000,
        emptyStaleMs: 60_000,
      },
      () => held,
    );
    await new Promise((r) => setTimeout(r, 1_600));
    expect(renewed).toEqual([]);
    unlock();
    await locked;
    await until(() => renewed.length > 0, "a renewal once the store answers", 5_000);
    const snapshot = await registry.snapshot();
    expect(snapshot.leases.some((l) => l.clientId === lease.clientId)).toBe(true);
    await lease.release();
    await registry.close();
  });
});

describe("a lost client-id lease", () => {
  it("is leased again by number, orders or not, and each conflict is reported", async () => {
    const store = new FileLeaseStore({ stateDir: join(dir, "lost"), lockTimeoutMs: 1_000 });
    const registry = new Registry({ store, clock: systemClock, sweepIntervalMs: 0 });
    const clock = new ManualClock(Date.now());
    const conflicts: LeaseConflict[] = [];
    const ttlMs = 60_000;
    const ids = registryClientIds({
      registry,
      upstream: () => "paper",
      owner: "switchboard-daemon/default",
      pid: process.pid,
      clock,
      logger: silentLogger,
      ttlMs,
      random: () => 0.5,
      onConflict: (c) => conflicts.push(c),
    });
    const lease = await ids.acquire();
    const holderOf = async () =>
      (await registry.list()).find((l) => l.clientId === lease.clientId && l.upstream === "paper")?.owner;
    try {
      // An operator force-releases it, and another process takes that id at once.
      await registry.release(lease.clientId, { force: true, upstream: "paper" });
      const other = await registry.lease("proxy", "someone-else", ttlMs, {
        upstream: "paper",
        clientId: lease.clientId,
      });
      clock.advance(renewIntervalMs(ttlMs));
      await until(() => conflicts.length === 2, "the loss and the holder in the way reported");
      expect(conflicts).toEqual([
        { clientId: lease.clientId, reason: "lost", holdsOrders: false },
        { clientId: lease.clientId, reason: "held_by_other", holder: "someone-else", holdsOrders: false },
      ]);
      // Once the other lets go, the line's next retry takes its id back.
      await registry.release(other.clientId, { token: other.token, upstream: "paper" });
      let owner: string | undefined;
      for (let i = 0; i < 50 && owner !== "switchboard-daemon/default"; i++) {
        clock.advance(renewIntervalMs(ttlMs));
        await new Promise((r) => setTimeout(r, 20));
        owner = await holderOf();
      }
      expect(owner).toBe("switchboard-daemon/default");
      // And it is renewed from then on, as before.
      const renewed = new Promise<void>((resolve) => registry.on("lease.renewed", () => resolve()));
      clock.advance(renewIntervalMs(ttlMs));
      await renewed;
    } finally {
      await lease.release();
      await registry.close();
    }
  });
});
