/**
 * Standby through Redis with two lines in one HA group, with real processes: a persistent
 * redis-server, two `switchboard mock-gateway` processes (one per line), two `switchboard
 * start` daemons of one group, and @stoqey/ib clients on each line's proxy port. kill -9 of
 * the active: both lines come back on the standby, each with its own client id at its
 * gateway, and each client modifies its own order there. Outcomes only; every wait is a
 * bounded hang guard.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MockOrderView } from "../mock/state.js";
import { connectStoqey } from "../mock/stoqey-client.test-util.js";
import { type RedisServer, startRedis } from "../registry/test-support/redis-server.test-util.js";
import { resting, submitted } from "./test-support/ha.test-util.js";
import { type Proc, startProcess, until, startMockGateway } from "./test-support/process.test-util.js";

const procs: Proc[] = [];
const closers: { close(): Promise<void> }[] = [];
const dirs: string[] = [];
let redis: RedisServer;
const gateways: Record<string, Proc> = {};

const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `sb-ha-lines-${name}-`));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  redis = await startRedis({ persistent: true, dir: tmp("redis") });
  for (const name of ["one", "two"]) {
    const g = await startMockGateway();
    procs.push(g);
    gateways[name] = g;
  }
}, 60_000);

afterAll(async () => {
  for (const c of closers.reverse()) await c.close().catch(() => undefined);
  for (const p of procs.reverse()) await p.stop("SIGKILL");
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const LINES = ["one", "two"] as const;

async function daemon(group: string): Promise<Proc> {
  const dir = tmp("state");
  const path = join(dir, "switchboard.yaml");
  // JSON is YAML: the config file the daemon reads. Both daemons have the same lines.
  writeFileSync(
    path,
    JSON.stringify({
      httpPort: 0,
      proxyPort: 0,
      stateDir: dir,
      redis: redis.url,
      ha: { group, leaseMs: 2000 },
      logLevel: "warn",
      lines: LINES.map((name, i) => ({
        name,
        upstream: `127.0.0.1:${String(gateways[name]!.ready.port)}`,
        ...(i === 0 ? {} : { proxyPort: 0 }),
      })),
    }),
  );
  const p = await startProcess(["start", "--config", path]);
  procs.push(p);
  return p;
}

const gatewayState = async (name: string) =>
  (
    (await (await fetch(`http://127.0.0.1:${String(gateways[name]!.ready.controlPort)}/state`)).json()) as {
      data: { orders: MockOrderView[]; clients: { clientId: number }[] };
    }
  ).data;

/** Each line's upstream client id, as the daemon's /health reports it. */
const lineIds = async (p: Proc) => {
  const r = await fetch(`${String(p.ready.http)}/health`);
  const body = (await r.json()) as { data: { lines: { name: string; clientId: number | null }[] } };
  return Object.fromEntries(body.data.lines.map((l) => [l.name, l.clientId]));
};

describe("standby through Redis with two lines", () => {
  it("kill -9 of the active: both lines come back on the standby with their own client ids, and each client modifies its order there", async () => {
    const group = "twolines";
    const a = await daemon(group);
    expect(a.ready).toMatchObject({ role: "active" });
    const portsA = a.ready.proxyPorts as Record<string, number>;
    expect(Object.keys(portsA).sort()).toEqual([...LINES]);
    const b = await daemon(group);
    // A standby opens no proxy port for any line, and connects no line.
    expect(b.ready).toMatchObject({ role: "standby", proxyPort: null, proxyPorts: {} });
    // Its line routes say so rather than answering for a line it does not run.
    const pace = await fetch(`${String(b.ready.http)}/api/ib/pace/status?line=two`);
    expect(pace.status).toBe(503);
    expect(((await pace.json()) as { error: { code: string } }).error.code).toBe("standby");

    const idsA = await lineIds(a);
    expect(idsA.one).toEqual(expect.any(Number));
    expect(idsA.two).toEqual(expect.any(Number));
    for (const name of LINES)
      expect((await gatewayState(name)).clients.map((c) => c.clientId)).toEqual([idsA[name]]);

    // One client and one resting order on each line's proxy port.
    const orderIds: Record<string, number> = {};
    for (const [i, name] of LINES.entries()) {
      const c = await connectStoqey(portsA[name]!, 7 + i, (x) => closers.push(x));
      const id = c.nextId;
      const placed = submitted(c, id);
      resting(c, id, `${group}-${name}`, 1);
      await placed;
      orderIds[name] = id;
      c.api.disconnect();
    }

    await a.stop("SIGKILL");
    const ready = await until(
      async () => b.readies().find((r, i) => i > 0 && r.role === "active"),
      "the standby's second READY",
      600,
    );
    const portsB = ready.proxyPorts as Record<string, number>;
    expect(Object.keys(portsB).sort()).toEqual([...LINES]);

    // Each line is back at its own gateway under the client id it had on the old active.
    expect(await lineIds(b)).toEqual(idsA);
    for (const name of LINES)
      expect((await gatewayState(name)).clients.map((c) => c.clientId)).toEqual([idsA[name]]);

    // Each client reconnects to its line's port on the new active and modifies its order.
    for (const [i, name] of LINES.entries()) {
      const c = await connectStoqey(portsB[name]!, 7 + i, (x) => closers.push(x));
      const orderRef = `${group}-${name}`;
      await until(
        async () => {
          resting(c, orderIds[name]!, orderRef, 3);
          await new Promise((r) => setTimeout(r, 200));
          const o = (await gatewayState(name)).orders.find((x) => x.orderRef === orderRef);
          return o && o.modifyCount >= 1 ? true : undefined;
        },
        `the modify at gateway ${name}`,
        100,
      );
      const orders = (await gatewayState(name)).orders.filter((x) => x.orderRef === orderRef);
      expect(orders).toHaveLength(1);
      expect(orders[0]).toMatchObject({ placeCount: 1 });
      expect(c.errors.filter((e) => e.code === 201)).toEqual([]);
      // The other line's order never reached this gateway.
      const other = LINES[1 - i]!;
      expect((await gatewayState(name)).orders.filter((x) => x.orderRef === `${group}-${other}`)).toEqual([]);
    }
  }, 120_000);
});
