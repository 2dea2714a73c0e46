/**
 * Orders from in-process clients, on a pool against the real mock over TCP: only a client
 * with an owner of its own, in a pool with a state dir, may place them; everything else is
 * refused with 201 before it reaches the gateway, and the refusal is in the audit file.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MockGateway } from "../mock/gateway.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { AAPL, Inbox, is, V } from "../switch/test-harness.test-util.js";
import { Switchboard } from "./pool.js";

let mock: MockGateway;
let sb: Switchboard | undefined;
const dirs: string[] = [];

beforeEach(async () => {
  mock = new MockGateway({ port: 0, controlPort: null, tickIntervalMs: 50, now: TEST_NOW });
  await mock.start();
});

afterEach(async () => {
  await sb?.close();
  sb = undefined;
  await mock.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const connect = (stateDir?: string) =>
  Switchboard.connect({
    line: { host: "127.0.0.1", port: mock.port, clientId: 3, backoffInitialMs: 50, fastProbeIntervalMs: 100 },
    ...(stateDir === undefined ? {} : { stateDir }),
  });

const order = (orderId: number, orderRef: string) =>
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

describe("orders from in-process clients", () => {
  it("a client without an owner gets 201, audited; one with an owner places its order", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-pool-orders-"));
    dirs.push(dir);
    sb = await connect(dir);
    const anonymous = await sb.acquire("agents");
    const inbox = new Inbox(anonymous.tenant);
    anonymous.tenant.send(order(1, "pool-anonymous"));
    const err = await inbox.next(is(IN.ERR_MSG, 1));
    expect(err[3]).toBe("201");
    expect(err[4]).toMatch(/only with an owner/);

    const owned = await sb.acquire("agents", { owner: "rebalancer" });
    const ownedInbox = new Inbox(owned.tenant);
    owned.tenant.send(order(1, "pool-owned"));
    await ownedInbox.next(is(IN.ORDER_STATUS, 1, 1));
    await sb.close();
    sb = undefined;

    expect(mock.snapshot().orders.map((o) => o.orderRef)).toEqual(["pool-owned"]);
    const audit = readFileSync(join(dir, "orders-default.audit.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { owner: string; outcome: string });
    expect(audit.filter((a) => a.outcome === "refused(201)")).toHaveLength(1);
    expect(audit.find((a) => a.outcome === "written")).toMatchObject({ owner: "client:rebalancer" });
    // Never a per-run owner in the journal.
    const journal = readFileSync(join(dir, "orders-default.journal"), "utf8");
    expect(journal).not.toMatch(/"owner":"client-\d+"/);
  });

  it("a pool without a state dir refuses every client's orders with 201, owner or not", async () => {
    sb = await connect();
    const owned = await sb.acquire("agents", { owner: "rebalancer" });
    const inbox = new Inbox(owned.tenant);
    owned.tenant.send(order(1, "pool-no-state"));
    const err = await inbox.next(is(IN.ERR_MSG, 1));
    expect(err[3]).toBe("201");
    expect(err[4]).toMatch(/only with a state dir/);
    // Give a wrongly forwarded order time to land at the gateway: the current time is a round trip.
    await owned.currentTime();
    expect(mock.snapshot().orders).toEqual([]);
  });
});
