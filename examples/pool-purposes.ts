/**
 * Several jobs with different purposes share one line: a UI reading quotes, workers
 * qualifying contracts, a status check asking for the time. One client id upstream.
 *   npx tsx examples/pool-purposes.ts
 */
import { Switchboard } from "ib-switchboard";

const port = Number(process.env.IB_PORT ?? 4002);
await using sb = await Switchboard.connect({
  line: { host: "127.0.0.1", port, clientId: Number(process.env.IB_CLIENT_ID ?? 13) },
  purposeLimits: { ui: 2, workers: 8, checks: 1 },
});

async function ui(): Promise<string> {
  await using c = await sb.acquire("ui");
  const q = await c.quote({ symbol: "MSFT", secType: "STK", exchange: "SMART", currency: "USD" });
  return `ui: MSFT bid ${q.bid} ask ${q.ask}`;
}

async function worker(symbol: string): Promise<string> {
  await using c = await sb.acquire("workers");
  const [contract] = await c.qualifyContracts([
    { symbol, secType: "STK", exchange: "SMART", currency: "USD" },
  ]);
  return `worker: ${symbol} → conId ${contract?.conId}`;
}

async function check(): Promise<string> {
  await using c = await sb.acquire("checks");
  return `check: TWS time ${new Date((await c.currentTime()) * 1000).toISOString()}`;
}

for (const line of await Promise.all([ui(), worker("AAPL"), worker("SPY"), worker("QQQ"), check()]))
  console.log(line);
const snap = sb.snapshot();
console.log(
  `line ${snap.line.state} as client id ${snap.line.clientId}; tenants now: ${snap.switch.tenants.length}`,
);
