/**
 * An order still waiting in the pacer when the socket drops was never written: its tenant
 * must hear 201 (never silence), and it must not be placed later.
 */
import { afterEach, describe, expect, it } from "vitest";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { contract } from "../protocol/messages/contract.js";
import { REQ_CONTRACT_DATA } from "../protocol/messages/contracts.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { Inbox, type Stack, startStack } from "./test-harness.test-util.js";

const V = 178;
const aapl = contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" });

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("an order waiting in the pacer across a drop", () => {
  it("is answered with 201 and never placed", async () => {
    stack = await startStack();
    const t = stack.sw.openTenant({ kind: "proxy", clientId: 1 });
    const inbox = new Inbox(t);
    // Fill the 1 s message window so the next message has to wait its turn (distinct
    // requests: identical ones would share one upstream request).
    for (let reqId = 1; reqId <= 60; reqId++) {
      t.send(
        toFields(
          REQ_CONTRACT_DATA,
          { reqId, contract: aapl, includeExpired: false, secIdType: "", secId: String(reqId), issuerId: "" },
          V,
        ),
      );
    }
    const queuedBefore = stack.pacer.snapshot().queued;
    expect(queuedBefore).toBeGreaterThan(0);
    const orderId = stack.sw.nextOrderId(t);
    t.send(
      toFields(
        PLACE_ORDER,
        placeOrder({ orderId, contract: aapl, action: "BUY", totalQuantity: "1", orderType: "MKT" }),
        V,
      ),
    );
    // The order waits in its owner's lane queue of the pacer (the contract requests ahead of
    // it keep leaving, five per 100 ms, so the total is no fixed number).
    const laneQueued = stack.pacer
      .snapshot()
      .tenants.filter((q) => q.tenant.startsWith("order:"))
      .reduce((n, q) => n + q.queued, 0);
    expect(laneQueued).toBe(1);
    // The line goes away at once (synchronously), while the order still waits its turn.
    stack.line.destroy();
    const err = await inbox.next((f) => Number(f[0]) === IN.ERR_MSG && f[2] === String(orderId));
    expect(err[3]).toBe("201");
    expect(stack.mock.snapshot().orders).toEqual([]);
  });
});
