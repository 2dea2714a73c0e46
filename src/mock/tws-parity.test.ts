/**
 * The mock speaks as TWS does: the same market order placed at the mock and at a real TWS
 * (src/protocol/fixtures/) reads the same through @stoqey/ib, field for field, in
 * OPEN_ORDER, EXECUTION_DATA and COMMISSION_REPORT. Only what differs between two fills
 * by nature is left out: ids, times, prices, venue, commission amount, the paper account.
 */
import { EventName, type IBApi, OrderAction, OrderType, SecType } from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { fromFields } from "../protocol/codec.js";
import { capture } from "../protocol/fixtures.test-util.js";
import { COMPLETED_ORDER, OPEN_ORDER } from "../protocol/messages/open-order.js";
import {
  COMMISSION_REPORT,
  contract,
  EXECUTION_DATA,
  ORDER_STATUS,
  PLACE_ORDER,
  placeOrder,
  REQ_COMPLETED_ORDERS,
} from "../protocol/messages/index.js";
import { readWithStoqey, type StoqeyEvent } from "../protocol/stoqey-reader.test-util.js";
import { MockGateway } from "./gateway.js";
import { frozenClock } from "./wall-clock.js";
import { RawClient } from "./raw-client.test-util.js";
import { connectStoqey, expectNo505 } from "./stoqey-client.test-util.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

/** Fields that differ between any two fills of the same order. */
const PER_FILL = new Set([
  "orderId",
  "permId",
  "account",
  "acctNumber",
  "execId",
  "time",
  "exchange",
  "price",
  "avgPrice",
  "commission",
  "parentPermId",
]);

function withoutPerFill(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPerFill);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!PER_FILL.has(k)) out[k] = withoutPerFill(v);
  return out;
}

/** The args of the last event of a kind, without the order id (compared by key elsewhere). */
function last(events: readonly StoqeyEvent[], event: EventName): unknown[] {
  const found = events.filter((e) => e.event === event).at(-1);
  if (!found) throw new Error(`no ${event}`);
  return event === EventName.openOrder ? found.args.slice(1) : found.args;
}

/** The first OPEN_ORDER of the filled order: TWS sends it before the commission is known. */
function firstFilled(events: readonly StoqeyEvent[]): unknown[] {
  const found = events.find(
    (e) => e.event === EventName.openOrder && (e.args[3] as { status?: string }).status === "Filled",
  );
  if (!found) throw new Error("no filled OPEN_ORDER");
  return found.args.slice(1);
}

/** Place a market order for 100 shares at the mock and collect what @stoqey/ib reads. */
async function placeAtMock(version: number, symbol: string): Promise<StoqeyEvent[]> {
  const gw = new MockGateway({
    port: 0,
    controlPort: null,
    serverVersion: version,
    // A weekday session in New York: the fill does not depend on when the test runs.
    wallClock: frozenClock("2025-04-15T18:38:30Z"),
  });
  open.push(gw);
  const { port } = await gw.start();
  // The captured orders were placed by client id 100.
  const c = await connectStoqey(port, 100, (x) => open.push(x));
  const events: StoqeyEvent[] = [];
  const on = c.api.on.bind(c.api) as (e: string, l: (...a: unknown[]) => void) => IBApi;
  for (const e of [EventName.openOrder, EventName.execDetails, EventName.commissionReport]) {
    on(e, (...args: unknown[]) => events.push({ event: e, args }));
  }
  const done = new Promise<void>((resolve) => c.api.once(EventName.commissionReport, () => resolve()));
  c.api.placeOrder(
    c.nextId,
    { symbol, secType: SecType.STK, exchange: "SMART", currency: "USD" },
    { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 100, transmit: true },
  );
  await done;
  expectNo505(c);
  expect(c.errors).toEqual([]);
  return events;
}

describe("the mock's order messages read as a real TWS's", () => {
  it("OPEN_ORDER and EXECUTION_DATA of AAPL BUY 100 MKT at server version 173", async () => {
    const cap = capture("rust-ibapi-2025-aapl-market-order-v173.json");
    const real = await readWithStoqey(
      cap.serverVersion,
      cap.messages.map((m) => m.fields),
    );
    const mock = await placeAtMock(cap.serverVersion, "AAPL");
    expect(withoutPerFill(firstFilled(mock))).toEqual(withoutPerFill(firstFilled(real)));
    expect(withoutPerFill(last(mock, EventName.execDetails))).toEqual(
      withoutPerFill(last(real, EventName.execDetails)),
    );
  });

  it("OPEN_ORDER, EXECUTION_DATA and COMMISSION_REPORT of TSLA BUY 100 MKT at server version 165", async () => {
    const cap = capture("rust-ibapi-2023-tsla-market-order-v165.json");
    const real = await readWithStoqey(
      cap.serverVersion,
      cap.messages.map((m) => m.fields),
    );
    const mock = await placeAtMock(cap.serverVersion, "TSLA");
    expect(withoutPerFill(firstFilled(mock))).toEqual(withoutPerFill(firstFilled(real)));
    // The last OPEN_ORDER carries the commission and its currency.
    expect(withoutPerFill(last(mock, EventName.openOrder))).toEqual(
      withoutPerFill(last(real, EventName.openOrder)),
    );
    expect(withoutPerFill(last(mock, EventName.execDetails))).toEqual(
      withoutPerFill(last(real, EventName.execDetails)),
    );
    expect(withoutPerFill(last(mock, EventName.commissionReport))).toEqual(
      withoutPerFill(last(real, EventName.commissionReport)),
    );
  });

  it("CONTRACT_DATA of TSLA at server version 165 fills the fields TWS fills, as TWS does", async () => {
    const cap = capture("rust-ibapi-2023-tsla-contract-details-v165.json");
    const real = await readWithStoqey(cap.serverVersion, [cap.messages[0]?.fields ?? []]);
    const gw = new MockGateway({
      port: 0,
      controlPort: null,
      serverVersion: cap.serverVersion,
      wallClock: frozenClock("2025-04-15T18:38:30Z"),
    });
    open.push(gw);
    const { port } = await gw.start();
    const c = await connectStoqey(port, 100, (x) => open.push(x));
    const details = new Promise<unknown>((resolve) =>
      c.api.once(EventName.contractDetails, (_id: number, d: unknown) => resolve(d)),
    );
    c.api.reqContractDetails(9001, {
      symbol: "TSLA",
      secType: SecType.STK,
      exchange: "SMART",
      currency: "USD",
    });
    type Details = Record<string, unknown> & { contract: Record<string, unknown> };
    const mock = (await details) as Details;
    const tws = last(real, EventName.contractDetails)[1] as Details;
    // The instrument's own facts (names, exchanges, industry, hours, ISIN) come from the
    // catalogue; the form of every field is TWS's.
    const form = (d: Details) => ({
      contract: { ...d.contract, primaryExch: undefined },
      marketName: d.marketName,
      minTick: d.minTick,
      priceMagnifier: d.priceMagnifier,
      underConId: d.underConId,
      timeZoneId: d.timeZoneId,
      evRule: d.evRule,
      evMultiplier: d.evMultiplier,
      aggGroup: d.aggGroup,
      underSymbol: d.underSymbol,
      underSecType: d.underSecType,
      realExpirationDate: d.realExpirationDate,
      stockType: d.stockType,
      minSize: d.minSize,
      sizeIncrement: d.sizeIncrement,
      suggestedSizeIncrement: d.suggestedSizeIncrement,
      rulesPerExchange:
        String(d.marketRuleIds).split(",").length === String(d.validExchanges).split(",").length,
    });
    expect(form(mock)).toEqual(form(tws));
    expectNo505(c);
  });

  it("every field of OPEN_ORDER, ORDER_STATUS, EXECUTION_DATA, COMMISSION_REPORT and COMPLETED_ORDER, as our codec reads the wire", async () => {
    const gw = new MockGateway({
      port: 0,
      controlPort: null,
      serverVersion: 176,
      wallClock: frozenClock("2025-04-15T18:38:30Z"),
    });
    open.push(gw);
    const { port } = await gw.start();
    const raw = await RawClient.connect(port, { clientId: 100, max: 176 });
    open.push(raw);
    const orderId = Number((await raw.waitFor((f) => f[0] === "9"))[2]);
    const aapl = contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" });
    raw.send(
      PLACE_ORDER,
      placeOrder({ orderId, contract: aapl, action: "BUY", totalQuantity: "100", orderType: "MKT" }),
    );
    await raw.waitFor((f) => f[0] === "59");
    raw.send(REQ_COMPLETED_ORDERS, { apiOnly: false });
    const completed = await raw.waitFor((f) => f[0] === "101");

    // The first filled OPEN_ORDER: the capture's at 173 has the same fields as at 176.
    const mockOpen = raw.messages
      .filter((f) => f[0] === "5")
      .map((f) => fromFields(OPEN_ORDER, f, 176))
      .find((o) => o.status === "Filled");
    const cap = capture("rust-ibapi-2025-aapl-market-order-v173.json");
    const realOpen = cap.messages
      .filter((m) => m.name === "OPEN_ORDER")
      .map((m) => fromFields(OPEN_ORDER, m.fields, 173))
      .find((o) => o.status === "Filled");
    const perOrder = (o: typeof mockOpen) => ({
      ...o,
      orderId: 0,
      permId: 0,
      unmodeled: { ...o?.unmodeled, sharesAllocation: "" },
    });
    expect(perOrder(mockOpen)).toEqual(perOrder(realOpen));

    // The fill: everything but ids, time, venue and price; the commission report but its id.
    const fill = (f: readonly string[] | undefined, v: number) => {
      const { execution: e } = fromFields(EXECUTION_DATA, f ?? [], v);
      return {
        ...e,
        orderId: 0,
        permId: 0,
        execId: "",
        time: "",
        exchange: "",
        contract: { ...e.contract, exchange: "" },
        price: 0,
        avgPrice: 0,
      };
    };
    const realFill = cap.messages.find((m) => m.name === "EXECUTION_DATA")?.fields;
    expect(
      fill(
        raw.messages.find((f) => f[0] === "11"),
        176,
      ),
    ).toEqual(fill(realFill, 173));
    const status = (f: readonly string[] | undefined, v: number) => ({
      ...fromFields(ORDER_STATUS, f ?? [], v),
      orderId: 0,
      permId: 0,
      avgFillPrice: 0,
      lastFillPrice: 0,
    });
    const filled = (f: readonly string[]) => f[0] === "3" && f[2] === "Filled";
    const realStatus = cap.messages.find((m) => filled(m.fields))?.fields;
    expect(status(raw.messages.find(filled), 176)).toEqual(status(realStatus, 173));
    const tsla = capture("rust-ibapi-2023-tsla-market-order-v165.json");
    const report = (f: readonly string[] | undefined, v: number) => ({
      ...fromFields(COMMISSION_REPORT, f ?? [], v),
      execId: "",
    });
    const realReport = tsla.messages.find((m) => m.name === "COMMISSION_REPORT")?.fields;
    expect(
      report(
        raw.messages.find((f) => f[0] === "59"),
        176,
      ),
    ).toEqual(report(realReport, 165));

    // COMPLETED_ORDER against a real one at 176: every field that order did not set itself.
    const mym = capture("ib_insync-issue-523-mym-completed-order-v176.json");
    const real = fromFields(COMPLETED_ORDER, mym.messages[0]?.fields ?? [], 176).unmodeled;
    const mock = fromFields(COMPLETED_ORDER, completed, 176).unmodeled;
    const own = new Set(["ocaGroup", "outsideRth", "rule80A", "adjustedTrailStopPrice", "parentPermId"]);
    const plain = (u: Readonly<Record<string, string>>) =>
      Object.fromEntries(Object.entries(u).filter(([k]) => !own.has(k)));
    expect(plain(mock)).toEqual(plain(real));
  });
});
