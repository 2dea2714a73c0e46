// Subscriptions across reconnects, over time: one @stoqey/ib client holds 60 market-data
// subscriptions through the proxy while the gateway alternately goes down for 1 s and sends
// 1101, one fault every 5 s. After each cycle it records how long until all 60 ticked again,
// the market-data lines the pacer holds and the gateway's live market-data requests (the two
// must be equal), and the RSS and heap of this process (line + pacer + switch + proxy and
// the client; the mock runs in a process of its own). Reports start and end memory.
//
// Default run: 60 s (BENCH_RECONNECT_MS). The 10-minute run:
//   BENCH_RECONNECT_MS=600000 node bench/reconnect.bench.mjs
// (run it alone: `npm run bench` gives each bench at most 10 minutes in all).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { report } from "./lib.mjs";
import { startBenchProxy } from "./wire.mjs";

const RUN_MS = Number(process.env.BENCH_RECONNECT_MS ?? 60_000);
const CYCLE_MS = Number(process.env.BENCH_RECONNECT_CYCLE_MS ?? 5_000);
const DOWN_MS = 1_000;
const SUBSCRIPTIONS = 60;
/** A cycle that does not recover within this is recorded as not recovered (the bench goes on). */
const RECOVERY_LIMIT_MS = 20_000;
const SYMBOLS = ["AAPL", "MSFT", "SPY", "AMZN", "GOOGL", "TSLA", "NVDA", "META", "IBM", "QQQ"];

async function serveMock() {
  const { MockGateway } = await import("../dist/mock/index.js");
  const gw = new MockGateway({ port: 0, controlPort: 0, tickIntervalMs: 100 });
  const info = await gw.start();
  process.stdout.write(`${JSON.stringify(info)}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => void gw.close().then(() => process.exit(0)));
}

function startMock() {
  const p = spawn(process.execPath, [fileURLToPath(import.meta.url), "mock"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const info = new Promise((resolve, reject) => {
    let buf = "";
    p.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    p.once("exit", (code) => reject(new Error(`mock exited ${code}`)));
  });
  return { info, stop: () => new Promise((r) => (p.once("exit", r), p.stdin.end())) };
}

async function control(port, method, path, body) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : undefined,
    body: body ? JSON.stringify(body) : undefined,
  });
  return (await res.json()).data;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const memory = () => {
  const m = process.memoryUsage();
  return { rssMb: +(m.rss / 2 ** 20).toFixed(1), heapUsedMb: +(m.heapUsed / 2 ** 20).toFixed(1) };
};

async function main() {
  const { EventName, IBApi, SecType } = await import("@stoqey/ib");

  const mock = startMock();
  const { port: mockPort, controlPort } = await mock.info;
  const { port, pacer, close } = await startBenchProxy(mockPort, {
    backoffInitialMs: 50,
    backoffMaxMs: 500,
    fastProbeIntervalMs: 100,
  });

  const api = new IBApi({ host: "127.0.0.1", port });
  const last = new Map();
  let seq = 0;
  const onTick = (id) => last.set(id, ++seq);
  api.on(EventName.tickPrice, onTick);
  api.on(EventName.tickSize, onTick);
  const errors = [];
  api.on(EventName.error, (_err, code, reqId) => reqId > 0 && errors.push({ code, reqId }));
  await new Promise((resolve) => {
    api.once(EventName.nextValidId, resolve);
    api.connect(7);
  });
  const ids = Array.from({ length: SUBSCRIPTIONS }, (_, i) => i + 1);
  for (const id of ids) {
    const symbol = SYMBOLS[id % SYMBOLS.length];
    api.reqMktData(
      id,
      { symbol, secType: SecType.STK, exchange: "SMART", currency: "USD" },
      "",
      false,
      false,
    );
  }

  const heldLines = () => pacer.snapshot().rules.find((r) => r.ruleId === "marketDataLines")?.used ?? null;
  const upstream = async () =>
    (await control(controlPort, "GET", "/state")).subscriptionList.filter((s) => s.kind === "marketData")
      .length;
  /** Wait until every id ticked after `mark`; ms taken, or null past the limit. */
  const allTick = async (mark, from) => {
    while (!ids.every((id) => (last.get(id) ?? 0) > mark)) {
      if (performance.now() - from > RECOVERY_LIMIT_MS) return null;
      await sleep(20);
    }
    return Math.round(performance.now() - from);
  };

  await allTick(0, performance.now());
  await sleep(500);
  global.gc?.();
  const start = memory();
  const cycles = [];
  const began = performance.now();
  for (let n = 0; performance.now() - began < RUN_MS; n++) {
    const fault = n % 2 === 0 ? "down" : "1101";
    const from = performance.now();
    const mark = seq;
    if (fault === "down") await control(controlPort, "POST", "/faults/down", { ms: DOWN_MS });
    else await control(controlPort, "POST", "/faults/error", { code: 1101 });
    // Ticks already on the wire before the fault do not count: wait out the fault first.
    await sleep(fault === "down" ? DOWN_MS : 200);
    const recoveredMs = await allTick(Math.max(mark, seq), from);
    await sleep(300);
    cycles.push({
      fault,
      recoveredMs,
      heldLines: heldLines(),
      upstreamLines: await upstream(),
      ...memory(),
    });
    const rest = CYCLE_MS - (performance.now() - from);
    if (rest > 0) await sleep(rest);
  }
  global.gc?.();
  const end = memory();
  // Requests the gateway refused for the 50 msg/s rule (error 100 under id -1) never start.
  const { counters: mockCounters } = await control(controlPort, "GET", "/state");
  api.disconnect();
  await close();
  await mock.stop();

  const recovered = cycles.filter((c) => c.recoveredMs !== null);
  report("reconnect", {
    runMs: RUN_MS,
    subscriptions: SUBSCRIPTIONS,
    cycles: cycles.length,
    allRecovered: recovered.length === cycles.length,
    linesMatchEveryCycle: cycles.every(
      (c) => c.heldLines === c.upstreamLines && c.upstreamLines === SUBSCRIPTIONS,
    ),
    recoveryMs: {
      max: recovered.length ? Math.max(...recovered.map((c) => c.recoveredMs)) : null,
      mean: recovered.length
        ? Math.round(recovered.reduce((s, c) => s + c.recoveredMs, 0) / recovered.length)
        : null,
    },
    heldLinesAfterEachCycle: cycles.map((c) => c.heldLines),
    upstreamLinesAfterEachCycle: cycles.map((c) => c.upstreamLines),
    errorsUnderSubscriptionIds: errors.length,
    mockCounters,
    memory: { start, end },
    perCycle: cycles,
  });
  process.exit(0);
}

if (process.argv[2] === "mock") await serveMock();
else await main();
