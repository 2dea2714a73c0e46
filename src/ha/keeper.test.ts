/**
 * Two keepers of one group on a real redis-server (appendonly): one active at a time, a
 * frozen active is replaced and steps down on its own clock, a stale fencing token steps a
 * daemon down at once. Outcomes only; the waits are hang guards.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock.js";
import { silentLogger } from "../logger.js";
import { type RedisServer, startRedis } from "../registry/test-support/redis-server.test-util.js";
import { FencedError } from "./errors.js";
import { HaKeeper } from "./keeper.js";
import { HaLease } from "./lease.js";
import { connectHaRedis } from "./redis.js";
import type { StepDownReason } from "./role.js";

const LEASE_MS = 1_000;
let server: RedisServer;
let dir: string;
const open: { keeper: HaKeeper; redis: Redis }[] = [];
let seq = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-ha-keeper-"));
  server = await startRedis({ persistent: true, dir });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.keeper.close();
    o.redis.disconnect();
  }
});

async function keeper(group: string, name: string, log: string[], monotonic = () => performance.now()) {
  const redis = await connectHaRedis(server.url);
  const lease = new HaLease({
    redis,
    group,
    holder: name,
    secret: name,
    host: "h",
    pid: 1,
    leaseMs: LEASE_MS,
    lines: ["default"],
    configHash: "x",
    now: () => Date.now(),
  });
  const k = new HaKeeper({
    lease,
    leaseMs: LEASE_MS,
    clock: systemClock,
    monotonic,
    logger: silentLogger,
    stepDown: async (reason: StepDownReason) => {
      log.push(`${name}:down:${reason}`);
    },
    onMismatch: () => log.push(`${name}:mismatch`),
  });
  k.role.on((e) => log.push(`${name}:${e.role}`));
  open.push({ keeper: k, redis });
  return { keeper: k, lease };
}

async function until(what: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000; // hang guard, not a timing goal
  while (!what()) {
    if (Date.now() > deadline) throw new Error("condition never reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("HA keeper", () => {
  it("one active; a frozen active is replaced, and on waking it steps down without writing", async () => {
    const group = `k${seq++}`;
    const log: string[] = [];
    // A's monotonic clock can be held still, as a SIGSTOPped process sees no time pass, then jump.
    let frozenAt: number | undefined;
    let skew = 0;
    const aClock = () => (frozenAt ?? performance.now()) + skew;
    const a = await keeper(group, "a", log, aClock);
    a.keeper.start();
    await until(() => a.keeper.role.role === "active");
    const b = await keeper(group, "b", log);
    b.keeper.start();
    await until(() => a.keeper.mayWrite());
    expect(b.keeper.role.role).toBe("standby");

    // Freeze A: it stops renewing (timers stopped) and its clock stands still.
    a.keeper.halt();
    frozenAt = performance.now();
    await until(() => b.keeper.role.role === "active");
    // A still thinks it is fresh (no time passed for it): a write under its token is fenced.
    const token = a.keeper.role.token as number;
    const err = await a.lease
      .fencedWrite(token, ["SET", `${a.lease.keys.base}x`, "1"])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FencedError);
    // It wakes: its clock jumps on and the window is over; it may not write.
    skew = performance.now() - (frozenAt ?? 0);
    frozenAt = undefined;
    expect(a.keeper.mayWrite()).toBe(false);
    a.keeper.fenced(token);
    await until(() => a.keeper.role.role === "standby");
    expect(log).toContain("a:down:fenced");
    expect(b.keeper.mayWrite()).toBe(true);
    expect(log.filter((l) => l.endsWith(":active"))).toEqual(["a:active", "b:active"]);
  });

  it("an active whose Redis goes away stops writing on its own clock and steps down (lease_stale)", async () => {
    const group = `k${seq++}`;
    const log: string[] = [];
    const a = await keeper(group, "a", log);
    a.keeper.start();
    await until(() => a.keeper.mayWrite());
    // Every later lease call fails, as with Redis unreachable.
    open[open.length - 1]!.redis.disconnect();
    await until(() => a.keeper.role.role === "standby");
    expect(log).toContain("a:down:lease_stale");
    expect(a.keeper.mayWrite()).toBe(false);
  });

  it("close() steps down and releases: the standby takes over without waiting for the lease to lapse", async () => {
    const group = `k${seq++}`;
    const log: string[] = [];
    const a = await keeper(group, "a", log);
    a.keeper.start();
    await until(() => a.keeper.role.role === "active");
    const b = await keeper(group, "b", log);
    b.keeper.start();
    await a.keeper.close();
    expect(log).toContain("a:down:shutdown");
    expect(await a.lease.current()).toBeUndefined();
    await until(() => b.keeper.role.role === "active");
  });
});
