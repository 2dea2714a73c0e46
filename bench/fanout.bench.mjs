// Fan-out: 50 clients each watching the same 20 US stocks, through the proxy (one upstream
// connection, one line per symbol) vs straight to the mock (50 connections, which hit IB's
// 100-line budget: error 101). Upstream lines used and ticks delivered per second on each
// path; the proxy process's CPU per 100k ticks fanned out; then the proxy's RSS with 200
// clients × 20 symbols (goal ≤ 150 MB) at an IB-like quote rate (TWS sends a stock's top of
// book about every 250 ms): at the throughput phase's rate, 200 × 20 streams ask for about a
// million messages a second, more than 200 local readers take, and the RSS would measure the
// per-downstream write buffers (bounded at 8 MB each), not the proxy. The mock and the proxy
// each run in a child process; the clients run here. One run.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { report } from "./lib.mjs";
import { child, cpuMs, mktData, openClient, pause, rssMb } from "./wire.mjs";

const CLIENTS = 50;
const MANY = 200;
const TICK_MS = Number(process.env.BENCH_FANOUT_TICK_MS ?? 20);
const MEMORY_TICK_MS = Number(process.env.BENCH_FANOUT_MEMORY_TICK_MS ?? 250);
const WINDOW_MS = Number(process.env.BENCH_FANOUT_WINDOW_MS ?? 3_000);
const SYMBOLS = [
  ...["AAPL", "MSFT", "SPY", "AMZN", "GOOGL", "TSLA", "NVDA", "META", "IBM", "QQQ"],
  ...["INTC", "CSCO", "AMD", "NFLX", "BAC", "JPM", "KO", "XOM", "WMT", "DIS"],
];
const script = fileURLToPath(import.meta.url);

// ── child processes ───────────────────────────────────────────────────────────────────────

/** The mock; answers "state" with its market-data lines and ticks pushed so far. */
async function serveMock(tickIntervalMs) {
  const { MockGateway } = await import("../dist/mock/index.js");
  const gw = new MockGateway({ port: 0, controlPort: null, maxClients: 300, tickIntervalMs });
  const { port } = await gw.start();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  let buf = "";
  process.stdin.on("data", (d) => {
    buf += d;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      buf = buf.slice(nl + 1);
      const lines = gw.snapshot().subscriptionList.filter((s) => s.kind === "marketData").length;
      process.stdout.write(`${JSON.stringify({ lines })}\n`);
    }
  });
  process.stdin.on("end", () => void gw.close().then(() => process.exit(0)));
}

/** Line + pacer + switch + proxy; answers "state" with the switch's groups. */
async function serveProxy(mockPort) {
  const { Line } = await import("../dist/line/index.js");
  const { Pacer } = await import("../dist/pacing/index.js");
  const { Switch } = await import("../dist/switch/index.js");
  const { ProxyServer } = await import("../dist/proxy/index.js");
  const line = new Line({ host: "127.0.0.1", port: mockPort, clientId: 1 });
  line.start();
  await line.ready({ timeoutMs: 10_000 });
  const pacer = new Pacer();
  const sw = new Switch(line, pacer);
  const proxy = new ProxyServer(sw, { port: 0, pacer, maxDownstreams: 1_000 });
  const { port } = await proxy.start();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  let buf = "";
  process.stdin.on("data", (d) => {
    buf += d;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      buf = buf.slice(nl + 1);
      const snap = sw.snapshot();
      const groups = (snap.groups ?? []).filter((g) => g.request === "REQ_MKT_DATA").length;
      // Unsent bytes waiting for slow downstreams: part of the RSS that is backpressure, not state.
      const writeBufferMb =
        proxy.snapshot().downstreams.reduce((n, d) => n + (d.writeBufferBytes ?? 0), 0) / 2 ** 20;
      const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;
      process.stdout.write(
        `${JSON.stringify({ groups, linesSaved: snap.linesSaved ?? 0, writeBufferMb, heapUsedMb })}\n`,
      );
    }
  });
  process.stdin.on("end", async () => {
    await proxy.close();
    await sw.close();
    await line.close();
    await pacer.close();
    process.exit(0);
  });
}

// ── measurements ─────────────────────────────────────────────────────────────────────────

/** n clients, each subscribing to the 20 symbols (ids 1..20), paced under 50 msg/s each. */
async function subscribers(port, n, firstClientId) {
  const clients = [];
  for (let i = 0; i < n; i++) clients.push(await openClient(port, firstClientId + i));
  for (const [k, symbol] of SYMBOLS.entries()) {
    for (const c of clients) c.send(mktData(k + 1, symbol));
    await pause(25);
  }
  return clients;
}

/** Ticks per second over the window, all clients together, and how many streams tick. */
async function measure(clients, proxyPid) {
  await pause(1_500);
  const ticks0 = clients.reduce((s, c) => s + c.ticks, 0);
  const cpu0 = proxyPid === undefined ? 0 : cpuMs(proxyPid);
  const t0 = performance.now();
  await pause(WINDOW_MS);
  const elapsed = performance.now() - t0;
  const ticks = clients.reduce((s, c) => s + c.ticks, 0) - ticks0;
  const cpu = proxyPid === undefined ? undefined : cpuMs(proxyPid) - cpu0;
  return {
    ticksPerSec: (ticks * 1000) / elapsed,
    ticks,
    clientsWithAll20: clients.filter((c) => !c.errors.has("101")).length,
    error101: clients.reduce((s, c) => s + (c.errors.get("101") ?? 0), 0),
    proxyCpuMsPer100kTicks: cpu === undefined ? undefined : (cpu * 100_000) / Math.max(1, ticks),
  };
}

async function main() {
  const mock = child(script, ["mock", String(TICK_MS)]);
  const { port: mockPort } = await mock.info;

  // Direct: 50 connections to the mock, each asking for 20 lines.
  const direct = await subscribers(mockPort, CLIENTS, 1_000);
  const directResult = await measure(direct);
  const directLines = (await mock.ask("state")).lines;
  for (const c of direct) c.close();
  await pause(1_000);

  // Through the proxy: one connection, one line per symbol.
  const proxy = child(script, ["proxy", String(mockPort)]);
  const { port: proxyPort } = await proxy.info;
  const via = await subscribers(proxyPort, CLIENTS, 1);
  const proxyResult = await measure(via, proxy.p.pid);
  const proxyLines = (await mock.ask("state")).lines;
  const groups = await proxy.ask("state");
  for (const c of via) c.close();
  await proxy.stop();
  await mock.stop();

  // Memory: 200 clients × 20 symbols through a fresh proxy, quotes at an IB-like rate.
  const slowMock = child(script, ["mock", String(MEMORY_TICK_MS)]);
  const { port: slowPort } = await slowMock.info;
  const memProxy = child(script, ["proxy", String(slowPort)]);
  const { port: memPort } = await memProxy.info;
  const idle = rssMb(memProxy.p.pid);
  const many = await subscribers(memPort, MANY, 1);
  await pause(5_000);
  const loaded = rssMb(memProxy.p.pid);
  const loadedState = await memProxy.ask("state");
  const manyLines = (await slowMock.ask("state")).lines;
  const manyTicking = many.filter((c) => c.ticks > 0).length;
  for (const c of many) c.close();
  await memProxy.stop();
  await slowMock.stop();

  report("fanout", {
    loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
    clients: CLIENTS,
    symbols: SYMBOLS.length,
    mockTickIntervalMs: TICK_MS,
    windowMs: WINDOW_MS,
    direct: { upstreamLines: directLines, ...directResult },
    proxy: {
      upstreamLines: proxyLines,
      ...proxyResult,
      groups: groups.groups,
      linesSaved: groups.linesSaved,
    },
    ticksRatio: directResult.ticksPerSec > 0 ? proxyResult.ticksPerSec / directResult.ticksPerSec : null,
    memory: {
      mockTickIntervalMs: MEMORY_TICK_MS,
      clients: MANY,
      streams: MANY * SYMBOLS.length,
      upstreamLines: manyLines,
      clientsTicking: manyTicking,
      idleRssMb: idle.rssMb,
      rssMb: loaded.rssMb,
      peakRssMb: loaded.peakRssMb,
      writeBufferMb: loadedState.writeBufferMb,
      heapUsedMb: loadedState.heapUsedMb,
      goal: "rss <= 150 MB",
      met: loaded.rssMb <= 150,
    },
  });
}

const role = process.argv[2];
if (role === "mock") await serveMock(Number(process.argv[3]));
else if (role === "proxy") await serveProxy(Number(process.argv[3]));
else await main();
