/**
 * The order gate (an HA daemon past its freshness window): asked when an order message is
 * accepted and again right before the upstream write. On a real line to the mock over TCP.
 */
import { afterEach, describe, expect, it } from "vitest";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import type { OrderJournal } from "./order-journal.js";
import { Switch } from "./switch.js";
import { AAPL, Inbox, is, type Stack, startStack, V } from "./test-harness.test-util.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const resting = (orderId: number, orderRef: string, totalQuantity = "2") =>
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

const STALE = "HA lease not renewed in time: this daemon is stepping down";

describe("order gate", () => {
  it("refuses a new order with 201 and a modify with 399 while the gate is shut; nothing reaches TWS", async () => {
    stack = await startStack();
    let shut = false;
    const sw = new Switch(stack.line, stack.pacer, { orderGate: () => (shut ? STALE : undefined) });
    try {
      const t = sw.openTenant({ kind: "proxy", clientId: 4 });
      const inbox = new Inbox(t);
      t.send(resting(1, "gate-1"));
      await inbox.next(is(IN.ORDER_STATUS, 1, 1));
      shut = true;
      t.send(resting(2, "gate-2"));
      t.send(resting(1, "gate-1", "7"));
      const first = await inbox.next(is(IN.ERR_MSG, 2));
      expect(first[3]).toBe("201");
      expect(first[4]).toContain(STALE);
      const second = await inbox.next(is(IN.ERR_MSG, 1));
      expect(second[3]).toBe("399");
      const orders = stack.mock.snapshot().orders;
      expect(orders.filter((o) => o.orderRef === "gate-2")).toEqual([]);
      expect(orders.filter((o) => o.orderRef === "gate-1")).toMatchObject([
        { placeCount: 1, modifyCount: 0 },
      ]);
    } finally {
      await sw.close();
    }
  });

  it("asks again after the journal: a window that ends while the record is being made leaves the order unwritten", async () => {
    stack = await startStack();
    let shut = false;
    // The record takes its time (a Redis round trip); meanwhile the lease's window ends.
    const journal: OrderJournal = {
      load: () => ({ orders: [], highWater: {} }),
      intent: async () => {
        shut = true;
      },
      written: () => {},
      update: () => {},
    };
    const sw = new Switch(stack.line, stack.pacer, { journal, orderGate: () => (shut ? STALE : undefined) });
    try {
      const t = sw.openTenant({ kind: "proxy", clientId: 5 });
      const inbox = new Inbox(t);
      t.send(resting(1, "gate-late"));
      const err = await inbox.next(is(IN.ERR_MSG, 1));
      expect(err[3]).toBe("201");
      expect(err[4]).toContain(STALE);
      expect(stack.mock.snapshot().orders.filter((o) => o.orderRef === "gate-late")).toEqual([]);
    } finally {
      await sw.close();
    }
  });
});
