/**
 * Download hourly bars as CSV. Requests pass the pacer, so a long backfill never trips
 * IB's historical-data pacing rules.
 *   npx tsx examples/history-download.ts SPY "1 W" "1 hour" > spy.csv
 */
import { Switchboard } from "ib-switchboard";

const [symbol = "SPY", duration = "1 W", barSize = "1 hour"] = process.argv.slice(2);
const port = Number(process.env.IB_PORT ?? 4002);

await using sb = await Switchboard.connect({
  line: { host: "127.0.0.1", port, clientId: Number(process.env.IB_CLIENT_ID ?? 12) },
});
await using client = await sb.acquire("workers");

const [contract] = await client.qualifyContracts([
  { symbol, secType: "STK", exchange: "SMART", currency: "USD" },
]);
const bars = await client.historicalBars({
  contract: contract ?? { symbol },
  duration,
  barSize,
  whatToShow: "TRADES",
  useRTH: false,
});
console.log("time,open,high,low,close,volume");
for (const b of bars) console.log([b.time, b.open, b.high, b.low, b.close, b.volume].join(","));
