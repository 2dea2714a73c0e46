/**
 * Standby through Redis at its edges, with real processes: a persistent redis-server, the mock
 * gateway, `switchboard start` daemons of one HA group and @stoqey/ib as the client: Redis
 * outages and orders, the audit across a step-down, a failed takeover, a file journal with live
 * orders, an optional line that is down. Outcomes only, every wait a bounded hang guard.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventName } from "@stoqey/ib";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { groupKeys } from "../ha/keys.js";
import { connectStoqey } from "../mock/stoqey-client.test-util.js";
import { type RedisServer, startRedis } from "../registry/test-support/redis-server.test-util.js";
import {
  haStartArgs,
  livez,
  gatewayOrders as sharedGatewayOrders,
  resting,
  submitted,
} from "./test-support/ha.test-util.js";
import {
  type Proc,
  startProcess,
  until,
  daemonArgs,
  startMockGateway,
} from "./test-support/process.test-util.js";

const procs: Proc[] = [];
const closers: { close(): Promise<void> }[] = [];
const dirs: string[] = [];
let redis: RedisServer;
let mock: Proc;
let control: string;

const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `sb-ha-fencing-${name}-`));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  redis = await startRedis({ persistent: true, dir: tmp("redis") });
  mock = await startMockGateway();
  procs.push(mock);
  control = `http://127.0.0.1:${String(mock.ready.controlPort)}`;
}, 60_000);

afterAll(async () => {
  for (const c of closers.reverse()) await c.close().catch(() => undefined);
  for (const p of procs.reverse()) await p.stop("SIGKILL");
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function daemon(group: string, leaseMs: string, stateDir = tmp("state")): Promise<Proc> {
  const p = await startProcess(
    haStartArgs({
      upstream: `127.0.0.1:${String(mock.ready.port)}`,
      stateDir,
      redis: redis.url,
      group,
      leaseMs: leaseMs,
    }),
  );
  procs.push(p);
  return p;
}

const gatewayOrders = (orderRef: string) => sharedGatewayOrders(control, orderRef);

describe("standby through Redis: outages, failed takeovers, migration, optional lines", () => {
  it("Redis unreachable: a modify of a resting order gets 399 and never reaches the gateway", async () => {
    // A long lease, so the whole test runs inside one freshness window: what is shown is the
    // Redis outage, not the lease running out.
    const group = "fenceaway";
    const a = await daemon(group, "60000");
    expect(a.ready).toMatchObject({ role: "active" });
    const c = await connectStoqey(Number(a.ready.proxyPort), 21, (x) => closers.push(x));
    const orderId = c.nextId;
    const ref = `${group}-1`;
    const placed = submitted(c, orderId);
    resting(c, orderId, ref, 1);
    await placed;
    expect(await gatewayOrders(ref)).toMatchObject([{ placeCount: 1, modifyCount: 0 }]);

    // Either answer ends the wait: a refusal (399), or the modified order coming back from TWS.
    const outcome = new Promise<string>((resolve) => {
      c.api.on(EventName.error, (_e: Error, code: number, id: number) => {
        if (id === orderId && code === 399) resolve("refused");
      });
      c.api.on(EventName.openOrder, (id: number, _contract: unknown, order: { totalQuantity?: number }) => {
        if (id === orderId && Number(order.totalQuantity) === 3) resolve("modified at TWS");
      });
      c.api.on(EventName.orderStatus, (id: number, _status: string, filled: number, remaining: number) => {
        if (id === orderId && Number(filled) + Number(remaining) === 3) resolve("modified at TWS");
      });
    });
    await redis.stop();
    try {
      resting(c, orderId, ref, 3);
      // interfaces.md: "While Redis is unreachable, order messages get 201" (399 for a modify).
      expect(await outcome).toBe("refused");
      expect(await gatewayOrders(ref)).toMatchObject([{ placeCount: 1, modifyCount: 0 }]);
    } finally {
      await redis.restart();
    }
  }, 120_000);

  it("Redis unreachable: the 201 refusal reaches the daemon's audit stream once Redis is back, though it stepped down meanwhile", async () => {
    const group = "fenceaudit";
    const a = await daemon(group, "2000");
    expect(a.ready).toMatchObject({ role: "active" });
    const c = await connectStoqey(Number(a.ready.proxyPort), 23, (x) => closers.push(x));
    const orderId = c.nextId;
    const refused = new Promise<void>((resolve) =>
      c.api.on(EventName.error, (_e: Error, code: number, id: number) => {
        if (id === orderId && code === 201) resolve();
      }),
    );
    await redis.stop();
    try {
      resting(c, orderId, `${group}-1`, 1);
      await refused;
      // The outage outlasts the freshness window: the daemon steps down (its lines and their
      // audit close) before Redis is back.
      await until(async () => ((await livez(a)) === "standby" ? true : undefined), "the step-down", 400);
      // Redis stays away a little longer (an outage is seconds, not a blip).
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      await redis.restart();
    }
    await until(async () => ((await livez(a)) === "active" ? true : undefined), "active again", 600);
    // interfaces.md: audit appends are kept while Redis is away, so a refusal is recorded.
    const r = new Redis(redis.url);
    try {
      const records: { localId: number; outcome: string }[] = [];
      for (const s of await r.keys(`${groupKeys(group).base}audit:*`))
        for (const [, f] of await r.xrange(s, "-", "+")) records.push(JSON.parse(f[1] as string) as never);
      expect(records).toContainEqual(expect.objectContaining({ localId: orderId, outcome: "refused(201)" }));
    } finally {
      r.disconnect();
    }
  }, 120_000);

  it("a takeover that cannot load the group's orders does not stay active, serving nothing, reported healthy", async () => {
    const group = "fencezombie";
    // A record the new active cannot read (damaged, or a Redis read that fails at takeover).
    const r = new Redis(redis.url);
    try {
      await r.hset(groupKeys(group).line("default").orders, "1", "{not json");
    } finally {
      r.disconnect();
    }
    const a = await daemon(group, "2000");
    // The promotion failed (logged), yet the daemon was granted the lease.
    await until(
      async () => (/role change failed/.test(a.stderr()) ? true : undefined),
      "the failed promotion in the log",
      400,
    );
    const health = await fetch(`${String(a.ready.http)}/health`);
    const body = (await health.json()) as { data: { status: string; lines: unknown[] } };
    // It has no line and no proxy port: it must not tell a load balancer it is healthy.
    expect(body.data.lines).toEqual([]);
    expect(health.status).not.toBe(200);
    // And it must not keep the group's lease: a standby could never take over.
    await until(
      async () => (a.child.exitCode !== null || (await livez(a)) !== "active" ? true : undefined),
      "the daemon whose promotion failed giving up the active role",
      200,
    );
  }, 120_000);
  it("a daemon switched to HA with live orders in its file journal never places a client's modify as a second order", async () => {
    const group = "fencemigrate";
    const stateDir = tmp("migrate");
    // The same daemon, first without HA: a client places a resting order (its file journal).
    const single = await startProcess(
      daemonArgs({
        upstream: `127.0.0.1:${String(mock.ready.port)}`,
        stateDir,
        extra: ["--log-level", "warn"],
      }),
    );
    procs.push(single);
    const c1 = await connectStoqey(Number(single.ready.proxyPort), 25, (x) => closers.push(x));
    const orderId = c1.nextId;
    const ref = `${group}-1`;
    const placed = submitted(c1, orderId);
    resting(c1, orderId, ref, 1);
    await placed;
    c1.api.disconnect();
    await single.stop("SIGTERM");
    // The order rests at TWS; the user now runs the daemon in an HA group, same state dir.
    expect(await gatewayOrders(ref)).toMatchObject([{ placeCount: 1 }]);
    let a: Proc;
    try {
      a = await daemon(group, "2000", stateDir);
    } catch (err) {
      // Refusing to start (naming the file journal with its live orders) is a safe answer.
      expect(String(err)).toMatch(/journal/);
      return;
    }
    const served = a.ready.proxyPort
      ? a.ready
      : await until(
          async () => a.readies().find((r) => r.role === "active" && r.proxyPort),
          "the active's proxy",
          600,
        );
    const c2 = await connectStoqey(Number(served.proxyPort), 25, (x) => closers.push(x));
    // The client modifies its order (same order id, new quantity).
    const answered = new Promise<void>((resolve) => {
      c2.api.on(EventName.error, (_e: Error, _code: number, id: number) => {
        if (id === orderId) resolve();
      });
      c2.api.on(EventName.orderStatus, (id: number) => {
        if (id === orderId) resolve();
      });
    });
    resting(c2, orderId, ref, 3);
    await answered;
    // Never a second order at the gateway for it.
    const orders = await gatewayOrders(ref);
    expect(
      orders.map((o) => ({ clientId: o.clientId, orderId: o.orderId })),
      JSON.stringify(orders),
    ).toHaveLength(1);
  }, 120_000);
  it("an optional second line whose gateway is down does not keep the primary line's proxy shut", async () => {
    const group = "fencespare";
    // A port nobody listens on: the spare line's gateway is down.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const dead = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const p = await startProcess(
      daemonArgs({
        stateDir: tmp("spare"),
        redis: redis.url,
        extra: ["--ha-group", group, "--ha-lease-ms", "2000", "--log-level", "warn"],
      }),
      {
        SWITCHBOARD_LINES__0__NAME: "main",
        SWITCHBOARD_LINES__0__UPSTREAM: `127.0.0.1:${String(mock.ready.port)}`,
        SWITCHBOARD_LINES__1__NAME: "spare",
        SWITCHBOARD_LINES__1__UPSTREAM: `127.0.0.1:${String(dead)}`,
        SWITCHBOARD_LINES__1__REQUIRED: "false",
        // Every line but the first has a proxy port of its own (interfaces.md "Several lines").
        SWITCHBOARD_LINES__1__PROXY_PORT: "0",
      },
    );
    procs.push(p);
    expect(p.ready).toMatchObject({ role: "active" });
    // Without HA the proxy serves the primary line whatever an optional line does; an active
    // of an HA group must open it too (hang guard only).
    const served = await until(
      async () => p.readies().find((r) => r.role === "active" && typeof r.proxyPort === "number"),
      "the primary line's proxy port",
      300,
      100,
    );
    const c = await connectStoqey(Number(served.proxyPort), 27, (x) => closers.push(x));
    expect(c.nextId).toBeGreaterThan(0);
  }, 120_000);
});
