/**
 * A real third-party client through the proxy: @stoqey/ib connects as if to TWS and does its
 * usual work. Its decoder rejects a message with a field too few or too many (error 505), so
 * every test also asserts that none arrived. The mock behind the proxy only ever sees the
 * line's own connection.
 */
import { type Contract, EventName, OrderAction, OrderType } from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { AAPL, connectStoqey, expectNo505, expectSessionBasics } from "../mock/stoqey-client.test-util.js";
import { type ProxyStack, startProxyStack, until } from "./test-stack.test-util.js";

const cleanup: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c.close();
});

async function stack(): Promise<ProxyStack> {
  const s = await startProxyStack({ mock: { tickIntervalMs: 20 } });
  cleanup.push(s);
  return s;
}

describe("@stoqey/ib through the proxy", () => {
  it("connects with any client id, reads accounts, qualifies a contract and pulls history", async () => {
    const s = await stack();
    const c = await connectStoqey(s.port, 1234, (x) => cleanup.push(x));
    await expectSessionBasics(c);
    expect(s.mock.snapshot().clients.map((x) => x.clientId)).toEqual([1]);
    expectNo505(c);
  });

  it("streams market data until cancelled", async () => {
    const s = await stack();
    const c = await connectStoqey(s.port, 2, (x) => cleanup.push(x));
    const prices: number[] = [];
    const enough = new Promise<void>((resolve) =>
      c.api.on(EventName.tickPrice, (id: number, _type, price: number) => {
        if (id !== 10) return;
        prices.push(price);
        if (prices.length >= 10) resolve();
      }),
    );
    c.api.reqMktData(10, AAPL, "", false, false);
    await enough;
    c.api.cancelMktData(10);
    await until(() => s.mock.snapshot().subscriptionList.length === 0, "the stream cancelled upstream");
    expectNo505(c);
  });

  it("reads positions and the account summary", async () => {
    const s = await stack();
    const c = await connectStoqey(s.port, 3, (x) => cleanup.push(x));
    const positions: string[] = [];
    const posEnd = new Promise<void>((resolve) => {
      c.api.on(EventName.position, (account: string, contract: Contract) =>
        positions.push(`${account}:${contract.symbol}`),
      );
      c.api.once(EventName.positionEnd, () => resolve());
    });
    c.api.reqPositions();
    await posEnd;
    expect(positions.length).toBeGreaterThan(0);
    expect(positions.every((p) => p.startsWith("DU1234567:"))).toBe(true);

    const tags = new Map<string, string>();
    const sumEnd = new Promise<void>((resolve) => {
      c.api.on(EventName.accountSummary, (reqId: number, _account: string, tag: string, value: string) => {
        if (reqId === 7) tags.set(tag, value);
      });
      c.api.once(EventName.accountSummaryEnd, (reqId: number) => reqId === 7 && resolve());
    });
    c.api.reqAccountSummary(7, "All", "NetLiquidation,TotalCashValue");
    await sumEnd;
    expect([...tags.keys()].sort()).toEqual(["NetLiquidation", "TotalCashValue"]);
    c.api.cancelAccountSummary(7);
    c.api.cancelPositions();
    await until(() => s.proxy.snapshot().downstreams[0]?.subscriptions === 0, "subscriptions closed");
    expectNo505(c);
  });

  it("places an order on the mock once, under the line's client id, and sees it filled", async () => {
    const s = await stack();
    const c = await connectStoqey(s.port, 4, (x) => cleanup.push(x));
    const filled = new Promise<number>((resolve) =>
      c.api.on(EventName.orderStatus, (id: number, status: string) => {
        if (status === "Filled") resolve(id);
      }),
    );
    const exec = new Promise<number>((r) =>
      c.api.once(EventName.execDetails, (_req, _contract, e) => r(e.orderId ?? -1)),
    );
    const commission = new Promise<void>((r) => c.api.once(EventName.commissionReport, () => r()));
    const openOrder = new Promise<number>((r) => c.api.once(EventName.openOrder, (id: number) => r(id)));
    c.api.placeOrder(c.nextId, AAPL, {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10,
      orderRef: "via-proxy",
      transmit: true,
    });
    // The client sees its own order id everywhere, whatever id the line used upstream.
    expect(await filled).toBe(c.nextId);
    expect(await openOrder).toBe(c.nextId);
    expect(await exec).toBe(c.nextId);
    await commission;
    const orders = s.mock.snapshot().orders;
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ clientId: 1, orderRef: "via-proxy", placeCount: 1, status: "Filled" });
    expectNo505(c);
  });
});
