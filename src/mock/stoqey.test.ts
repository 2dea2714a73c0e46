/**
 * Interop with a real third-party client: @stoqey/ib connects, qualifies a contract, pulls
 * history, streams ticks, places an order and sees 326 for a duplicate client id. Its
 * decoder rejects any message with a field too few or too many (error 505), so every test
 * also asserts that no 505 arrived.
 */
import { EventName, IBApi, OrderAction, OrderType } from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { MockGateway } from "./gateway.js";
import { AAPL, connectStoqey, expectNo505, expectSessionBasics } from "./stoqey-client.test-util.js";
import { TEST_NOW } from "./test-now.test-util.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function setup() {
  const gw = new MockGateway({ port: 0, controlPort: null, tickIntervalMs: 20, now: TEST_NOW });
  open.push(gw);
  const { port } = await gw.start();
  return { gw, port };
}

describe("@stoqey/ib against the mock", () => {
  it("connects, reads accounts, qualifies a contract and pulls history", async () => {
    const { port } = await setup();
    const c = await connectStoqey(port, 1, (x) => open.push(x));
    await expectSessionBasics(c);
    expectNo505(c);
  });

  it("streams ticks and ends a snapshot", async () => {
    const { port } = await setup();
    const c = await connectStoqey(port, 2, (x) => open.push(x));
    const prices: number[] = [];
    const enough = new Promise<void>((resolve) =>
      c.api.on(EventName.tickPrice, (_id, _type, price: number) => {
        prices.push(price);
        if (prices.length >= 20) resolve();
      }),
    );
    c.api.reqMktData(10, AAPL, "", false, false);
    await enough;
    c.api.cancelMktData(10);
    const snap = new Promise<void>((r) => c.api.once(EventName.tickSnapshotEnd, () => r()));
    c.api.reqMktData(11, AAPL, "", true, false);
    await snap;
    expectNo505(c);
  });

  it("places a market order and sees status, execution and commission", async () => {
    const { port, gw } = await setup();
    const c = await connectStoqey(port, 3, (x) => open.push(x));
    const filled = new Promise<void>((resolve) =>
      c.api.on(EventName.orderStatus, (_id, status: string) => {
        if (status === "Filled") resolve();
      }),
    );
    const exec = new Promise<void>((r) => c.api.once(EventName.execDetails, () => r()));
    const commission = new Promise<void>((r) => c.api.once(EventName.commissionReport, () => r()));
    const openOrder = new Promise<void>((r) => c.api.once(EventName.openOrder, () => r()));
    c.api.placeOrder(c.nextId, AAPL, {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10,
      orderRef: "t1",
      transmit: true,
    });
    await Promise.all([filled, exec, commission, openOrder]);
    const o = gw.snapshot().orders[0];
    expect(o).toMatchObject({
      clientId: 3,
      orderId: c.nextId,
      orderRef: "t1",
      placeCount: 1,
      status: "Filled",
    });
    expectNo505(c);
  });

  it("sees 326 for a duplicate client id while the first stays connected", async () => {
    const { port } = await setup();
    const first = await connectStoqey(port, 7, (x) => open.push(x));
    const second = new IBApi({ host: "127.0.0.1", port });
    open.push({ close: async () => void second.disconnect() });
    const info: number[] = [];
    const got326 = new Promise<void>((resolve) => {
      const on = (_err: unknown, code: number) => {
        info.push(code);
        if (code === 326) resolve();
      };
      second.on(EventName.error, on);
      second.on(EventName.info, (_msg: string, code: number) => on(undefined, code));
    });
    second.connect(7);
    await got326;
    const time = new Promise<number>((r) => first.api.once(EventName.currentTime, r));
    first.api.reqCurrentTime();
    expect(await time).toBeGreaterThan(0);
    expect(first.api.isConnected).toBe(true);
  });
});
