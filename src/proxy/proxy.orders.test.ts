/**
 * Orders through the proxy, driven by our codec over raw sockets against the real mock over
 * TCP: one FIFO lane per owner, order rights for the newest socket of a client id, orders only
 * while the line is ready and only under the connection they were accepted for, outcome
 * unknown and reconciliation. Every order has a unique orderRef; "placed once" means at most
 * one gateway order per orderRef.
 */
import { resolveRules } from "../pacing/rules.js";
import { afterEach, describe, expect, it } from "vitest";
import { RawClient } from "../mock/raw-client.test-util.js";
import { toFields } from "../protocol/codec.js";
import { CANCEL_ORDER, PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import type { AuditRecord, OrderAudit } from "../switch/order-journal.js";
import { resolveSwitchOptions, type SwitchOptions } from "../switch/options.js";
import { AAPL, contractReq, type ProxyStack, startProxyStack, until, V } from "./test-stack.test-util.js";

const cleanup: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c.close();
});

class MemoryAudit implements OrderAudit {
  readonly records: AuditRecord[] = [];
  append(r: AuditRecord): void {
    this.records.push(r);
  }
}

async function stack(sw?: SwitchOptions): Promise<ProxyStack> {
  const s = await startProxyStack(sw === undefined ? {} : { switch: sw });
  cleanup.push(s);
  return s;
}

async function client(port: number, clientId: number): Promise<RawClient> {
  const c = await RawClient.connect(port, { clientId });
  cleanup.push(c);
  return c;
}

/** A resting buy (far below the market): it stays Submitted until cancelled. */
const resting = (orderId: number, orderRef: string, totalQuantity = "1") =>
  toFields(
    PLACE_ORDER,
    placeOrder({
      orderId,
      contract: AAPL,
      action: "BUY",
      totalQuantity,
      orderType: "LMT",
      lmtPrice: 1,
      orderRef,
    }),
    V,
  );
const cancel = (orderId: number) => toFields(CANCEL_ORDER, { orderId, manualOrderCancelTime: "" }, V);

const status = (orderId: number, text?: string) => (f: string[]) =>
  f[0] === "3" && f[1] === String(orderId) && (text === undefined || f[2] === text);
const err = (orderId: number, code: number) => (f: string[]) =>
  f[0] === "4" && f[2] === String(orderId) && f[3] === String(code);

const gatewayOrders = (s: ProxyStack, ref: string) =>
  s.mock.snapshot().orders.filter((o) => o.orderRef === ref);

/** Fill the line's 1 s message window so the next messages wait in the pacer. */
async function fillWindow(s: ProxyStack, c: RawClient): Promise<void> {
  // Distinct requests: identical ones would share one upstream request.
  for (let reqId = 1; reqId <= 60; reqId++)
    c.sendFields(contractReq(reqId, { ...AAPL, tradingClass: `T${reqId}` }));
  await until(() => s.pacer.snapshot().queued > 0, "requests waiting in the pacer");
}

describe("one order lane per owner", () => {
  it("a cancel never overtakes its order: place + cancel under a full window ends Cancelled, one gateway order", async () => {
    const s = await stack();
    const c = await client(s.port, 7);
    await fillWindow(s, c);
    c.sendFields(resting(1, "lane-1"));
    c.sendFields(cancel(1));
    await c.waitFor(status(1, "Cancelled"), 10_000);
    expect(c.errors(135)).toEqual([]);
    const orders = gatewayOrders(s, "lane-1");
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ status: "Cancelled", placeCount: 1 });
  });
});

describe("order rights follow the newest socket of a client id", () => {
  it("a reconnect over a half-open socket re-sending its order id modifies it; the old socket is refused", async () => {
    const s = await stack();
    const old = await client(s.port, 9);
    old.sendFields(resting(1, "half-open-1"));
    await old.waitFor(status(1, "Submitted"));

    // The client reconnects while its old socket is still open (half-open at the proxy).
    const fresh = await client(s.port, 9);
    fresh.sendFields(resting(1, "half-open-1", "3"));
    await until(() => gatewayOrders(s, "half-open-1")[0]?.modifyCount === 1, "the modify at the gateway");
    expect(gatewayOrders(s, "half-open-1")).toHaveLength(1);
    expect(gatewayOrders(s, "half-open-1")[0]?.placeCount).toBe(1);

    // The old socket lost its order rights: 201 for a new order, 399 for a modify or cancel.
    old.sendFields(resting(2, "half-open-2"));
    await old.waitFor(err(2, 201));
    old.sendFields(cancel(1));
    await old.waitFor(err(1, 399));
    old.sendFields(resting(1, "half-open-1", "5"));
    await until(() => old.errors(399).length === 2, "a second 399");
    // After each 399 the order's last known status follows, so the client keeps it alive.
    expect(old.messages.filter(status(1)).length).toBeGreaterThanOrEqual(3);
    expect(gatewayOrders(s, "half-open-2")).toEqual([]);
    expect(gatewayOrders(s, "half-open-1")[0]).toMatchObject({ status: "Submitted", modifyCount: 1 });

    // Rights never pass back: when the newest closes, the old socket is still refused.
    await fresh.close();
    old.sendFields(cancel(1));
    await until(() => old.errors(399).length === 3, "a third 399");
    expect(gatewayOrders(s, "half-open-1")[0]?.status).toBe("Submitted");

    // The next socket with that id gets the rights (and the order).
    const next = await client(s.port, 9);
    next.sendFields(cancel(1));
    await next.waitFor(status(1, "Cancelled"));
    expect(gatewayOrders(s, "half-open-1")).toHaveLength(1);
  });
});

describe("order messages only while the line is ready", () => {
  it("a cancel during 1100 gets 399 and the order's status; the order stays alive", async () => {
    const s = await stack();
    const c = await client(s.port, 11);
    c.sendFields(resting(1, "during-1100"));
    await c.waitFor(status(1, "Submitted"));
    s.mock.injectError({ code: 1100 });
    await until(() => s.line.state === "degraded", "the line degraded by 1100");
    const before = c.messages.filter(status(1)).length;
    c.sendFields(cancel(1));
    const warning = await c.waitFor(err(1, 399));
    expect(warning[4]).toMatch(/not ready/);
    await until(() => c.messages.filter(status(1)).length > before, "the last known status after the 399");
    expect(c.messages.filter(status(1)).at(-1)?.[2]).toBe("Submitted");
    expect(c.errors(201)).toEqual([]);
    expect(gatewayOrders(s, "during-1100")[0]?.status).toBe("Submitted");
  });

  it("an order accepted just before a drop is never written later, on the next connection", async () => {
    const s = await stack();
    const c = await client(s.port, 12);
    await fillWindow(s, c);
    c.sendFields(resting(1, "before-drop"));
    await until(() => s.sw.snapshot().ordersPlaced === 1, "the order accepted by the switch");
    const generation = s.line.generation;
    // The order waits its turn in the pacer; the connection goes now, and comes back at once.
    s.mock.drop();
    await until(() => s.line.generation > generation && s.line.state === "ready", "the line back");
    await c.waitFor(err(1, 201), 10_000);
    await until(() => s.pacer.snapshot().queued === 0, "the pacer idle", 15_000);
    expect(gatewayOrders(s, "before-drop")).toEqual([]);
  });

  it("an order written into a socket that dies unacknowledged gets 399 'outcome unknown', then is found open", async () => {
    const s = await stack();
    const c = await client(s.port, 13);
    // The gateway places the order at once, but its answers are late: the socket dies first.
    s.mock.latency(300);
    c.sendFields(resting(1, "unknown-open"));
    await until(() => gatewayOrders(s, "unknown-open").length === 1, "the order at the gateway");
    const reconciled = s.sw.orderLane().reconciliations;
    s.mock.drop();
    const unknown = await c.waitFor(err(1, 399), 10_000);
    expect(unknown[4]).toMatch(/outcome unknown/);
    await until(() => s.sw.orderLane().reconciliations > reconciled, "a reconciliation", 15_000);
    s.mock.latency(0);
    await c.waitFor(status(1, "Submitted"));
    expect(c.errors(201)).toEqual([]);
    // Reconciled: it is live and under this client's control again; never placed twice.
    c.sendFields(cancel(1));
    await c.waitFor(status(1, "Cancelled"));
    expect(gatewayOrders(s, "unknown-open")).toHaveLength(1);
    expect(gatewayOrders(s, "unknown-open")[0]?.placeCount).toBe(1);
  });

  it("an order whose outcome is unknown ends as the gateway has it: live, or 201 when it never arrived", async () => {
    const s = await stack();
    const c = await client(s.port, 14);
    // The gateway reads but answers nothing; the socket dies during the stall.
    s.mock.stall(400);
    c.sendFields(resting(1, "unknown-stall"));
    await until(() => s.sw.orderLane().pending === 0, "the order written");
    const reconciled = s.sw.orderLane().reconciliations;
    s.mock.drop();
    const unknown = await c.waitFor(err(1, 399), 10_000);
    expect(unknown[4]).toMatch(/outcome unknown/);
    await until(() => s.sw.orderLane().reconciliations > reconciled, "a reconciliation", 15_000);
    // Whichever way the gateway dealt with what it read, the client ends up with its view.
    const atGateway = gatewayOrders(s, "unknown-stall");
    expect(atGateway.length).toBeLessThanOrEqual(1);
    if (atGateway.length === 1) {
      await c.waitFor(status(1, "Submitted"));
      expect(c.errors(201)).toEqual([]);
    } else {
      // Found nowhere: it was never placed, and the client hears 201 for it.
      const rejected = await c.waitFor(err(1, 201));
      expect(rejected[4]).toMatch(/never placed/);
      // Sent again, it is placed once.
      c.sendFields(resting(1, "unknown-stall"));
      await c.waitFor(status(1, "Submitted"));
      expect(gatewayOrders(s, "unknown-stall")).toHaveLength(1);
    }
  });
});

describe("a modify or cancel written into a socket that dies unanswered", () => {
  it("a cancel gets 399 'outcome unknown' and an unknown audit line, then the order's real status", async () => {
    const audit = new MemoryAudit();
    const s = await stack({ audit });
    const c = await client(s.port, 15);
    c.sendFields(resting(1, "unknown-cancel"));
    await c.waitFor(status(1, "Submitted"));
    // The gateway cancels at once, but its answers are late: the socket dies first.
    s.mock.latency(300);
    c.sendFields(cancel(1));
    await until(
      () => gatewayOrders(s, "unknown-cancel")[0]?.status === "Cancelled",
      "the cancel at the gateway",
    );
    const reconciled = s.sw.orderLane().reconciliations;
    s.mock.drop();
    const unknown = await c.waitFor(err(1, 399), 10_000);
    expect(unknown[4]).toMatch(/outcome unknown/);
    expect(audit.records).toContainEqual(
      expect.objectContaining({ kind: "cancel", outcome: "unknown", localId: 1 }),
    );
    const after = c.messages.indexOf(unknown);
    s.mock.latency(0);
    await until(() => s.sw.orderLane().reconciliations > reconciled, "a reconciliation", 15_000);
    // Reconciled: the owner hears how it really ended.
    await c.waitFor((f) => c.messages.indexOf(f) > after && status(1, "Cancelled")(f));
    expect(c.errors(201)).toEqual([]);
    expect(gatewayOrders(s, "unknown-cancel")).toHaveLength(1);
  });

  it("a modify gets 399 'outcome unknown' and an unknown audit line, then the order as TWS has it", async () => {
    const audit = new MemoryAudit();
    const s = await stack({ audit });
    const c = await client(s.port, 16);
    c.sendFields(resting(1, "unknown-modify", "1"));
    await c.waitFor(status(1, "Submitted"));
    s.mock.latency(300);
    c.sendFields(resting(1, "unknown-modify", "3"));
    await until(() => gatewayOrders(s, "unknown-modify")[0]?.modifyCount === 1, "the modify at the gateway");
    const reconciled = s.sw.orderLane().reconciliations;
    s.mock.drop();
    const unknown = await c.waitFor(err(1, 399), 10_000);
    expect(unknown[4]).toMatch(/outcome unknown/);
    expect(audit.records).toContainEqual(
      expect.objectContaining({ kind: "modify", outcome: "unknown", localId: 1 }),
    );
    const after = c.messages.indexOf(unknown);
    s.mock.latency(0);
    await until(() => s.sw.orderLane().reconciliations > reconciled, "a reconciliation", 15_000);
    // The open order as the gateway has it (3 shares), then its status.
    await c.waitFor((f) => c.messages.indexOf(f) > after && f[0] === "5" && f[1] === "1");
    await c.waitFor((f) => c.messages.indexOf(f) > after && status(1, "Submitted")(f));
    expect(c.errors(201)).toEqual([]);
    expect(gatewayOrders(s, "unknown-modify")).toMatchObject([{ placeCount: 1, modifyCount: 1 }]);
  });
});

describe("reconciliation consults executions", () => {
  it("an order that filled while its connection was down ends Filled, found by its executions", async () => {
    const s = await stack();
    const c = await client(s.port, 17);
    const market = (orderId: number) =>
      toFields(
        PLACE_ORDER,
        placeOrder({
          orderId,
          contract: AAPL,
          action: "BUY",
          totalQuantity: "1",
          orderType: "MKT",
          // The app gives every order of one strategy the same ref: completed orders cannot
          // tell them apart, the executions (client id, order id) can.
          orderRef: "fills-while-down",
        }),
        V,
      );
    c.sendFields(market(1));
    await c.waitFor(status(1, "Filled"));
    // The gateway fills the second at once, but its answers are late: the socket dies first.
    s.mock.latency(300);
    c.sendFields(market(2));
    await until(
      () => gatewayOrders(s, "fills-while-down").filter((o) => o.status === "Filled").length === 2,
      "the second fill at the gateway",
    );
    const reconciled = s.sw.orderLane().reconciliations;
    s.mock.drop();
    const unknown = await c.waitFor(err(2, 399), 10_000);
    expect(unknown[4]).toMatch(/outcome unknown/);
    const after = c.messages.indexOf(unknown);
    s.mock.latency(0);
    await until(() => s.sw.orderLane().reconciliations > reconciled, "a reconciliation", 15_000);
    const filled = await c.waitFor((f) => c.messages.indexOf(f) > after && status(2, "Filled")(f));
    expect(filled[3]).toBe("1");
    expect(c.errors(201)).toEqual([]);
    expect(s.sw.liveOrders()).toEqual([]);
    expect(gatewayOrders(s, "fills-while-down").map((o) => o.placeCount)).toEqual([1, 1]);
  });
});

describe("sockets sharing a virtual client id share its order identity", () => {
  it("a fill reaches every open socket of the owner: status, execution and commission report", async () => {
    const s = await stack();
    const old = await client(s.port, 21);
    const fresh = await client(s.port, 21);
    fresh.sendFields(
      toFields(
        PLACE_ORDER,
        placeOrder({
          orderId: 1,
          contract: AAPL,
          action: "BUY",
          totalQuantity: "1",
          orderType: "MKT",
          orderRef: "shared-fill",
        }),
        V,
      ),
    );
    for (const c of [fresh, old]) {
      await c.waitFor(status(1, "Filled"));
      // EXECUTION_DATA of a live fill (request id -1) under the owner's order id …
      const execution = await c.waitFor((f) => f[0] === "11" && f[1] === "-1" && f[2] === "1");
      // … then its commission report, by execId.
      await c.waitFor((f) => f[0] === "59" && f[2] === execution[14]);
    }
    expect(gatewayOrders(s, "shared-fill")).toMatchObject([{ placeCount: 1, status: "Filled" }]);
  });
});

describe("every refusal is audited", () => {
  it("a cancel of an unknown order (135) and an order with an unknown parent (201) each get an audit line", async () => {
    const audit = new MemoryAudit();
    const s = await stack({ audit });
    const c = await client(s.port, 22);
    c.sendFields(cancel(7));
    await c.waitFor(err(7, 135));
    c.sendFields(
      toFields(
        PLACE_ORDER,
        placeOrder({
          orderId: 8,
          contract: AAPL,
          action: "SELL",
          totalQuantity: "1",
          orderType: "LMT",
          lmtPrice: 1000,
          parentId: 5,
          orderRef: "orphan-child",
        }),
        V,
      ),
    );
    await c.waitFor(err(8, 201));
    expect(audit.records).toContainEqual(
      expect.objectContaining({ owner: "proxy:22", localId: 7, kind: "cancel", outcome: "refused(135)" }),
    );
    expect(audit.records).toContainEqual(
      expect.objectContaining({ owner: "proxy:22", localId: 8, kind: "place", outcome: "refused(201)" }),
    );
    expect(gatewayOrders(s, "orphan-child")).toEqual([]);
  });
});

describe("the order lane is bounded", () => {
  it("past its bound of waiting messages of one owner: 399 for a cancel, 201 for a new order, 'order lane full', audited", async () => {
    // The default bound is 1,000; a smaller one keeps the lane full for certain while the
    // pacer's window is (sending 1,000 messages on a busy machine can outlast it). A slow
    // message rate keeps the window full for ~12 s, however slow the machine is meanwhile.
    expect(resolveSwitchOptions().maxOrderLane).toBe(1_000);
    const audit = new MemoryAudit();
    const s = await startProxyStack({
      switch: { audit, maxOrderLane: 50 },
      pacer: { rules: resolveRules({ override: { rules: { messageRate: { limit: 5 } } } }) },
    });
    cleanup.push(s);
    const c = await client(s.port, 23);
    c.sendFields(resting(1, "lane-bound"));
    await c.waitFor(status(1, "Submitted"), 20_000);
    // The window full: the lane's head waits in the pacer, everything behind it in the lane.
    await fillWindow(s, c);
    for (let i = 0; i < 50; i++) c.sendFields(cancel(1));
    await until(() => s.sw.orderLane().pending === 50, "50 cancels in the lane");
    c.sendFields(cancel(1));
    const full = await c.waitFor(err(1, 399), 20_000);
    expect(full[4]).toMatch(/order lane full/);
    c.sendFields(resting(2, "lane-bound-2"));
    const refused = await c.waitFor(err(2, 201), 20_000);
    expect(refused[4]).toMatch(/order lane full/);
    expect(s.sw.orderLane().pending).toBe(50);
    expect(audit.records.filter((r) => r.outcome === "refused(399)" && r.kind === "cancel")).toHaveLength(1);
    expect(audit.records.filter((r) => r.outcome === "refused(201)" && r.localId === 2)).toHaveLength(1);
    expect(gatewayOrders(s, "lane-bound-2")).toEqual([]);
  });
});
