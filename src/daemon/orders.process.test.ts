/**
 * Orders across a daemon crash: `switchboard start` is killed with SIGKILL while an order is
 * live and started again at once over the same state dir, against `switchboard mock-gateway`
 * holding a departed client's id longer than the restart takes (as TWS does), so the new
 * connection meets 326. The line waits for its id, never switches, and a modify afterwards is
 * a modify of the one gateway order. Orders go through the proxy with our codec over TCP.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RawClient } from "../mock/raw-client.test-util.js";
import type { MockOrderView } from "../mock/state.js";
import { toFields } from "../protocol/codec.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { AAPL, V } from "../switch/test-harness.test-util.js";
import {
  type Proc,
  run,
  startProcess,
  until,
  daemonArgs,
  startMockGateway,
} from "./test-support/process.test-util.js";

const procs: Proc[] = [];
const clients: RawClient[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of clients) await c.close();
  for (const p of procs.reverse()) await p.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const resting = (totalQuantity: string) =>
  toFields(
    PLACE_ORDER,
    placeOrder({
      orderId: 1,
      contract: AAPL,
      action: "BUY",
      totalQuantity,
      orderType: "LMT",
      lmtPrice: 1,
      orderRef: "sigkill-1",
    }),
    V,
  );

type Health = { data: { lines: { state: string; clientId: number | null }[] } };

describe("a daemon killed with a live order", () => {
  it("comes back on the same client id (waiting out 326), and a modify is one gateway order", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "sb-orders-daemon-"));
    dirs.push(stateDir);
    const mock = await startMockGateway(["--id-hold-ms", "10000"]);
    procs.push(mock);
    const control = `http://127.0.0.1:${String(mock.ready.controlPort)}`;
    const gatewayOrders = async () =>
      (
        (await (await fetch(`${control}/state`)).json()) as { data: { orders: MockOrderView[] } }
      ).data.orders.filter((o) => o.orderRef === "sigkill-1");
    const start = async () => {
      const p = await startProcess(
        daemonArgs({ upstream: `127.0.0.1:${String(mock.ready.port)}`, stateDir }),
      );
      procs.push(p);
      return p;
    };
    const line = async (p: Proc) =>
      ((await (await fetch(`${String(p.ready.http)}/health`)).json()) as Health).data.lines[0];

    const first = await start();
    await until(
      async () => ((await line(first))?.state === "ready" ? true : undefined),
      "the first line ready",
    );
    const clientId = (await line(first))?.clientId;
    const c1 = await RawClient.connect(Number(first.ready.proxyPort), { clientId: 21 });
    clients.push(c1);
    c1.sendFields(resting("1"));
    await c1.waitFor((f) => f[0] === "3" && f[1] === "1" && f[2] === "Submitted", 10_000);

    // The audit is group-committed within 10 ms: let that commit happen before the kill.
    const auditPath = join(stateDir, "orders-default.audit.jsonl");
    await until(
      async () => (readFileSync(auditPath, "utf8").includes('"outcome":"written"') ? true : undefined),
      "the audit line of the order",
    );
    await first.stop("SIGKILL");
    const second = await start();
    // The mock still holds the old socket's id: the line waits for it instead of switching.
    await until(
      async () => ((await line(second))?.state === "ready" ? true : undefined),
      "the line back",
      800,
    );
    expect((await line(second))?.clientId).toBe(clientId);
    // It met 326 on the way (the gateway refused the held id at least once) and orphaned nothing.
    const state = (await (await fetch(`${control}/state`)).json()) as {
      data: { counters: { refused: number } };
    };
    expect(state.data.counters.refused).toBeGreaterThanOrEqual(1);
    expect(second.stderr()).not.toMatch(/orphaned/);

    const c2 = await RawClient.connect(Number(second.ready.proxyPort), { clientId: 21 });
    clients.push(c2);
    // Order messages are accepted once the reconciliation is done; retry past a refusal.
    await until(
      async () => {
        c2.sendFields(resting("3"));
        await new Promise((r) => setTimeout(r, 100));
        const [o] = await gatewayOrders();
        return o && o.modifyCount >= 1 ? true : undefined;
      },
      "the modify at the gateway",
      100,
    );
    const orders = await gatewayOrders();
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ placeCount: 1, status: "Submitted" });
    expect(c2.errors(201)).toEqual([]);
    const audit = readFileSync(auditPath, "utf8");
    expect(audit).toMatch(/"kind":"place".*"outcome":"written"/);
    expect(audit).toMatch(/"kind":"modify".*"outcome":"written"/);
  }, 90_000);
});

describe("a journal of a line that is not in the config", () => {
  it("is a start error while it holds live orders, naming the journal", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "sb-orders-stray-"));
    dirs.push(stateDir);
    const record = (r: object) => `${JSON.stringify(r)}\n`;
    writeFileSync(
      join(stateDir, "orders-paper.journal"),
      record({
        k: "order",
        owner: "proxy:1",
        localId: 1,
        upstreamId: 7,
        upstreamClientId: 900,
        orderRef: "x",
      }) + record({ k: "written", upstreamId: 7 }),
    );
    const r = await run(daemonArgs({ upstream: "mock", stateDir }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/orders-paper\.journal holds 1 live order/);
  });
});

describe("a forced client-id switch", () => {
  it("moves the line to another id and reports its live orders as orphaned", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "sb-orders-switch-"));
    dirs.push(stateDir);
    const daemon = await startProcess(daemonArgs({ upstream: "mock", stateDir }));
    procs.push(daemon);
    const http = String(daemon.ready.http);
    const line = async () => ((await (await fetch(`${http}/health`)).json()) as Health).data.lines[0];
    await until(async () => ((await line())?.state === "ready" ? true : undefined), "the line ready");
    const before = (await line())?.clientId;
    const c = await RawClient.connect(Number(daemon.ready.proxyPort), { clientId: 3 });
    clients.push(c);
    c.sendFields(resting("1"));
    const status = await c.waitFor((f) => f[0] === "3" && f[1] === "1" && f[2] === "Submitted", 10_000);

    const r = await run(["lines", "switch-client-id", "default", "--url", http, "--json"]);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { data: { clientId: number; permIds: number[] } };
    expect(body.data.clientId).toBe(before);
    expect(body.data.permIds).toEqual([Number(status[6])]);
    await until(
      async () => {
        const l = await line();
        return l?.state === "ready" && l.clientId !== before ? true : undefined;
      },
      "the line on another id",
      400,
    );
    // The order stays under the old id at TWS: a modify from this line is refused, never a new order.
    c.sendFields(resting("2"));
    await c.waitFor((f) => f[0] === "4" && f[2] === "1" && f[3] === "399", 10_000);
  }, 90_000);
});
