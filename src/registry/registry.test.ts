import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { RangeExhaustedError } from "./errors.js";
import { MemoryLeaseStore } from "./memory-store.js";
import { Registry } from "./registry.js";
import type { LeaseEvent } from "./types.js";

function setup(alive: Set<number> = new Set()) {
  const clock = new ManualClock(1_700_000_000_000);
  let n = 0;
  const reg = new Registry({
    store: new MemoryLeaseStore(),
    clock,
    host: "h1",
    isPidAlive: (pid) => alive.has(pid),
    newToken: () => `tok${++n}`,
    purposes: { ui: { min: 1, max: 3 }, workers: { min: 10, max: 99 } },
  });
  const events: LeaseEvent[] = [];
  reg.on("lease.granted", (e) => events.push(e));
  reg.on("lease.renewed", (e) => events.push(e));
  reg.on("lease.released", (e) => events.push(e));
  reg.on("lease.expired", (e) => events.push(e));
  return { clock, reg, events, alive };
}

describe("Registry", () => {
  it("leases, renews and releases, emitting events without tokens", async () => {
    const { clock, reg, events } = setup();
    const l = await reg.lease("ui", "dashboard", 10_000);
    expect(l).toMatchObject({
      clientId: 1,
      purpose: "ui",
      owner: "dashboard",
      token: "tok1",
      host: "h1",
      pid: null,
      upstream: "default",
    });
    clock.advance(5_000);
    const r = await reg.renew(1, "tok1", 10_000);
    expect(r.expiresAt).toBe(clock.now() + 10_000);
    await reg.release(1, { token: "tok1" });
    expect(events.map((e) => e.type)).toEqual(["lease.granted", "lease.renewed", "lease.released"]);
    for (const e of events) expect(e.lease).not.toHaveProperty("token");
    expect(await reg.list()).toEqual([]);
  });

  it("leases a given id by number: that id or a 409, never another; a dead holder's lease is reclaimed", async () => {
    const { reg, alive } = setup(new Set([77]));
    await reg.lease("workers", "old-daemon", 10_000, { pid: 77 });
    const held = await reg.lease("workers", "new-daemon", 10_000, { clientId: 10 }).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(RangeExhaustedError);
    expect((held as RangeExhaustedError).message).toMatch(/\(10\.\.10\).*old-daemon/);
    // The same id is taken only once its holder is gone, and a free id elsewhere is not offered.
    alive.delete(77);
    expect(await reg.lease("workers", "new-daemon", 10_000, { clientId: 10 })).toMatchObject({
      clientId: 10,
      owner: "new-daemon",
    });
    expect(await reg.lease("workers", "x", 10_000, { clientId: 42 })).toMatchObject({ clientId: 42 });
    await expect(reg.lease("workers", "x", 10_000, { clientId: 5 })).rejects.toMatchObject({
      code: "invalid_argument",
      field: "clientId",
    });
  });

  it("throws range_exhausted naming the purpose and its holders", async () => {
    const { reg } = setup(new Set([77]));
    await reg.lease("ui", "a", 10_000);
    await reg.lease("ui", "b", 10_000, { pid: 77 });
    await reg.lease("ui", "a", 10_000);
    const err = await reg.lease("ui", "c", 10_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeExhaustedError);
    const e = err as RangeExhaustedError;
    expect(e.code).toBe("range_exhausted");
    expect(e.purpose).toBe("ui");
    expect(e.message).toMatch(/purpose "ui" \(1\.\.3\).*a@h1 \(1, 3\); b@h1 pid 77 \(2\)/);
    expect(e.holders.map((h) => h.clientId)).toEqual([1, 2, 3]);
    // Another upstream has its own ids.
    expect((await reg.lease("ui", "c", 10_000, { upstream: "live" })).clientId).toBe(1);
    expect((await reg.snapshot()).counters.exhausted).toBe(1);
  });

  it("expires leases after their TTL and reports them", async () => {
    const { clock, reg, events } = setup();
    await reg.lease("ui", "a", 1_000);
    clock.advance(1_000);
    expect(await reg.sweep()).toBe(1);
    expect(events.at(-1)).toMatchObject({ type: "lease.expired", reason: "ttl", lease: { clientId: 1 } });
    await expect(reg.renew(1, "tok1", 1_000)).rejects.toMatchObject({ code: "not_found" });
  });

  it("renew of an expired lease says so", async () => {
    const { clock, reg } = setup();
    await reg.lease("ui", "a", 1_000);
    clock.advance(2_000);
    await expect(reg.renew(1, "tok1", 1_000)).rejects.toMatchObject({
      code: "lease_invalid",
      field: "clientId",
    });
  });

  it("keeps a 326-rejected id out for the cool-down (default 60 s)", async () => {
    const { clock, reg } = setup();
    const c = await reg.markRejected(1);
    expect(c.until).toBe(clock.now() + 60_000);
    expect((await reg.lease("ui", "a", 1_000_000)).clientId).toBe(2);
    clock.advance(59_999);
    expect((await reg.lease("ui", "a", 1_000_000)).clientId).toBe(3);
    await expect(reg.lease("ui", "a", 1_000)).rejects.toMatchObject({
      code: "range_exhausted",
      message: /ui/,
    });
    clock.advance(1);
    expect((await reg.lease("ui", "a", 1_000)).clientId).toBe(1);
  });

  it("reclaims leases of dead local pids before their TTL, never other hosts' pids", async () => {
    const alive = new Set([100, 200]);
    const { reg, events } = setup(alive);
    await reg.lease("ui", "a", 1_000_000, { pid: 100 });
    await reg.lease("ui", "b", 1_000_000, { pid: 200 });
    await reg.lease("ui", "c", 1_000_000);
    alive.delete(100);
    expect((await reg.list()).map((l) => l.clientId)).toEqual([2, 3]);
    expect(events.at(-1)).toMatchObject({
      type: "lease.expired",
      reason: "owner_dead",
      lease: { clientId: 1, pid: 100 },
    });
  });

  it("reclaims a dead owner's id when the range is full", async () => {
    const alive = new Set([1, 2, 3]);
    const { reg } = setup(alive);
    for (const pid of [1, 2, 3]) await reg.lease("ui", "w", 1_000_000, { pid });
    alive.delete(2);
    expect((await reg.lease("ui", "new", 1_000)).clientId).toBe(2);
  });

  it("does not judge pids of leases taken on another host", async () => {
    const clock = new ManualClock();
    const store = new MemoryLeaseStore();
    const other = new Registry({ store, clock, host: "h2", isPidAlive: () => true, ownsStore: false });
    await other.lease("ui", "remote", 1_000_000, { pid: 5 });
    const local = new Registry({ store, clock, host: "h1", isPidAlive: () => false });
    expect((await local.list()).map((l) => l.host)).toEqual(["h2"]);
  });

  it("release needs the token or force", async () => {
    const { reg, events } = setup();
    await reg.lease("ui", "a", 1_000);
    await expect(reg.release(1)).rejects.toMatchObject({ code: "invalid_argument", field: "token" });
    await expect(reg.release(1, { token: "nope" })).rejects.toMatchObject({
      code: "lease_invalid",
      field: "token",
    });
    await reg.release(1, { force: true });
    expect(events.at(-1)).toMatchObject({ type: "lease.released", forced: true });
    await expect(reg.release(1, { force: true })).rejects.toMatchObject({ code: "not_found" });
  });

  it("validates purpose, ttl, owner and pid with the field named", async () => {
    const { reg } = setup();
    await expect(reg.lease("nope", "a", 1)).rejects.toMatchObject({
      field: "purpose",
      message: /accepted: ui, workers/,
    });
    await expect(reg.lease("ui", "a", 0)).rejects.toMatchObject({ field: "ttlMs" });
    await expect(reg.lease("ui", "", 10)).rejects.toMatchObject({ field: "owner" });
    await expect(reg.lease("ui", "a", 10, { pid: -1 })).rejects.toMatchObject({ field: "pid" });
  });

  it("snapshot explains usage per upstream and purpose", async () => {
    const { clock, reg } = setup();
    await reg.lease("ui", "a", 10_000);
    await reg.markRejected(2);
    clock.advance(1_000);
    const s = await reg.snapshot();
    expect(s).toMatchObject({
      state: "open",
      host: "h1",
      store: { kind: "memory" },
      defaultUpstream: "default",
      cooldownMs: 60_000,
    });
    expect(s.usage).toEqual([
      { upstream: "default", purpose: "ui", min: 1, max: 3, size: 3, leased: 1, coolingDown: 1, free: 1 },
      {
        upstream: "default",
        purpose: "workers",
        min: 10,
        max: 99,
        size: 90,
        leased: 0,
        coolingDown: 0,
        free: 90,
      },
    ]);
    expect(s.leases[0]).toMatchObject({ clientId: 1, ageMs: 1_000, remainingMs: 9_000 });
    expect(s.leases[0]).not.toHaveProperty("token");
    expect(s.cooldowns).toEqual([
      { upstream: "default", clientId: 2, until: clock.now() + 59_000, remainingMs: 59_000 },
    ]);
    expect(s.counters).toMatchObject({ granted: 1, rejected: 1 });
  });

  it("sweeps on an interval when asked, and stops on close", async () => {
    const clock = new ManualClock();
    const reg = new Registry({ clock, sweepIntervalMs: 1_000 });
    const expired: LeaseEvent[] = [];
    reg.on("lease.expired", (e) => expired.push(e));
    await reg.lease("ui", "a", 500);
    clock.advance(1_000);
    await new Promise((r) => setImmediate(r));
    expect(expired).toHaveLength(1);
    await reg.close();
    expect(reg.state).toBe("closed");
    expect(clock.pending).toBe(0);
    await expect(reg.lease("ui", "a", 1)).rejects.toMatchObject({ code: "closed" });
  });
});
