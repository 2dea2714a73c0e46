/**
 * The upstream fails under the downstreams: a gateway down for 3 s, an injected 1101, a
 * restart at another server version. Every downstream hears what TWS would tell it and its
 * streams come back without any action of its own; orders are never sent twice.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MockGateway } from "../mock/gateway.js";
import { RawClient } from "../mock/raw-client.test-util.js";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { contract } from "../protocol/messages/contract.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import {
  AAPL,
  contractReq,
  isErr,
  isTick,
  MSFT,
  mktData,
  type ProxyStack,
  startProxyStack,
  until,
  V,
} from "./test-stack.test-util.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

const SPY = contract({ symbol: "SPY", secType: "STK", exchange: "SMART", currency: "USD" });
const WAIT = 20_000;

const cleanup: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c.close();
});

async function streaming(s: ProxyStack): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (const [i, c] of [AAPL, MSFT, SPY].entries()) {
    const rc = await RawClient.connect(s.port, { clientId: i + 1 });
    cleanup.push(rc);
    // The same ticker id everywhere: each downstream owns its own id space.
    rc.sendFields(mktData(1, c));
    await rc.waitFor(isTick(1));
    clients.push(rc);
  }
  return clients;
}

/** Ticks arrive after message `index` of the client's log. */
async function ticksAfter(c: RawClient, index: number): Promise<void> {
  await c.waitFor((f) => c.messages.indexOf(f) > index && isTick(1)(f), WAIT);
}

describe("proxy through upstream faults", () => {
  it("after the gateway is down 3 s: 1100, then 1102, and every stream flows again", async () => {
    const s = await startProxyStack();
    cleanup.push(s);
    const clients = await streaming(s);
    const gen = s.line.generation;
    await s.mock.down(3_000);
    for (const c of clients) await c.waitFor(isErr(1100), WAIT);
    // While down: requests wait for the line; orders are refused at once, never queued.
    const c0 = clients[0] as RawClient;
    c0.sendFields(contractReq(9, AAPL));
    const order = placeOrder({
      orderId: 100,
      contract: AAPL,
      action: "BUY",
      totalQuantity: "1",
      orderType: "MKT",
    });
    c0.sendFields(toFields(PLACE_ORDER, order, V));
    await c0.waitFor((f) => isErr(201)(f) && f[2] === "100", WAIT);
    for (const c of clients) {
      const restored = await c.waitFor(isErr(1102), WAIT);
      await ticksAfter(c, c.messages.indexOf(restored));
    }
    expect(s.line.generation).toBeGreaterThan(gen);
    await c0.waitFor((f) => Number(f[0]) === IN.CONTRACT_DATA_END && f[2] === "9", WAIT);
    expect(s.mock.snapshot().orders).toEqual([]);
    expect(s.mock.snapshot().subscriptionList).toHaveLength(3);
    expect(s.proxy.snapshot().downstreams.every((d) => !d.lost)).toBe(true);
  });

  it("after an injected 1101 every downstream hears 1102 and its stream flows again", async () => {
    const s = await startProxyStack();
    cleanup.push(s);
    const clients = await streaming(s);
    s.mock.injectError({ code: 1101 });
    for (const c of clients) {
      const restored = await c.waitFor(isErr(1102), WAIT);
      // The switch re-subscribed: for the client the data was maintained, so 1101 never shows.
      expect(c.errors(1101)).toEqual([]);
      await until(() => s.mock.snapshot().subscriptionList.length === 3, "subscriptions restored upstream");
      await ticksAfter(c, c.messages.indexOf(restored));
    }
  });

  it("never sends an order twice across a reconnect", async () => {
    const s = await startProxyStack();
    cleanup.push(s);
    const c = await RawClient.connect(s.port, { clientId: 5 });
    cleanup.push(c);
    const first = await c.waitFor((f) => Number(f[0]) === IN.NEXT_VALID_ID);
    const id = Number(first[2]);
    // A resting limit order far below the market: it stays open across the drop.
    const order = placeOrder({
      orderId: id,
      contract: AAPL,
      action: "BUY",
      totalQuantity: "1",
      orderType: "LMT",
      lmtPrice: 1,
      orderRef: "resting",
    });
    c.sendFields(toFields(PLACE_ORDER, order, V));
    await c.waitFor((f) => Number(f[0]) === IN.ORDER_STATUS && f[1] === String(id), WAIT);
    s.mock.drop();
    await c.waitFor(isErr(1100), WAIT);
    await c.waitFor(isErr(1102), WAIT);
    // A second order placed at once after a drop, in flight while the socket goes.
    const mark = c.messages.length;
    c.sendFields(toFields(PLACE_ORDER, { ...order, orderId: id + 1, orderRef: "in-flight" }, V));
    s.mock.drop();
    await c.waitFor((f) => isErr(1102)(f) && c.messages.indexOf(f) >= mark, WAIT);
    await until(() => s.line.state === "ready", "line ready");
    const orders = s.mock.snapshot().orders;
    expect(orders.length).toBeGreaterThanOrEqual(1);
    for (const o of orders) expect(o.placeCount).toBe(1);
    expect(orders.filter((o) => o.orderRef === "resting")).toHaveLength(1);
    expect(orders.filter((o) => o.orderRef === "in-flight").length).toBeLessThanOrEqual(1);
  });

  it("closes every downstream with 1300 when the upstream comes back at another version", async () => {
    const s = await startProxyStack();
    cleanup.push(s);
    const clients = await streaming(s);
    const port = s.mock.port;
    await s.mock.close();
    const older = new MockGateway({ port, controlPort: null, serverVersion: 176, now: TEST_NOW });
    await older.start();
    cleanup.push(older);
    for (const c of clients) {
      await c.waitFor(isErr(1300), WAIT);
      await c.closed;
    }
    expect(s.line.serverVersion).toBe(176);
    const fresh = await RawClient.connect(s.port, { clientId: 9 });
    cleanup.push(fresh);
    expect(fresh.serverVersion).toBe(176);
    expect(s.proxy.snapshot().counters.versionChanged).toBe(3);
  });
});
