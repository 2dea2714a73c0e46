/**
 * The HA lease, its fencing and the group's line client-id leases on a real redis-server with
 * `appendonly yes` and `appendfsync always`, plus the persistence and config checks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isSwitchboardError } from "../errors.js";
import { RedisLeaseStore } from "../registry/redis-store.js";
import { type RedisServer, startRedis } from "../registry/test-support/redis-server.test-util.js";
import { FencedError, GroupConfigMismatchError, RedisPersistenceError } from "./errors.js";
import { groupLeaseOwner } from "./keys.js";
import { HaLease, type HaLeaseOptions } from "./lease.js";
import { checkRedisPersistence, persistenceProblem } from "./persistence.js";
import { connectHaRedis } from "./redis.js";

const LEASE_MS = 60_000;
let server: RedisServer;
let dir: string;
const clients: Redis[] = [];
let groupSeq = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sb-ha-redis-"));
  server = await startRedis({ persistent: true, dir });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
});

async function redis(url = server.url): Promise<Redis> {
  const r = await connectHaRedis(url);
  clients.push(r);
  return r;
}

async function daemon(group: string, holder: string, o: Partial<HaLeaseOptions> = {}): Promise<HaLease> {
  return new HaLease({
    redis: await redis(),
    group,
    holder,
    secret: `secret-${holder}`,
    host: "host-a",
    pid: 100,
    leaseMs: LEASE_MS,
    lines: ["default"],
    configHash: "lines-v1",
    now: () => Date.now(),
    ...o,
  });
}

/** The lease lapses in Redis, as it does when its holder stops renewing. */
async function lapse(l: HaLease): Promise<void> {
  const r = await redis();
  await r.pexpire(l.keys.lease, 1);
  while ((await r.exists(l.keys.lease)) === 1) await new Promise((res) => setTimeout(res, 5));
}

describe("HA lease in Redis", () => {
  it("grants one holder, refuses the other, and hands a lapsed lease over with a larger fencing token", async () => {
    const group = `g${groupSeq++}`;
    const a = await daemon(group, "a");
    const b = await daemon(group, "b");
    const first = await a.acquire();
    expect(first.status).toBe("granted");
    const t1 = first.status === "granted" ? first.token : 0;
    expect(await b.acquire()).toMatchObject({ status: "held", by: { holder: "a", token: t1 } });
    expect(await a.renew(t1)).toBe("renewed");
    await a.fencedWrite(t1, ["SET", `${a.keys.base}probe`, "a"]);

    await lapse(a);
    // Nobody took it yet, but the gap ends A's tenure: no silent re-grant under the old token.
    expect(await a.renew(t1)).toBe("lost");
    const second = await b.acquire();
    expect(second.status).toBe("granted");
    const t2 = second.status === "granted" ? second.token : 0;
    expect(t2).toBeGreaterThan(t1);
    expect(await a.renew(t1)).toBe("lost");

    // A write under A's token is refused; B's goes through.
    const refused = await a.fencedWrite(t1, ["SET", `${a.keys.base}probe`, "stale"]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FencedError);
    expect(isSwitchboardError(refused) && refused.code).toBe("fenced");
    await b.fencedWrite(t2, ["SET", `${b.keys.base}probe`, "b"]);
    expect(await (await redis()).get(`${a.keys.base}probe`)).toBe("b");

    // Only the holder's own release removes it.
    expect(await a.release(t1)).toBe(false);
    expect(await b.release(t2)).toBe(true);
    expect((await a.acquire()).status).toBe("granted");
  });

  it("refuses a fenced write once the lease lapsed, even before anyone else took it", async () => {
    const a = await daemon(`g${groupSeq++}`, "a");
    const g = await a.acquire();
    const token = g.status === "granted" ? g.token : 0;
    await lapse(a);
    await expect(a.fencedWrite(token, ["SET", `${a.keys.base}x`, "1"])).rejects.toBeInstanceOf(FencedError);
    expect(await (await redis()).exists(`${a.keys.base}x`)).toBe(0);
  });

  it("passes the group's line client-id leases to the new holder in the grant; nobody else can take them", async () => {
    const group = `g${groupSeq++}`;
    const store = new RedisLeaseStore({ url: server.url });
    const upstream = `line-${group}`;
    const lines = [upstream];
    const a = await daemon(group, "a", { lines });
    const b = await daemon(group, "b", { lines });
    const ga = await a.acquire();
    expect(ga.status).toBe("granted");
    const base = {
      upstream,
      purpose: "proxy",
      host: "host-a",
      pid: null,
      now: Date.now(),
      ttlMs: 60_000,
    };
    // A's line leased id 7 for the group; some other app holds id 8 on the same upstream.
    const line = await store.acquire({
      ...base,
      candidates: [7],
      owner: groupLeaseOwner(group),
      token: "secret-a",
    });
    expect(line.granted?.clientId).toBe(7);
    await store.acquire({ ...base, candidates: [8], owner: "someone-else", token: "other" });

    await lapse(a);
    const gb = await b.acquire();
    expect(gb.status).toBe("granted");
    const { leases } = await store.list(Date.now());
    const seven = leases.find((l) => l.upstream === upstream && l.clientId === 7);
    const eight = leases.find((l) => l.upstream === upstream && l.clientId === 8);
    expect(seven).toMatchObject({ owner: groupLeaseOwner(group), token: "secret-b" });
    // Kept alive well past its own TTL (the group's line leases live with the HA lease).
    expect(seven!.expiresAt).toBeGreaterThan(Date.now() + 5 * 60_000);
    expect(eight).toMatchObject({ owner: "someone-else", token: "other" });
    // The old holder's token no longer renews it; anyone else asking for id 7 is refused.
    expect(
      (await store.renew({ upstream, clientId: 7, token: "secret-a", now: Date.now(), ttlMs: 60_000 })).ok,
    ).toBe(false);
    expect(
      (await store.renew({ upstream, clientId: 7, token: "secret-b", now: Date.now(), ttlMs: 60_000 })).ok,
    ).toBe(true);
    const taken = await store.acquire({ ...base, candidates: [7], owner: "intruder", token: "x" });
    expect(taken.granted).toBeNull();
    await store.close();
  });

  it("survives a Redis restart: the holder keeps its lease, and the fencing counter never goes back", async () => {
    const group = `g${groupSeq++}`;
    const a = await daemon(group, "a");
    const g = await a.acquire();
    const t1 = g.status === "granted" ? g.token : 0;
    for (const c of clients.splice(0)) c.disconnect();
    await server.restart();
    const a2 = await daemon(group, "a");
    expect(await a2.renew(t1)).toBe("renewed");
    await lapse(a2);
    const b = await daemon(group, "b");
    const gb = await b.acquire();
    expect(gb.status === "granted" && gb.token).toBe(t1 + 1);
  });

  it("keeps a group on one set of lines: a daemon with other lines is refused while another holds the lease", async () => {
    const group = `g${groupSeq++}`;
    const a = await daemon(group, "a", { configHash: "lines-v1" });
    await a.checkConfig();
    const g = await a.acquire();
    expect(g.status).toBe("granted");
    const b = await daemon(group, "b", { configHash: "lines-v2" });
    const err = await b.checkConfig().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupConfigMismatchError);
    expect((err as Error).message).toContain(`HA group "${group}"`);
    // Had it passed the start check (a race), its first ask for the lease says so too.
    expect((await b.acquire()).status).toBe("mismatch");
    // The same lines are fine; and with nobody active, new lines become the group's.
    await (await daemon(group, "c", { configHash: "lines-v1" })).checkConfig();
    await a.release(g.status === "granted" ? g.token : 0);
    await b.checkConfig();
    expect((await b.acquire()).status).toBe("granted");
  });
});

describe("Redis persistence check", () => {
  it("accepts appendonly yes + appendfsync always", async () => {
    await checkRedisPersistence(await redis(), server.url);
  });

  it("refuses a Redis without persistence, naming appendonly and appendfsync always", async () => {
    const plain = await startRedis();
    try {
      const err = await checkRedisPersistence(await redis(plain.url), plain.url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisPersistenceError);
      expect((err as Error).message).toMatch(/appendonly/);
      expect((err as Error).message).toMatch(/appendfsync always/);
      expect((err as RedisPersistenceError).code).toBe("config");
      // appendonly alone is not enough: every acknowledged write must be on disk.
      expect(persistenceProblem({ appendonly: "yes", appendfsync: "everysec" })).toMatch(
        /appendfsync is "everysec", needs "always"/,
      );
      expect(persistenceProblem({ appendonly: "yes", appendfsync: "always" })).toBeUndefined();
    } finally {
      await plain.stop();
    }
  });
});
