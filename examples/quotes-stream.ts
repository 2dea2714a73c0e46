/**
 * Stream quotes for a symbol through one managed line.
 *   npx switchboard mock-gateway --port 4002 &      # or a real TWS / IB Gateway
 *   npx tsx examples/quotes-stream.ts AAPL
 */
import { Switchboard } from "ib-switchboard";

const symbol = process.argv[2] ?? "AAPL";
const port = Number(process.env.IB_PORT ?? 4002);
const count = Number(process.env.QUOTES ?? 5);

await using sb = await Switchboard.connect({
  line: { host: "127.0.0.1", port, clientId: Number(process.env.IB_CLIENT_ID ?? 11) },
});
await using client = await sb.acquire("price-agent");

let n = 0;
for await (const q of client.subscribeQuotes({
  symbol,
  secType: "STK",
  exchange: "SMART",
  currency: "USD",
})) {
  console.log(JSON.stringify(q));
  if (++n >= count) break; // leaving the loop cancels the subscription upstream
}
