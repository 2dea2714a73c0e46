/**
 * A daemon whose client-id leases live in Redis outlives a Redis restart: while Redis is away
 * /metrics still answers (the lease store's gauge says it is down), and once Redis is back the
 * daemon leases through it again — even when Redis was away longer than one client's
 * reconnect tries. Real processes: redis-server, `switchboard mock-gateway`, `switchboard start`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedis } from "../registry/test-support/redis-server.test-util.js";
import {
  type Proc,
  startProcess,
  until,
  daemonArgs,
  startMockGateway,
} from "./test-support/process.test-util.js";

const procs: Proc[] = [];
const dirs: string[] = [];
let redis: RedisServer | undefined;
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop("SIGKILL");
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a daemon on a Redis lease store", () => {
  it("keeps /metrics answering while Redis is away and leases again once it is back", async () => {
    redis = await startRedis();
    const stateDir = mkdtempSync(join(tmpdir(), "sb-redis-restart-"));
    dirs.push(stateDir);
    const mock = await startMockGateway();
    procs.push(mock);
    const daemon = await startProcess(
      daemonArgs({ upstream: `127.0.0.1:${String(mock.ready.port)}`, stateDir, redis: redis.url }),
    );
    procs.push(daemon);
    const http = String(daemon.ready.http);
    const scrape = async () => {
      const r = await fetch(`${http}/metrics`);
      return { status: r.status, text: await r.text() };
    };
    const lease = async (owner: string) => {
      const r = await fetch(`${http}/api/ids/lease`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ purpose: "workers", owner, ttlMs: 60_000 }),
      });
      return {
        status: r.status,
        body: (await r.json()) as { success: boolean; data?: { clientId: number } },
      };
    };

    expect((await lease("before")).status).toBe(200);
    expect((await scrape()).text).toMatch(/^switchboard_lease_store_up 1$/m);

    await redis.stop();
    // Away for longer than a Redis client's reconnect tries; every scrape still answers.
    for (let i = 0; i < 10; i++) {
      const s = await scrape();
      expect(s.status).toBe(200);
      expect(s.text).toMatch(/^process_resident_memory_bytes /m);
      await sleep(200);
    }
    expect((await scrape()).text).toMatch(/^switchboard_lease_store_up 0$/m);
    expect((await lease("while-away")).body.success).toBe(false);

    await redis.restart();
    const after = await until(async () => {
      const r = await lease("after");
      return r.status === 200 ? r.body : undefined;
    }, "a lease through the restarted Redis");
    expect(after.data?.clientId).toBeGreaterThan(0);
    expect((await scrape()).text).toMatch(/^switchboard_lease_store_up 1$/m);
  });
});
