import { afterEach, describe, expect, it } from "vitest";
import { REQ_ACCOUNT_DATA, REQ_ACCOUNT_UPDATES_MULTI, REQ_POSITIONS } from "../protocol/messages/account.js";
import { contract } from "../protocol/messages/contract.js";
import { REQ_MKT_DATA } from "../protocol/messages/market-data.js";
import {
  CANCEL_ORDER,
  PLACE_ORDER,
  placeOrder,
  REQ_AUTO_OPEN_ORDERS,
  REQ_COMPLETED_ORDERS,
  REQ_EXECUTIONS,
  REQ_OPEN_ORDERS,
} from "../protocol/messages/orders.js";
import { MockGateway } from "./gateway.js";
import { RawClient, waitUntil } from "./raw-client.test-util.js";
import { TEST_NOW } from "./test-now.test-util.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function setup() {
  const gw = new MockGateway({ port: 0, controlPort: 0, tickIntervalMs: 20, now: TEST_NOW });
  open.push(gw);
  const info = await gw.start();
  const c = await RawClient.connect(info.port, { clientId: 4 });
  open.push(c);
  return { gw, c, ...info };
}

const AAPL = contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" });
const filter = { clientId: 0, acctCode: "", time: "", symbol: "", secType: "", exchange: "", side: "" };

describe("start-up requests of ib_async's connect()", () => {
  it("answers positions, open orders, completed orders, account updates and executions with their ends", async () => {
    const { c, port } = await setup();
    // As ib_async 2.0.1 sends them once ready (clientId 0 also asks for auto open orders).
    const zero = await RawClient.connect(port, { clientId: 0 });
    open.push(zero);
    zero.send(REQ_AUTO_OPEN_ORDERS, { autoBind: true });
    c.send(REQ_POSITIONS, {});
    c.send(REQ_OPEN_ORDERS, {});
    c.send(REQ_COMPLETED_ORDERS, { apiOnly: false });
    c.send(REQ_ACCOUNT_DATA, { subscribe: true, account: "DU1234567" });
    c.send(REQ_ACCOUNT_UPDATES_MULTI, { reqId: 2, account: "DU1234567", modelCode: "", ledgerAndNLV: false });
    c.send(REQ_EXECUTIONS, { reqId: 1, filter });
    await c.waitFor((f) => f[0] === "74" && f[2] === "2");
    await c.waitFor((f) => f[0] === "62");
    await c.waitFor((f) => f[0] === "53");
    await c.waitFor((f) => f[0] === "102");
    await c.waitFor((f) => f[0] === "54");
    await c.waitFor((f) => f[0] === "55" && f[2] === "1");
    expect(c.errors().filter((e) => Number(e[3]) < 2100)).toEqual([]);
    zero.send(REQ_OPEN_ORDERS, {});
    await zero.waitFor((f) => f[0] === "53");
    expect(zero.errors().filter((e) => Number(e[3]) < 2100)).toEqual([]);
  });
});

describe("orders", () => {
  it("fills a market order at once: status, execution, commission; placeCount 1", async () => {
    const { c, gw } = await setup();
    c.send(
      PLACE_ORDER,
      placeOrder({
        orderId: 1,
        contract: AAPL,
        action: "BUY",
        totalQuantity: "10",
        orderType: "MKT",
        orderRef: "r1",
      }),
    );
    await c.waitFor((f) => f[0] === "3" && f[2] === "Filled");
    const exec = await c.waitFor((f) => f[0] === "11");
    expect(exec[1]).toBe("-1");
    expect(exec).toHaveLength(32);
    const comm = await c.waitFor((f) => f[0] === "59");
    expect(comm[2]).toBe(exec[14]);
    expect(gw.snapshot().orders).toEqual([
      {
        clientId: 4,
        orderId: 1,
        orderRef: "r1",
        permId: expect.any(Number),
        placeCount: 1,
        modifyCount: 0,
        status: "Filled",
      },
    ]);
    c.send(REQ_EXECUTIONS, { reqId: 9, filter });
    await c.waitFor((f) => f[0] === "55" && f[2] === "9");
    expect(c.messages.filter((f) => f[0] === "11" && f[1] === "9")).toHaveLength(1);
    c.send(REQ_COMPLETED_ORDERS, { apiOnly: true });
    await c.waitFor((f) => f[0] === "102");
    expect(c.messages.filter((f) => f[0] === "101")).toHaveLength(1);
  });

  it("rests a limit order until it is marketable, counts modifications, cancels", async () => {
    const { c, gw } = await setup();
    c.send(
      PLACE_ORDER,
      placeOrder({
        orderId: 5,
        contract: AAPL,
        action: "BUY",
        totalQuantity: "1",
        orderType: "LMT",
        lmtPrice: 1,
      }),
    );
    await c.waitFor((f) => f[0] === "3" && f[1] === "5" && f[2] === "Submitted");
    c.send(REQ_OPEN_ORDERS, {});
    await c.waitFor((f) => f[0] === "53");
    expect(c.messages.some((f) => f[0] === "5" && f[1] === "5")).toBe(true);
    // Modify to a marketable price: it trades on the next tick.
    c.send(
      PLACE_ORDER,
      placeOrder({
        orderId: 5,
        contract: AAPL,
        action: "BUY",
        totalQuantity: "1",
        orderType: "LMT",
        lmtPrice: 100_000,
      }),
    );
    await c.waitFor((f) => f[0] === "3" && f[1] === "5" && f[2] === "Filled");
    expect(gw.snapshot().orders[0]).toMatchObject({ placeCount: 1, modifyCount: 1 });

    c.send(
      PLACE_ORDER,
      placeOrder({
        orderId: 6,
        contract: AAPL,
        action: "SELL",
        totalQuantity: "1",
        orderType: "LMT",
        lmtPrice: 100_000,
      }),
    );
    await c.waitFor((f) => f[0] === "3" && f[1] === "6" && f[2] === "Submitted");
    c.send(CANCEL_ORDER, { orderId: 6, manualOrderCancelTime: "" });
    await c.waitFor((f) => f[0] === "3" && f[1] === "6" && f[2] === "Cancelled");
    await c.waitFor((f) => f[0] === "4" && f[2] === "6" && f[3] === "202");
    c.send(CANCEL_ORDER, { orderId: 77, manualOrderCancelTime: "" });
    await c.waitFor((f) => f[0] === "4" && f[2] === "77" && f[3] === "135");
  });

  it("rejects an unknown contract with 200", async () => {
    const { c } = await setup();
    c.send(
      PLACE_ORDER,
      placeOrder({
        orderId: 8,
        contract: contract({ symbol: "NOPE", secType: "STK" }),
        action: "BUY",
        totalQuantity: "1",
        orderType: "MKT",
      }),
    );
    await c.waitFor((f) => f[0] === "4" && f[2] === "8" && f[3] === "200");
  });
});

describe("1101 and 1102", () => {
  it("1101 drops the client's market-data subscriptions, 1102 keeps them", async () => {
    const { c, gw, controlPort } = await setup();
    const post = (body: unknown) =>
      fetch(`http://127.0.0.1:${controlPort}/faults/error`, { method: "POST", body: JSON.stringify(body) });
    const req = (tickerId: number) => ({
      tickerId,
      contract: AAPL,
      comboLegs: [],
      deltaNeutral: undefined,
      genericTickList: "",
      snapshot: false,
      regulatorySnapshot: false,
      mktDataOptions: "",
    });
    c.send(REQ_MKT_DATA, req(1));
    await waitUntil(() => gw.subs.size === 1);
    await post({ code: 1102 });
    await c.waitFor((f) => f[0] === "4" && f[3] === "1102");
    expect(gw.subs.size).toBe(1);
    await post({ code: 1101 });
    await c.waitFor((f) => f[0] === "4" && f[3] === "1101");
    expect(gw.subs.size).toBe(0);
    const n = c.messages.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(c.messages.slice(n).filter((f) => f[0] === "1")).toEqual([]);
  });
});
