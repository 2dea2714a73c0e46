/**
 * Standby through Redis with real processes: a persistent redis-server (appendonly,
 * appendfsync always), `switchboard mock-gateway`, two `switchboard start` daemons of one HA
 * group, and @stoqey/ib as the client. Outcomes only; every wait is a bounded hang guard.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventName } from "@stoqey/ib";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AAPL, connectStoqey, type StoqeyClient } from "../mock/stoqey-client.test-util.js";
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
  run,
  startProcess,
  until,
  daemonArgs,
  startMockGateway,
} from "./test-support/process.test-util.js";
import { openSse } from "./test-support/sse.test-util.js";

const LEASE_MS = "2000";
const procs: Proc[] = [];
const closers: { close(): Promise<void> }[] = [];
const dirs: string[] = [];
let redis: RedisServer;
let mock: Proc;
let control: string;
let groupSeq = 0;

const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `sb-ha-${name}-`));
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
  for (const p of procs.reverse()) {
    p.child.kill("SIGCONT");
    await p.stop("SIGKILL");
  }
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function daemon(group: string, stateDir = tmp("state")): Promise<Proc & { stateDir: string }> {
  const p = await startProcess(
    haStartArgs({
      upstream: `127.0.0.1:${String(mock.ready.port)}`,
      stateDir,
      redis: redis.url,
      group,
      leaseMs: LEASE_MS,
    }),
  );
  procs.push(p);
  return Object.assign(p, { stateDir });
}

const gatewayOrders = (orderRef: string) => sharedGatewayOrders(control, orderRef);

/** The second READY line, printed when a standby has taken over and serves. */
const promoted = (p: Proc) =>
  until(
    async () => p.readies().find((r, i) => i > 0 && r.role === "active"),
    "the standby's second READY",
    600,
  );

async function client(port: number, clientId: number): Promise<StoqeyClient> {
  return connectStoqey(port, clientId, (c) => closers.push(c));
}

const ticks = (c: StoqeyClient, tickerId: number) =>
  new Promise<void>((resolve) =>
    c.api.on(EventName.tickPrice, (id: number) => {
      if (id === tickerId) resolve();
    }),
  );

describe("standby through Redis", () => {
  it("refuses a Redis without persistence: exit 2 naming appendonly", async () => {
    const plain = await startRedis();
    try {
      const r = await run(
        daemonArgs({
          upstream: "mock",
          stateDir: tmp("plain"),
          redis: plain.url,
          extra: ["--ha-group", "plain"],
        }),
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/appendonly/);
      expect(r.stdout).not.toMatch(/READY/);
    } finally {
      await plain.stop();
    }
  });

  it("kill -9 of the active: the standby takes over; the client's order is modified there (one gateway order) and its data ticks", async () => {
    const group = `kill${groupSeq++}`;
    const a = await daemon(group);
    expect(a.ready).toMatchObject({ role: "active" });
    const b = await daemon(group);
    expect(b.ready).toMatchObject({ role: "standby", proxyPort: null });
    // A standby: /health 503 standby, /livez 200 on both.
    const health = await fetch(`${String(b.ready.http)}/health`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { data: { status: string }; error: { code: string } };
    expect(body.error.code).toBe("standby");
    expect(body.data.status).toBe("standby");
    for (const p of [a, b]) expect((await fetch(`${String(p.ready.http)}/livez`)).status).toBe(200);

    const c1 = await client(Number(a.ready.proxyPort), 7);
    const orderId = c1.nextId;
    const placed = submitted(c1, orderId);
    resting(c1, orderId, `${group}-1`, 1);
    await placed;
    const ticked = ticks(c1, 50);
    c1.api.reqMktData(50, AAPL, "", false, false);
    await ticked;

    await a.stop("SIGKILL");
    const ready = await promoted(b);
    expect(ready.proxyPort).toEqual(expect.any(Number));
    expect(await livez(b)).toBe("active");
    // SSE ha.role (replayed from the ring) and the role metric say so too.
    const sse = await openSse(`${String(b.ready.http)}/events?types=ha.role`, { "last-event-id": "0" });
    try {
      await sse.waitFor((f) => f.data.role === "active" && f.data.previous === "standby", "ha.role active");
    } finally {
      sse.close();
    }
    const metrics = await (await fetch(`${String(b.ready.http)}/metrics`)).text();
    expect(metrics).toContain(`switchboard_ha_role{group="${group}",role="active"} 1`);

    // The client reconnects (to where the floating address now points) with its client id.
    c1.api.disconnect();
    const c2 = await client(Number(ready.proxyPort), 7);
    expect(c2.nextId).toBeGreaterThan(orderId);
    const ticked2 = ticks(c2, 51);
    c2.api.reqMktData(51, AAPL, "", false, false);
    await ticked2;
    await until(
      async () => {
        resting(c2, orderId, `${group}-1`, 3);
        await new Promise((r) => setTimeout(r, 200));
        const [o] = await gatewayOrders(`${group}-1`);
        return o && o.modifyCount >= 1 ? true : undefined;
      },
      "the modify at the gateway",
      100,
    );
    const orders = await gatewayOrders(`${group}-1`);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ placeCount: 1 });
    expect(c2.errors.filter((e) => e.code === 201)).toEqual([]);

    // The old active, restarted, stands by.
    const again = await daemon(group, a.stateDir);
    expect(again.ready).toMatchObject({ role: "standby" });
    expect(await livez(b)).toBe("active");
  }, 120_000);

  it("SIGSTOP of the active past its lease, then SIGCONT: it writes no order, records its refusal, and steps down", async () => {
    const group = `stop${groupSeq++}`;
    const a = await daemon(group);
    expect(a.ready).toMatchObject({ role: "active" });
    const b = await daemon(group);
    const c = await client(Number(a.ready.proxyPort), 9);
    const first = c.nextId;
    const placed = submitted(c, first);
    resting(c, first, `${group}-1`, 1);
    await placed;

    a.child.kill("SIGSTOP");
    // The standby takes the lease (its line then waits for the frozen daemon's client id at TWS).
    await until(async () => ((await livez(b)) === "active" ? true : undefined), "the standby active", 600);
    // An order sent to the frozen daemon waits in its socket.
    const refusal = new Promise<void>((resolve) =>
      c.api.on(EventName.error, (_e: Error, code: number, id: number) => {
        if (id === first + 1 && code === 201) resolve();
      }),
    );
    resting(c, first + 1, `${group}-2`, 1);
    await new Promise((r) => setTimeout(r, 200));
    a.child.kill("SIGCONT");

    await refusal;
    await until(
      async () => ((await livez(a)) === "standby" ? true : undefined),
      "the old active standing by",
      400,
    );
    // Once the old socket is gone at TWS the new active connects, reconciles and serves.
    await promoted(b);
    expect(await gatewayOrders(`${group}-2`)).toEqual([]);
    expect(await gatewayOrders(`${group}-1`)).toMatchObject([{ placeCount: 1 }]);

    // The refusal is in the old active's own audit stream (audit appends are not fenced).
    const r = new Redis(redis.url);
    try {
      const streams = await r.keys(`switchboard:ha:${group}:audit:*`);
      const records: { localId: number; outcome: string }[] = [];
      for (const s of streams)
        for (const [, f] of await r.xrange(s, "-", "+")) records.push(JSON.parse(f[1] as string) as never);
      expect(records).toContainEqual(
        expect.objectContaining({ localId: first + 1, outcome: "refused(201)" }),
      );
    } finally {
      r.disconnect();
    }
  }, 120_000);

  it("Redis restarted: one active at every look, and the group serves again; other lines are refused", async () => {
    const group = `restart${groupSeq++}`;
    const a = await daemon(group);
    const b = await daemon(group);
    // A daemon of the group with other lines is refused: exit 2 naming the group.
    const other = await run(
      daemonArgs({
        upstream: "mock",
        stateDir: tmp("other"),
        redis: redis.url,
        extra: ["--ha-group", group],
      }),
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`HA group "${group}"`);
    await redis.restart();
    for (let i = 0; i < 40; i++) {
      const roles = await Promise.all([livez(a), livez(b)]);
      expect(roles.filter((x) => x === "active").length).toBeLessThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 100));
    }
    await until(
      async () => {
        const roles = await Promise.all([livez(a), livez(b)]);
        return roles.filter((x) => x === "active").length === 1 ? true : undefined;
      },
      "one active again",
      400,
    );
  }, 120_000);
  it("Redis unreachable: order messages get 201 at once, the active steps down, and comes back once Redis does", async () => {
    const group = `away${groupSeq++}`;
    const a = await daemon(group);
    expect(a.ready).toMatchObject({ role: "active" });
    const c = await client(Number(a.ready.proxyPort), 11);
    const orderId = c.nextId;
    const refused = new Promise<string>((resolve) =>
      c.api.on(EventName.error, (e: Error, code: number, id: number) => {
        if (id === orderId && code === 201) resolve(e.message);
      }),
    );
    await redis.stop();
    try {
      resting(c, orderId, `${group}-1`, 1);
      expect(await refused).toMatch(/journal could not be written|not the active one|not renewed in time/);
      expect(await gatewayOrders(`${group}-1`)).toEqual([]);
      await until(
        async () => ((await livez(a)) === "standby" ? true : undefined),
        "the active stepping down",
        400,
      );
    } finally {
      await redis.restart();
    }
    await until(async () => ((await livez(a)) === "active" ? true : undefined), "active again", 600);
    expect(await gatewayOrders(`${group}-1`)).toEqual([]);
  }, 120_000);
  it("a proxy port still held at takeover is retried (proxy_port_busy), never an exit", async () => {
    const group = `busy${groupSeq++}`;
    // Something (an old active on this host, not yet gone) holds the proxy port.
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", () => r()));
    const port = (holder.address() as AddressInfo).port;
    const p = await startProcess(
      daemonArgs({
        proxyPort: port,
        upstream: `127.0.0.1:${String(mock.ready.port)}`,
        stateDir: tmp("busy"),
        redis: redis.url,
        extra: ["--ha-group", group, "--ha-lease-ms", LEASE_MS],
      }),
    );
    procs.push(p);
    expect(p.ready).toMatchObject({ role: "active", proxyPort: null });
    const sse = await openSse(`${String(p.ready.http)}/events?types=ha.proxy_port_busy`, {
      "last-event-id": "0",
    });
    try {
      await sse.waitFor(
        (f) => f.data.reason === "proxy_port_busy" && f.data.port === port,
        "proxy_port_busy",
      );
    } finally {
      sse.close();
    }
    await new Promise<void>((r) => holder.close(() => r()));
    const served = await until(
      async () => p.readies().find((r, i) => i > 0 && r.role === "active"),
      "READY once the port is free",
      600,
    );
    expect(served.proxyPort).toBe(port);
    expect(p.child.exitCode).toBeNull();
  }, 120_000);
});
