/**
 * Every request has an outcome, across any number of reconnects: one @stoqey/ib client with
 * 60 market-data subscriptions through the proxy while the gateway goes down and comes back
 * and sends 1101. After each recovery every subscription ticks again and the pacer holds
 * exactly as many market-data lines as the gateway has live market-data requests; with fewer
 * lines than subscriptions, the ones that cannot be restored hear an error under their own
 * id; a delayed-data client stays delayed.
 */
import { type Contract, EventName, SecType } from "@stoqey/ib";
import { afterEach, describe, expect, it } from "vitest";
import { RawClient } from "../mock/raw-client.test-util.js";
import { connectStoqey, type StoqeyClient } from "../mock/stoqey-client.test-util.js";
import { resolveRules } from "../pacing/rules.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { contract } from "../protocol/messages/contract.js";
import { isTick, mktData, type ProxyStack, startProxyStack, until } from "./test-stack.test-util.js";

const SYMBOLS = [
  ...["AAPL", "MSFT", "SPY", "AMZN", "GOOGL", "TSLA", "NVDA", "META", "IBM", "QQQ"],
  ...["INTC", "CSCO", "AMD", "NFLX", "BAC", "JPM", "KO", "XOM", "WMT", "DIS"],
];
/**
 * Ids 1..60 ask for 60 different streams (symbol × generic-tick list): identical requests would
 * share one upstream request, and these tests count one line per subscription.
 */
const generic = (i: number): string => ["", "233", "236"][Math.floor(i / SYMBOLS.length) % 3] as string;
const stock = (i: number): Contract => ({
  symbol: SYMBOLS[i % SYMBOLS.length] as string,
  secType: SecType.STK,
  exchange: "SMART",
  currency: "USD",
});
const WAIT = 30_000;

const cleanup: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c.close();
});

/** The last tick sequence number seen per ticker id, to tell ticks after a mark. */
function watchTicks(c: StoqeyClient): { last: Map<number, number>; seq: () => number } {
  const last = new Map<number, number>();
  let seq = 0;
  const on = (id: number) => last.set(id, ++seq);
  c.api.on(EventName.tickPrice, on);
  c.api.on(EventName.tickSize, on);
  return { last, seq: () => seq };
}

const heldLines = (s: ProxyStack): number =>
  s.pacer.snapshot().rules.find((r) => r.ruleId === "marketDataLines")?.used ?? -1;
const upstreamLines = (s: ProxyStack): number =>
  s.mock.snapshot().subscriptionList.filter((x) => x.kind === "marketData").length;

async function recovered(s: ProxyStack, generation: number): Promise<void> {
  await until(() => s.line.generation > generation && s.line.state === "ready", "the line back", WAIT);
}

describe("subscriptions across reconnects", () => {
  it("60 subscriptions of one @stoqey/ib client survive five down/up cycles and two 1101s", async () => {
    const s = await startProxyStack({ mock: { tickIntervalMs: 100 } });
    cleanup.push(s);
    const c = await connectStoqey(s.port, 7, (x) => cleanup.push(x));
    const ticks = watchTicks(c);
    const ids = Array.from({ length: 60 }, (_, i) => i + 1);
    for (const id of ids) c.api.reqMktData(id, stock(id), generic(id), false, false);

    const allTickAfter = async (mark: number, what: string) => {
      await until(() => ids.every((id) => (ticks.last.get(id) ?? 0) > mark), what, WAIT).catch(() => {
        const silent = ids.filter((id) => (ticks.last.get(id) ?? 0) <= mark);
        throw new Error(
          `${what}: ${silent.length} of 60 silent (held lines ${heldLines(s)}, upstream ${upstreamLines(s)})`,
        );
      });
    };
    const linesMatch = async (what: string) => {
      await until(() => upstreamLines(s) === 60 && heldLines(s) === 60, what, WAIT).catch(() => {
        throw new Error(
          `${what}: held lines ${heldLines(s)}, upstream market-data requests ${upstreamLines(s)}`,
        );
      });
      expect(heldLines(s)).toBe(upstreamLines(s));
    };
    await allTickAfter(0, "first ticks");
    await linesMatch("at start");

    const faults = ["down", "down", "1101", "down", "down", "1101", "down"] as const;
    for (const [n, fault] of faults.entries()) {
      const before = new Set(s.mock.snapshot().subscriptionList.map((x) => x.reqId));
      if (fault === "down") {
        const generation = s.line.generation;
        await s.mock.down(600);
        await recovered(s, generation);
      } else {
        s.mock.injectError({ code: 1101 });
      }
      // Restored upstream under fresh ids; only then do ticks prove the restoration.
      await until(
        () => {
          const list = s.mock.snapshot().subscriptionList;
          return list.length === 60 && list.every((x) => !before.has(x.reqId));
        },
        `cycle ${n + 1} (${fault}): subscriptions restored upstream`,
        WAIT,
      ).catch(() => {
        throw new Error(
          `cycle ${n + 1} (${fault}): upstream has ${upstreamLines(s)} of 60, held lines ${heldLines(s)}`,
        );
      });
      await allTickAfter(ticks.seq(), `cycle ${n + 1} (${fault})`);
      await linesMatch(`cycle ${n + 1} (${fault})`);
    }
    // Nothing was refused on the way: no error names any of the 60.
    expect(c.errors.filter((e) => ids.includes(e.reqId))).toEqual([]);
  }, 180_000);

  it("with fewer lines than subscriptions, those that cannot be restored get an error under their own id", async () => {
    const override = { rules: { marketDataLines: { limit: 40 } } };
    const s = await startProxyStack({
      mock: { tickIntervalMs: 100, pacingRules: override },
      pacer: { rules: resolveRules({ override }) },
      switch: { queueTimeoutMs: 4_000 },
    });
    cleanup.push(s);
    const c = await connectStoqey(s.port, 8, (x) => cleanup.push(x));
    const ticks = watchTicks(c);
    const book = Array.from({ length: 40 }, (_, i) => i + 1);
    const waiting = Array.from({ length: 10 }, (_, i) => i + 41);
    const duringOutage = Array.from({ length: 10 }, (_, i) => i + 51);
    for (const id of [...book, ...waiting]) c.api.reqMktData(id, stock(id), generic(id), false, false);
    await until(() => book.every((id) => ticks.last.has(id)), "the first 40 tick", WAIT);

    const generation = s.line.generation;
    await s.mock.down(800);
    await until(() => s.line.state !== "ready", "the line down", WAIT);
    for (const id of duringOutage) c.api.reqMktData(id, stock(id), generic(id), false, false);
    await recovered(s, generation);
    await until(
      () => s.mock.snapshot().subscriptionList.length === 40,
      "the book restored upstream",
      WAIT,
    ).catch(() => {
      throw new Error(`upstream has ${upstreamLines(s)} of 40, held lines ${heldLines(s)}`);
    });
    const mark = ticks.seq();

    // Every one of the 60 has an outcome: the restored 40 tick, the other 20 hear 101.
    const others = [...waiting, ...duringOutage];
    const errored = (id: number) => c.errors.filter((e) => e.reqId === id);
    await until(
      () =>
        book.every((id) => (ticks.last.get(id) ?? 0) > mark) && others.every((id) => errored(id).length > 0),
      "an outcome for every subscription",
      WAIT,
    ).catch(() => {
      const silent = [...book, ...others].filter(
        (id) => (ticks.last.get(id) ?? 0) <= mark && errored(id).length === 0,
      );
      throw new Error(
        `no outcome for ids ${silent.join(",")} (held ${heldLines(s)}, upstream ${upstreamLines(s)})`,
      );
    });
    for (const id of book) expect(errored(id)).toEqual([]);
    for (const id of others) expect(errored(id).map((e) => e.code)).toEqual([101]);
    expect(heldLines(s)).toBe(40);
    expect(upstreamLines(s)).toBe(40);
  }, 120_000);

  it("a delayed-data client stays delayed after a reconnect under load", async () => {
    const s = await startProxyStack({ mock: { tickIntervalMs: 100 } });
    cleanup.push(s);
    // The load: another client's 40 live streams are replayed at the same time.
    const busy = await connectStoqey(s.port, 9, (x) => cleanup.push(x));
    const busyTicks = watchTicks(busy);
    for (let id = 1; id <= 40; id++) busy.api.reqMktData(id, stock(id), generic(id), false, false);
    const delayed = await RawClient.connect(s.port, { clientId: 10 });
    cleanup.push(delayed);
    delayed.sendFields([String(OUT.REQ_MARKET_DATA_TYPE), "1", "3"]);
    delayed.sendFields(
      mktData(1, contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" })),
    );
    const typeOf = (f: string[]) => Number(f[0]) === IN.MARKET_DATA_TYPE && f[2] === "1";
    const first = await delayed.waitFor(typeOf, WAIT);
    expect(first[3]).toBe("3");
    await until(() => busyTicks.last.size === 40, "the load streams", WAIT);

    for (let cycle = 0; cycle < 2; cycle++) {
      const mark = delayed.messages.length;
      const generation = s.line.generation;
      await s.mock.down(600);
      await recovered(s, generation);
      const again = await delayed.waitFor((f) => delayed.messages.indexOf(f) >= mark && typeOf(f), WAIT);
      expect(again[3]).toBe("3");
      await delayed.waitFor(
        (f) => delayed.messages.indexOf(f) > delayed.messages.indexOf(again) && isTick(1)(f),
        WAIT,
      );
    }
    // The live client's streams stayed live.
    expect(busy.errors.filter((e) => e.reqId > 0)).toEqual([]);
  }, 120_000);
});
