import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isSwitchboardError } from "../errors.js";
import { MockGateway } from "../mock/gateway.js";
import { Switchboard } from "./pool.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

let mock: MockGateway;
let sb: Switchboard | undefined;

beforeEach(async () => {
  mock = new MockGateway({ port: 0, controlPort: null, tickIntervalMs: 50, now: TEST_NOW });
  await mock.start();
});

afterEach(async () => {
  await sb?.close();
  sb = undefined;
  await mock.close();
});

const connect = (extra: Partial<Parameters<typeof Switchboard.connect>[0]> = {}) =>
  Switchboard.connect({
    line: { host: "127.0.0.1", port: mock.port, clientId: 3, backoffInitialMs: 50, fastProbeIntervalMs: 100 },
    ...extra,
  });

describe("Switchboard pool and typed client against the mock gateway", () => {
  it("qualifies contracts, with a cache, and maps an unknown symbol to not_found (IB 200)", async () => {
    sb = await connect();
    await using c = await sb.acquire("ui");
    const [aapl, msft] = await c.qualifyContracts([
      { symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" },
      { symbol: "MSFT", secType: "STK", exchange: "SMART", currency: "USD" },
    ]);
    expect(aapl?.conId).toBeGreaterThan(0);
    expect(msft?.symbol).toBe("MSFT");
    const before = mock.snapshot().counters.requests;
    await c.qualifyContracts([{ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" }]);
    expect(mock.snapshot().counters.requests).toBe(before);
    const err = await c
      .qualifyContracts([{ symbol: "NOPE", secType: "STK", exchange: "SMART", currency: "USD" }])
      .catch((e: unknown) => e);
    expect(isSwitchboardError(err) && err.code === "not_found" && err.ibCode === 200).toBe(true);
  });

  it("downloads historical bars, the head timestamp, a quote, positions, account summary and current time", async () => {
    sb = await connect();
    await using c = await sb.acquire("workers");
    const contract = { symbol: "SPY", secType: "STK", exchange: "SMART", currency: "USD" };
    const bars = await c.historicalBars({
      contract,
      duration: "1 W",
      barSize: "1 hour",
      whatToShow: "TRADES",
      useRTH: false,
    });
    expect(bars.length).toBeGreaterThan(0);
    for (const b of bars) {
      expect(b.high).toBeGreaterThanOrEqual(b.low);
      // The API's shape: numbers and an ISO time, not IB's strings.
      expect(typeof b.volume).toBe("number");
      expect(typeof b.wap).toBe("number");
      expect(new Date(b.time).toISOString()).toBe(b.time);
    }
    expect(Number(await c.headTimestamp({ contract }))).toBeGreaterThan(0);
    const q = await c.quote(contract);
    expect(q.symbol).toBe("SPY");
    expect(q.bid ?? q.last).not.toBeNull();
    expect((await c.positions()).length).toBeGreaterThan(0);
    const summary = await c.accountSummary("NetLiquidation");
    expect(summary.some((s) => s.tag === "NetLiquidation")).toBe(true);
    expect(await c.currentTime()).toBeGreaterThan(1_600_000_000);
  });

  it("tells a duration beyond IB's step table as a clear error naming it, never retried", async () => {
    sb = await connect();
    await using c = await sb.acquire("workers");
    const contract = { symbol: "SPY", secType: "STK", exchange: "SMART", currency: "USD" };
    const err = await c
      .historicalBars({ contract, duration: "5 D", barSize: "1 min", useRTH: false })
      .catch((e: unknown) => e);
    expect(isSwitchboardError(err) && [err.code, err.field, err.ibCode]).toEqual([
      "invalid_argument",
      "duration",
      162,
    ]);
    expect(String((err as Error).message)).toContain('duration "5 D"');
    expect(String((err as Error).message)).toContain("1 D, 1440 bars");
    // Asked once: an invalid request is not a pacing problem to retry.
    expect(mock.snapshot().historyRequests.map((e) => e.answer)).toEqual([162]);
    // At TEST_NOW (11:00 New York) 1 D is the session so far: 90 regular-hours bars.
    expect(await c.historicalBars({ contract, duration: "1 D", barSize: "1 min" })).toHaveLength(90);
  });

  it("streams quotes and cancels upstream when the loop ends", async () => {
    sb = await connect();
    const c = await sb.acquire("agents");
    let n = 0;
    for await (const q of c.subscribeQuotes({
      symbol: "AAPL",
      secType: "STK",
      exchange: "SMART",
      currency: "USD",
    })) {
      expect(q.symbol).toBe("AAPL");
      if (++n >= 3) break;
    }
    await waitFor(() => mock.snapshot().subscriptionList.length === 0);
    await c.close();
  });

  it("enforces a per-purpose limit and frees the place on dispose", async () => {
    sb = await connect({ purposeLimits: { checks: 1 } });
    const first = await sb.acquire("checks");
    const err = await sb.acquire("checks").catch((e: unknown) => e);
    expect(isSwitchboardError(err) && err.code === "range_exhausted").toBe(true);
    await first.close();
    const again = await sb.acquire("checks");
    expect(sb.snapshot().purposes).toEqual([{ purpose: "checks", clients: 1, limit: 1 }]);
    await again.close();
  });

  it("times out and aborts with typed errors", async () => {
    sb = await connect();
    await using c = await sb.acquire("ui");
    mock.stall(60_000);
    const t = await c.currentTime({ timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isSwitchboardError(t) && t.code === "timeout").toBe(true);
    const ac = new AbortController();
    const p = c
      .contractDetails({ symbol: "AAPL", secType: "STK" }, { signal: ac.signal })
      .catch((e: unknown) => e);
    ac.abort();
    const a = await p;
    expect(isSwitchboardError(a) && a.code === "aborted").toBe(true);
    await mock.clearFaults();
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
