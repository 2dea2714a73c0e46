/**
 * Fan-out through the proxy with @stoqey/ib as the clients: 50 of them watch the same 20
 * stocks over one upstream connection that holds 20 market-data lines, not 1,000.
 * What reached the gateway is read from the mock's own `subscriptionList` and
 * `historyRequests`; what each client got, from its own events.
 */
import { type Contract, EventName, IBApi, SecType } from "@stoqey/ib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyStack, startProxyStack, until } from "./test-stack.test-util.js";

const SYMBOLS = [
  ...["AAPL", "MSFT", "SPY", "AMZN", "GOOGL", "TSLA", "NVDA", "META", "IBM", "QQQ"],
  ...["INTC", "CSCO", "AMD", "NFLX", "BAC", "JPM", "KO", "XOM", "WMT", "DIS"],
];
const N = 50;
const stock = (symbol: string): Contract => ({
  symbol,
  secType: SecType.STK,
  exchange: "SMART",
  currency: "USD",
});

interface Client {
  api: IBApi;
  clientId: number;
  /** Ticker id → symbol, for the ids this client subscribed. */
  ids: Map<number, string>;
  /** Ticker id → price ticks seen (tick type, in order). */
  ticks: Map<number, number[]>;
  /** Every event for a ticker id, in order (name:tickType). */
  events: Map<number, string[]>;
  /** Ticks for ids this client never asked for. */
  foreign: number;
  errors: { code: number; reqId: number }[];
}

let s: ProxyStack | undefined;
const clients: Client[] = [];
afterAll(async () => {
  for (const c of clients) c.api.disconnect();
  await s?.close();
});

function connect(port: number, clientId: number): Promise<Client> {
  const api = new IBApi({ host: "127.0.0.1", port });
  const c: Client = {
    api,
    clientId,
    ids: new Map(),
    ticks: new Map(),
    events: new Map(),
    foreign: 0,
    errors: [],
  };
  clients.push(c);
  const note = (id: number, what: string) => {
    if (!c.ids.has(id)) return false;
    const list = c.events.get(id) ?? [];
    list.push(what);
    c.events.set(id, list);
    return true;
  };
  api.on(EventName.tickPrice, (id: number, type: number) => {
    if (!note(id, `price:${type}`)) {
      c.foreign++;
      return;
    }
    const list = c.ticks.get(id) ?? [];
    list.push(type);
    c.ticks.set(id, list);
  });
  api.on(EventName.tickReqParams, (id: number) => void note(id, "params"));
  api.on(EventName.marketDataType, (id: number) => void note(id, "type"));
  api.on(EventName.error, (_err: Error, code: number, reqId: number) => c.errors.push({ code, reqId }));
  return new Promise((resolve) => {
    api.once(EventName.nextValidId, () => resolve(c));
    api.connect(clientId);
  });
}

/** Each client has its own ids for the same 20 symbols (client k: k*100 + i). */
function subscribeAll(c: Client): void {
  SYMBOLS.forEach((symbol, i) => {
    const id = c.clientId * 100 + i;
    c.ids.set(id, symbol);
    c.api.reqMktData(id, stock(symbol), "", false, false);
  });
}

const ticked = (c: Client, from: Map<number, number>) =>
  [...c.ids.keys()].every((id) => (c.ticks.get(id)?.length ?? 0) > (from.get(id) ?? 0));
const tickCounts = (c: Client) => new Map([...c.ids.keys()].map((id) => [id, c.ticks.get(id)?.length ?? 0]));
const marketData = () =>
  (s as ProxyStack).mock.snapshot().subscriptionList.filter((x) => x.kind === "marketData");

/** Everything written before it has reached the gateway once its answer is back. */
async function barrier(c: Client): Promise<void> {
  const time = new Promise<number>((r) => c.api.once(EventName.currentTime, r));
  c.api.reqCurrentTime();
  await time;
}

describe(`${N} @stoqey/ib clients × ${SYMBOLS.length} symbols through the proxy`, () => {
  beforeAll(async () => {
    // A slow tick round keeps 50 × 20 streams light on a shared machine.
    s = await startProxyStack({ mock: { tickIntervalMs: 400 } });
    const stack = s;
    const all = await Promise.all(Array.from({ length: N }, (_, i) => connect(stack.port, i + 1)));
    for (const c of all) subscribeAll(c);
    const zero = new Map<number, number>();
    await until(() => all.every((c) => ticked(c, zero)), "every client ticking on its 20 ids", 20_000);
  }, 30_000);

  it("holds 20 lines at the gateway and every client gets all 20 symbols under its own ids", async () => {
    const lines = marketData();
    expect(lines).toHaveLength(20);
    expect(new Set(lines.map((l) => l.conId)).size).toBe(20);
    for (const c of clients) {
      expect(c.foreign).toBe(0);
      expect(c.errors.filter((e) => e.code === 505 || e.code === 101)).toEqual([]);
    }
    const snap = (s as ProxyStack).sw.snapshot();
    expect(snap.groups.filter((g) => g.request === "REQ_MKT_DATA").map((g) => g.members)).toEqual(
      Array.from({ length: 20 }, () => N),
    );
    expect(snap.linesSaved).toBe(20 * (N - 1));
  });

  it("gives a late joiner the current bid, ask and last at once, in the shape of a new subscription", async () => {
    const stack = s as ProxyStack;
    const late = await connect(stack.port, 99);
    // A frozen gateway sends nothing: what the late joiner gets comes from the group.
    stack.mock.stall(5_000);
    late.ids.set(7, "AAPL");
    late.api.reqMktData(7, stock("AAPL"), "", false, false);
    await until(() => [1, 2, 4].every((t) => late.ticks.get(7)?.includes(t)), "bid, ask and last", 4_000);
    expect(stack.mock.snapshot().faults.stalledUntil).not.toBeNull();
    // As TWS starts a stream: its parameters and the market-data type, then the ticks.
    expect(late.events.get(7)?.slice(0, 2)).toEqual(["params", "type"]);
    await stack.mock.clearFaults();
    await barrier(late);
    expect(marketData()).toHaveLength(20);
    late.api.cancelMktData(7);
  });

  it("after a 1101 every client's 20 streams come back with 20 upstream requests", async () => {
    const stack = s as ProxyStack;
    const before = new Set(marketData().map((l) => l.reqId));
    const counts = new Map(clients.slice(0, N).map((c) => [c, tickCounts(c)]));
    stack.mock.injectError({ code: 1101 });
    await until(
      () => clients.slice(0, N).every((c) => ticked(c, counts.get(c) as Map<number, number>)),
      "every stream ticking again",
      20_000,
    );
    await barrier(clients[0] as Client);
    const after = marketData();
    expect(after).toHaveLength(20);
    // Fresh upstream ids: each is a request written after the 1101.
    expect(after.filter((l) => before.has(l.reqId))).toEqual([]);
  });

  it("keeps a stream upstream until the last member leaves", async () => {
    const aapl = 265598;
    const aaplId = (c: Client) => c.clientId * 100;
    for (const c of clients.slice(0, N - 1)) c.api.cancelMktData(aaplId(c));
    for (const c of clients.slice(0, N - 1)) await barrier(c);
    expect(marketData().filter((l) => l.conId === aapl)).toHaveLength(1);
    const last = clients[N - 1] as Client;
    last.api.cancelMktData(aaplId(last));
    await until(() => marketData().every((l) => l.conId !== aapl), "AAPL cancelled upstream");
    expect(marketData()).toHaveLength(19);
  });

  it("asks the gateway once for a history request repeated by 10 clients within 15 s", async () => {
    const stack = s as ProxyStack;
    const before = stack.mock.snapshot().historyRequests.length;
    const ask = (c: Client) =>
      new Promise<number>((resolve) => {
        let bars = 0;
        c.api.on(EventName.historicalData, (id: number, time: string) => {
          if (id !== 5) return;
          if (time.startsWith("finished")) resolve(bars);
          else bars++;
        });
        c.api.reqHistoricalData(
          5,
          stock("MSFT"),
          "",
          "1 D",
          "5 mins" as never,
          "TRADES" as never,
          0,
          1,
          false,
        );
      });
    // Five together (one in flight), then five more after the answer (the kept answer).
    const first = await Promise.all(clients.slice(0, 5).map(ask));
    const then = await Promise.all(clients.slice(5, 10).map(ask));
    expect([...first, ...then]).toEqual(Array.from({ length: 10 }, () => 84));
    expect(stack.mock.snapshot().historyRequests.length - before).toBe(1);
  });
});
