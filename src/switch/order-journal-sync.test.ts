/**
 * The journal's sync gates the upstream write, on a real line to the real mock over TCP: the
 * switch writes a new order only once its journal record is durable (the sync runs off the
 * event loop, so the lane waits for it), the owner's next message waits behind it, and an
 * order whose connection changed during the sync is refused and recorded as never written.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileOrderJournal } from "../orders/journal.js";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { CANCEL_ORDER, PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import type { JournalContents, OrderJournal } from "./order-journal.js";
import type { OrderEntry } from "./order-map.js";
import { Switch } from "./switch.js";
import { AAPL, contractReq, Inbox, is, type Stack, startStack, V } from "./test-harness.test-util.js";

/** The real file journal, with the moment its sync completes held by the test. */
class HeldSyncJournal implements OrderJournal {
  readonly file: FileOrderJournal;
  readonly #gates: (() => void)[] = [];
  intents = 0;

  constructor(file: FileOrderJournal) {
    this.file = file;
  }

  load(): JournalContents {
    return this.file.load();
  }

  async intent(e: OrderEntry, generation: number): Promise<void> {
    this.intents++;
    // Held from the moment of the call, whenever the file's own sync finishes.
    const gate = new Promise<void>((resolve) => this.#gates.push(resolve));
    await this.file.intent(e, generation);
    await gate;
  }

  written(e: OrderEntry): void {
    this.file.written(e);
  }

  update(e: OrderEntry): void {
    this.file.update(e);
  }

  release(): void {
    for (const open of this.#gates.splice(0)) open();
  }
}

let stack: Stack | undefined;
let sw: Switch | undefined;
const dirs: string[] = [];
const journals: FileOrderJournal[] = [];
afterEach(async () => {
  await sw?.close();
  sw = undefined;
  await stack?.close();
  stack = undefined;
  for (const j of journals.splice(0)) j.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const resting = (orderId: number, orderRef: string) =>
  toFields(
    PLACE_ORDER,
    placeOrder({
      orderId,
      contract: AAPL,
      action: "BUY",
      totalQuantity: "1",
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

function heldJournal(): { journal: HeldSyncJournal; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "sb-journal-sync-"));
  dirs.push(dir);
  const file = FileOrderJournal.open({ stateDir: dir, line: "default" });
  journals.push(file);
  return { journal: new HeldSyncJournal(file), dir };
}

describe("the journal's sync and the upstream write", () => {
  it("a new order is written only once its record is durable; the owner's cancel waits behind it", async () => {
    stack = await startStack();
    const { journal } = heldJournal();
    sw = new Switch(stack.line, stack.pacer, { journal });
    const t = sw.openTenant({ kind: "proxy", clientId: 7 });
    const inbox = new Inbox(t);
    t.send(resting(1, "held-sync"));
    t.send(toFields(CANCEL_ORDER, { orderId: 1, manualOrderCancelTime: "" }, V));
    await until(() => journal.intents === 1, "the order's record appended");
    // A round trip on the same line: anything written before it has reached the gateway.
    t.send(contractReq(5));
    await inbox.next(is(IN.CONTRACT_DATA_END, 5, 2));
    expect(stack.mock.snapshot().orders).toEqual([]);
    journal.release();
    await inbox.next(is(IN.ORDER_STATUS, 1, 1));
    const cancelled = await inbox.next(
      (f) => Number(f[0]) === IN.ORDER_STATUS && f[1] === "1" && f[2] === "Cancelled",
    );
    expect(cancelled).toBeDefined();
    expect(stack.mock.snapshot().orders.filter((o) => o.orderRef === "held-sync")).toHaveLength(1);
  });

  it("an order whose connection changed during the sync is refused with 201 and recorded as never written", async () => {
    stack = await startStack();
    const { journal, dir } = heldJournal();
    sw = new Switch(stack.line, stack.pacer, { journal });
    const t = sw.openTenant({ kind: "proxy", clientId: 8 });
    const inbox = new Inbox(t);
    t.send(resting(1, "sync-then-drop"));
    await until(() => journal.intents === 1, "the order's record appended");
    const generation = stack.line.generation;
    stack.mock.drop();
    await until(() => stack!.line.generation > generation && stack!.line.state === "ready", "the line back");
    journal.release();
    const refused = await inbox.next(is(IN.ERR_MSG, 1));
    expect(refused[3]).toBe("201");
    expect(stack.mock.snapshot().orders).toEqual([]);
    await sw.close();
    sw = undefined;
    journal.file.close();
    journals.splice(0);
    const again = FileOrderJournal.open({ stateDir: dir, line: "default" });
    journals.push(again);
    // Never written: not `unknown` (which would hold the client id and be reconciled).
    expect(again.load().orders.map((o) => o.state)).toEqual(["refused"]);
  });
});
