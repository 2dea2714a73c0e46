/** One contract, three stores: memory, file and Redis (against a real redis-server). */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FileLeaseStore } from "./file-store.js";
import { MemoryLeaseStore } from "./memory-store.js";
import { RedisLeaseStore } from "./redis-store.js";
import type { LeaseStore } from "./store.js";
import { type RedisServer, startRedis } from "./test-support/redis-server.test-util.js";
import type { AcquireRequest, Lease } from "./types.js";

const NOW = 1_700_000_000_000;
let redis: RedisServer;
let raw: Redis;
let dir: string;
let seq = 0;

beforeAll(async () => {
  redis = await startRedis();
  raw = new Redis(redis.url);
  dir = await mkdtemp(join(tmpdir(), "sb-store-"));
});

afterAll(async () => {
  raw?.disconnect();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Harness {
  make(): LeaseStore;
  /** Another handle on the same data (another process would see this), or null for memory. */
  reopen(): LeaseStore | null;
  /** Make the lease's expiry happen; returns the `now` to pass from then on. */
  expire(lease: Lease): Promise<number>;
}

const harnesses: Record<string, () => Harness> = {
  memory: () => ({
    make: () => new MemoryLeaseStore(),
    reopen: () => null,
    expire: async (l) => l.expiresAt,
  }),
  file: () => {
    const stateDir = join(dir, `f${seq++}`);
    return {
      make: () => new FileLeaseStore({ stateDir }),
      reopen: () => new FileLeaseStore({ stateDir }),
      expire: async (l) => l.expiresAt,
    };
  },
  redis: () => {
    const keyPrefix = `t${seq++}:`;
    return {
      make: () => new RedisLeaseStore({ url: redis.url, keyPrefix }),
      reopen: () => new RedisLeaseStore({ url: redis.url, keyPrefix }),
      // In Redis the key's PX TTL is the expiry; delete the key as Redis would when it fires.
      expire: async (l) => {
        await raw.del(`${keyPrefix}${l.upstream}:lease:${l.clientId}`);
        return NOW;
      },
    };
  },
};

function req(over: Partial<AcquireRequest> = {}): AcquireRequest {
  return {
    upstream: "paper",
    purpose: "workers",
    candidates: [10, 11, 12],
    owner: "w",
    host: "h1",
    pid: 4242,
    token: `tok${seq++}`,
    now: NOW,
    ttlMs: 60_000,
    ...over,
  };
}

const open: LeaseStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(Object.keys(harnesses))("%s store contract", (name) => {
  const setup = () => {
    const h = harnesses[name]!();
    const store = h.make();
    open.push(store);
    return { h, store };
  };

  it("grants the first free candidate with the full lease JSON", async () => {
    const { store } = setup();
    const a = await store.acquire(req({ token: "A" }));
    expect(a.granted).toEqual({
      clientId: 10,
      purpose: "workers",
      owner: "w",
      token: "A",
      expiresAt: NOW + 60_000,
      leasedAt: NOW,
      host: "h1",
      pid: 4242,
      upstream: "paper",
    });
    expect(Object.keys(a.granted!)).toEqual([
      "clientId",
      "purpose",
      "owner",
      "token",
      "expiresAt",
      "leasedAt",
      "host",
      "pid",
      "upstream",
    ]);
    expect((await store.acquire(req({ pid: null }))).granted).toMatchObject({ clientId: 11, pid: null });
  });

  it("grants nothing when candidates are leased or cooling; upstreams are separate", async () => {
    const { store } = setup();
    await store.acquire(req({ ttlMs: 600_000 }));
    await store.acquire(req({ ttlMs: 600_000 }));
    await store.reject({ upstream: "paper", clientId: 12, until: NOW + 60_000, now: NOW });
    expect((await store.acquire(req())).granted).toBeNull();
    expect((await store.acquire(req({ upstream: "live" }))).granted?.clientId).toBe(10);
    // After the cool-down, 12 is free again.
    expect((await store.acquire(req({ now: NOW + 60_000 }))).granted?.clientId).toBe(12);
  });

  it("renews with the token only", async () => {
    const { store } = setup();
    const l = (await store.acquire(req({ token: "A" }))).granted!;
    const r = await store.renew({
      upstream: "paper",
      clientId: l.clientId,
      token: "A",
      now: NOW + 1_000,
      ttlMs: 5_000,
    });
    expect(r).toEqual({ ok: true, lease: { ...l, expiresAt: NOW + 6_000 } });
    expect(
      await store.renew({ upstream: "paper", clientId: l.clientId, token: "B", now: NOW, ttlMs: 5 }),
    ).toMatchObject({
      ok: false,
      reason: "bad_token",
    });
    expect(await store.renew({ upstream: "paper", clientId: 99, token: "A", now: NOW, ttlMs: 5 })).toEqual({
      ok: false,
      reason: "not_found",
    });
  });

  it("releases with the token or by force", async () => {
    const { store } = setup();
    const a = (await store.acquire(req({ token: "A" }))).granted!;
    const b = (await store.acquire(req({ token: "B" }))).granted!;
    expect(
      await store.release({ upstream: "paper", clientId: a.clientId, token: "B", now: NOW }),
    ).toMatchObject({
      ok: false,
      reason: "bad_token",
    });
    expect(await store.release({ upstream: "paper", clientId: a.clientId, token: "A", now: NOW })).toEqual({
      ok: true,
      lease: a,
    });
    expect(await store.release({ upstream: "paper", clientId: b.clientId, token: null, now: NOW })).toEqual({
      ok: true,
      lease: b,
    });
    expect(await store.release({ upstream: "paper", clientId: b.clientId, token: null, now: NOW })).toEqual({
      ok: false,
      reason: "not_found",
    });
    expect((await store.list(NOW)).leases).toEqual([]);
  });

  it("reports expired leases once and frees their ids", async () => {
    const { h, store } = setup();
    const l = (await store.acquire(req())).granted!;
    const now = await h.expire(l);
    const listed = await store.list(now);
    expect(listed.expired).toEqual([l]);
    expect(listed.leases).toEqual([]);
    expect((await store.list(now)).expired).toEqual([]);
    expect((await store.acquire(req({ now }))).granted?.clientId).toBe(10);
  });

  it("lists leases and cool-downs of every upstream", async () => {
    const { store } = setup();
    const a = (await store.acquire(req())).granted!;
    const b = (await store.acquire(req({ upstream: "live" }))).granted!;
    await store.reject({ upstream: "live", clientId: 50, until: NOW + 10, now: NOW });
    const r = await store.list(NOW);
    expect([...r.leases].sort((x, y) => x.upstream.localeCompare(y.upstream))).toEqual([b, a]);
    expect(r.cooldowns).toEqual([{ upstream: "live", clientId: 50, until: NOW + 10 }]);
    expect((await store.list(NOW + 10)).cooldowns).toEqual([]);
  });

  it("is shared by every handle on the same data", async () => {
    const { h, store } = setup();
    const other = h.reopen();
    if (!other) return; // memory: one process only, by design
    open.push(other);
    const l = (await store.acquire(req())).granted!;
    expect((await other.list(NOW)).leases).toEqual([l]);
    expect((await other.acquire(req())).granted?.clientId).toBe(11);
  });

  it("rejects calls after close", async () => {
    const { store } = setup();
    await store.close();
    await expect(store.list(NOW)).rejects.toMatchObject({ code: "closed" });
  });
});

describe("redis specifics", () => {
  it("sets a PX TTL on each lease key so a crashed host's leases vanish", async () => {
    const store = new RedisLeaseStore({ url: redis.url, keyPrefix: "ttl:" });
    open.push(store);
    await store.acquire(req({ ttlMs: 30_000 }));
    const pttl = await raw.pttl("ttl:paper:lease:10");
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(30_000);
  });

  it("fails with a store error when Redis is unreachable", async () => {
    const store = new RedisLeaseStore({ url: "redis://127.0.0.1:1", connectTimeoutMs: 500 });
    open.push(store);
    await expect(store.list(NOW)).rejects.toMatchObject({ code: "store" });
  });
});

describe("redis restarts", () => {
  it("serves again after Redis was away longer than the client's reconnect tries", async () => {
    const own = await startRedis();
    const store = new RedisLeaseStore({ url: own.url, keyPrefix: "restart:", connectTimeoutMs: 500 });
    open.push(store);
    try {
      await store.acquire(req());
      await own.stop();
      // Away for a while: every call fails (the client gives up its reconnect tries meanwhile).
      for (let i = 0; i < 8; i++) {
        await expect(store.list(NOW)).rejects.toMatchObject({ code: "store" });
        await new Promise((r) => setTimeout(r, 200));
      }
      await own.restart();
      const after = await store.acquire(req({ candidates: [20] }));
      expect(after.granted?.clientId).toBe(20);
    } finally {
      await own.stop();
    }
  });
});

describe("file specifics", () => {
  it("refuses a corrupt file instead of silently starting empty", async () => {
    const stateDir = join(dir, "corrupt");
    const store = new FileLeaseStore({ stateDir });
    open.push(store);
    await store.list(NOW);
    await writeFile(join(stateDir, "leases.json"), "{not json");
    await expect(store.list(NOW)).rejects.toMatchObject({ code: "store" });
  });

  it("recovers a lock left by a dead process and removes orphan temp files", async () => {
    const stateDir = join(dir, "stale");
    const first = new FileLeaseStore({ stateDir });
    await first.acquire(req());
    await first.close();
    await writeFile(
      join(stateDir, "leases.json.lock"),
      JSON.stringify({ pid: 999_999_999, host: "h1", nonce: "x", at: Date.now() }),
    );
    await writeFile(join(stateDir, "leases.json.12345.abcd.tmp"), "{half a docu");
    const store = new FileLeaseStore({ stateDir, host: "h1", isPidAlive: () => false });
    open.push(store);
    expect((await store.acquire(req())).granted?.clientId).toBe(11);
    const { readdir } = await import("node:fs/promises");
    expect((await readdir(stateDir)).sort()).toEqual(["leases.json"]);
    expect(JSON.parse(await readFile(join(stateDir, "leases.json"), "utf8")).leases).toHaveLength(2);
  });

  it("recovers an empty lock file (killed between create and write) once it is old", async () => {
    const stateDir = join(dir, "empty-lock");
    const { mkdir, utimes } = await import("node:fs/promises");
    await mkdir(stateDir, { recursive: true });
    const lock = join(stateDir, "leases.json.lock");
    await writeFile(lock, "");
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const store = new FileLeaseStore({ stateDir });
    open.push(store);
    expect((await store.acquire(req())).granted?.clientId).toBe(10);
  });

  it("times out with a store error while a live process holds the lock", async () => {
    const stateDir = join(dir, "held");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(stateDir, { recursive: true });
    await writeFile(
      join(stateDir, "leases.json.lock"),
      JSON.stringify({ pid: process.ppid, host: "h1", nonce: "x", at: Date.now() }),
    );
    const store = new FileLeaseStore({ stateDir, host: "h1", lockTimeoutMs: 200 });
    open.push(store);
    await expect(store.list(NOW)).rejects.toMatchObject({ code: "store", message: /could not lock/ });
  });
});
