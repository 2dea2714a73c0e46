/**
 * Answers without request ids reach exactly those who asked, and a question nobody answers
 * ends with an error: against the real mock gateway over TCP.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RawClient } from "../mock/raw-client.test-util.js";
import { toFields } from "../protocol/codec.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { PLACE_ORDER, placeOrder, REQ_COMPLETED_ORDERS } from "../protocol/messages/orders.js";
import { AAPL, Inbox, is, type Stack, startStack, V } from "./test-harness.test-util.js";

let stack: Stack | undefined;
const others: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const c of others.splice(0)) await c.close();
  await stack?.close();
  stack = undefined;
});

const isMsg = (id: number) => (f: string[]) => Number(f[0]) === id;
describe("open-order questions", () => {
  it("an OPEN_ORDER_END ends only the wait of those it answers; the 'all' asker sees manual orders first", async () => {
    stack = await startStack();
    // An order no tenant placed: another API client straight at the gateway.
    const manual = await RawClient.connect(stack.mock.port, { clientId: 77 });
    others.push(manual);
    manual.sendFields(
      toFields(
        PLACE_ORDER,
        placeOrder({
          orderId: 5,
          contract: AAPL,
          action: "BUY",
          totalQuantity: "1",
          orderType: "LMT",
          lmtPrice: 1,
          orderRef: "manual",
        }),
        V,
      ),
    );
    await manual.waitFor((f) => Number(f[0]) === IN.ORDER_STATUS);
    const a = stack.sw.openTenant({ kind: "proxy", clientId: 1 });
    const b = stack.sw.openTenant({ kind: "proxy", clientId: 2 });
    const ia = new Inbox(a);
    const ib = new Inbox(b);
    a.send([String(OUT.REQ_OPEN_ORDERS), "1"]);
    b.send([String(OUT.REQ_ALL_OPEN_ORDERS), "1"]);
    await ia.next(isMsg(IN.OPEN_ORDER_END));
    const end = await ib.next(isMsg(IN.OPEN_ORDER_END));
    const endAt = ib.messages.indexOf(end);
    const manualAt = ib.messages.findIndex((f) => isMsg(IN.OPEN_ORDER)(f) && f.includes("manual"));
    expect(manualAt).toBeGreaterThanOrEqual(0);
    expect(manualAt).toBeLessThan(endAt);
    // A asked for its own orders only: it never sees the manual order.
    expect(ia.messages.some((f) => isMsg(IN.OPEN_ORDER)(f) && f.includes("manual"))).toBe(false);
    expect(ia.messages.filter(isMsg(IN.OPEN_ORDER_END))).toHaveLength(1);
    expect(ib.messages.filter(isMsg(IN.OPEN_ORDER_END))).toHaveLength(1);
  });
});

describe("completed orders", () => {
  it("go to the tenant that placed them, never to another; orders no tenant placed go to all", async () => {
    stack = await startStack();
    const manual = await RawClient.connect(stack.mock.port, { clientId: 78 });
    others.push(manual);
    manual.sendFields(
      toFields(
        PLACE_ORDER,
        placeOrder({
          orderId: 6,
          contract: AAPL,
          action: "BUY",
          totalQuantity: "1",
          orderType: "MKT",
          orderRef: "manual-done",
        }),
        V,
      ),
    );
    await manual.waitFor((f) => Number(f[0]) === IN.ORDER_STATUS && f.includes("Filled"));
    const a = stack.sw.openTenant({ kind: "proxy", clientId: 1 });
    const b = stack.sw.openTenant({ kind: "proxy", clientId: 2 });
    const ia = new Inbox(a);
    const ib = new Inbox(b);
    a.send(
      toFields(
        PLACE_ORDER,
        placeOrder({
          orderId: 1,
          contract: AAPL,
          action: "BUY",
          totalQuantity: "1",
          orderType: "MKT",
          orderRef: "mine",
        }),
        V,
      ),
    );
    await ia.next((f) => is(IN.ORDER_STATUS, 1, 1)(f) && f.includes("Filled"));
    await ia.next((f) => is(IN.OPEN_ORDER, 1, 1)(f));
    const ask = toFields(REQ_COMPLETED_ORDERS, { apiOnly: false }, V);
    a.send(ask);
    b.send(ask);
    await ia.next(isMsg(IN.COMPLETED_ORDERS_END));
    await ib.next(isMsg(IN.COMPLETED_ORDERS_END));
    const refs = (inbox: Inbox) =>
      inbox.messages
        .filter(isMsg(IN.COMPLETED_ORDER))
        .flatMap((f) => f.filter((x) => x === "mine" || x === "manual-done"));
    expect(refs(ia).sort()).toEqual(["manual-done", "mine"]);
    expect(refs(ib)).toEqual(["manual-done"]);
  });
});

describe("a singleton question while the line stays down", () => {
  it("ends with 504 after the queue timeout instead of waiting forever", async () => {
    stack = await startStack({ switch: { queueTimeoutMs: 1_000 } });
    const t = stack.sw.openTenant({ kind: "client", clientId: 3 });
    const inbox = new Inbox(t);
    await stack.mock.down(60_000);
    const s = stack;
    await new Promise<void>((resolve) => {
      const check = () => (s.line.state === "ready" ? setTimeout(check, 10) : resolve());
      check();
    });
    t.send([String(OUT.REQ_CURRENT_TIME), "1"]);
    const err = await inbox.next((f) => is(IN.ERR_MSG)(f) && f[3] === "504", { timeoutMs: 10_000 });
    expect(err[2]).toBe("-1");
    expect(inbox.messages.filter(isMsg(IN.CURRENT_TIME))).toEqual([]);
  });
});
