/**
 * A switch restarted over its order journal, on a real line to the real mock over TCP: the
 * owner keeps its orders and ids, live orders are reconciled before order messages are
 * accepted, and a record whose write was never confirmed is never written.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileOrderAudit } from "../orders/audit.js";
import { FileOrderJournal } from "../orders/journal.js";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { CANCEL_ORDER, PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { OrderMap } from "./order-map.js";
import { Switch } from "./switch.js";
import { AAPL, contractReq, Inbox, is, type Stack, startStack, V } from "./test-harness.test-util.js";

let stack: Stack | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
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

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("the order journal across a restart of the switch", () => {
  it("keeps each owner's orders and ids: a resent order is a modify, never a second order", async () => {
    stack = await startStack();
    const dir = mkdtempSync(join(tmpdir(), "sb-restart-"));
    dirs.push(dir);
    const journal1 = FileOrderJournal.open({ stateDir: dir, line: "default" });
    const audit1 = new FileOrderAudit({ stateDir: dir, line: "default" });
    const first = new Switch(stack.line, stack.pacer, { journal: journal1, audit: audit1 });
    const t1 = first.openTenant({ kind: "proxy", clientId: 3 });
    const in1 = new Inbox(t1);
    t1.send(resting(1, "restart"));
    await in1.next(is(IN.ORDER_STATUS, 1, 1));
    await first.close();
    audit1.close();
    journal1.close();

    const journal2 = FileOrderJournal.open({ stateDir: dir, line: "default" });
    const second = new Switch(stack.line, stack.pacer, { journal: journal2 });
    try {
      // Reconciled against the gateway's open orders before anything else.
      await until(() => second.orderLane().reconciliations === 1, "the reconciliation");
      expect(second.liveOrders()).toMatchObject([{ owner: "proxy:3", localId: 1 }]);
      const t2 = second.openTenant({ kind: "proxy", clientId: 3 });
      const in2 = new Inbox(t2);
      expect(second.nextOrderId(t2)).toBe(2);
      t2.send(resting(1, "restart", "4"));
      await in2.next(is(IN.ORDER_STATUS, 1, 1));
      const at = stack.mock.snapshot().orders.filter((o) => o.orderRef === "restart");
      expect(at).toHaveLength(1);
      expect(at[0]).toMatchObject({ placeCount: 1, modifyCount: 1 });
      // Another client id has an order-id space of its own.
      expect(second.nextOrderId(second.openTenant({ kind: "proxy", clientId: 4 }))).toBe(1);
    } finally {
      await second.close();
      journal2.close();
    }
    const audit = readFileSync(join(dir, "orders-default.audit.jsonl"), "utf8").trim().split("\n");
    expect(audit.map((l) => (JSON.parse(l) as { kind: string; outcome: string }).outcome)).toContain(
      "written",
    );
  });

  it("never writes a record whose write was not confirmed; found nowhere, it is finished as never placed", async () => {
    stack = await startStack();
    const dir = mkdtempSync(join(tmpdir(), "sb-restart-"));
    dirs.push(dir);
    const clientId = stack.line.clientId ?? 0;
    // A daemon died between the journal's sync and the upstream write.
    const crashed = FileOrderJournal.open({ stateDir: dir, line: "default" });
    const e = new OrderMap().add({
      owner: "proxy:5",
      localId: 1,
      upstreamId: 500,
      upstreamClientId: clientId,
      orderRef: "never-written",
    });
    crashed.intent(e, 1);
    crashed.close();

    const journal = FileOrderJournal.open({ stateDir: dir, line: "default" });
    expect(journal.load().orders[0]?.state).toBe("unknown");
    const sw = new Switch(stack.line, stack.pacer, { journal });
    try {
      await until(() => sw.orderLane().reconciliations === 1, "the reconciliation");
      expect(sw.liveOrders()).toEqual([]);
      const t = sw.openTenant({ kind: "proxy", clientId: 5 });
      // Its id stays used: a PLACE at or below the mark for an unknown order is refused (103).
      expect(sw.nextOrderId(t)).toBe(2);
      expect(stack.mock.snapshot().orders.filter((o) => o.orderRef === "never-written")).toEqual([]);
    } finally {
      await sw.close();
      journal.close();
    }
    const reread = FileOrderJournal.open({ stateDir: dir, line: "default" });
    expect(reread.load().orders[0]?.state).toBe("refused");
    reread.close();
  });
});

describe("a journal that cannot be written", () => {
  it("refuses the order with 201 and the modify queued behind it, so neither reaches TWS", async () => {
    stack = await startStack();
    const journal = {
      load: () => ({ orders: [], highWater: {} }),
      intent: () => {
        throw new Error("disk full");
      },
      written: () => {},
      update: () => {},
    };
    const sw = new Switch(stack.line, stack.pacer, { journal });
    try {
      const t = sw.openTenant({ kind: "proxy", clientId: 8 });
      const inbox = new Inbox(t);
      // A full message window: both wait in the lane, the modify behind its order.
      const data = sw.openTenant({ kind: "client" });
      // Distinct requests (identical ones would share one upstream request).
      for (let reqId = 1; reqId <= 60; reqId++)
        data.send(contractReq(reqId, { ...AAPL, tradingClass: `T${reqId}` }));
      expect(stack.pacer.snapshot().queued).toBeGreaterThan(0);
      t.send(resting(1, "no-journal"));
      t.send(resting(1, "no-journal", "5"));
      const refused = await inbox.next(is(IN.ERR_MSG, 1));
      expect(refused[3]).toBe("201");
      expect(refused[4]).toMatch(/journal could not be written/);
      await until(() => sw.orderLane().pending === 0, "the lane idle");
      expect(inbox.messages.filter(is(IN.ERR_MSG, 1)).map((f) => f[3])).toEqual(["201", "399"]);
      expect(stack.mock.snapshot().orders.filter((o) => o.orderRef === "no-journal")).toEqual([]);
    } finally {
      await sw.close();
    }
  });
});

describe("memory of a reconciliation", () => {
  it("keeps nothing of TWS's open and completed orders once the run has ended", async () => {
    stack = await startStack();
    const dir = mkdtempSync(join(tmpdir(), "sb-reconcile-mem-"));
    dirs.push(dir);
    const journal1 = FileOrderJournal.open({ stateDir: dir, line: "default" });
    const first = new Switch(stack.line, stack.pacer, { journal: journal1 });
    const t1 = first.openTenant({ kind: "proxy", clientId: 4 });
    const in1 = new Inbox(t1);
    // Three orders: two cancelled (TWS lists them as completed), one resting.
    for (const id of [1, 2, 3]) {
      t1.send(resting(id, `mem-${id}`));
      await in1.next(is(IN.ORDER_STATUS, id, 1));
    }
    for (const id of [1, 2]) {
      t1.send(toFields(CANCEL_ORDER, { orderId: id, manualOrderCancelTime: "" }, V));
      await in1.next((f) => Number(f[0]) === IN.ORDER_STATUS && Number(f[1]) === id && f[2] === "Cancelled");
    }
    await first.close();
    journal1.close();

    // A restarted switch reconciles the resting order against TWS's lists.
    const journal2 = FileOrderJournal.open({ stateDir: dir, line: "default" });
    const second = new Switch(stack.line, stack.pacer, { journal: journal2 });
    try {
      await until(() => second.orderLane().reconciliations === 1, "the reconciliation");
      expect(second.liveOrders()).toMatchObject([{ owner: "proxy:4", localId: 3 }]);
      expect(second.orderLane().held).toBe(0);
    } finally {
      await second.close();
      journal2.close();
    }
  });
});
