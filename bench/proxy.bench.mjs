// The proxy's cost: reqCurrentTime round trip through the proxy vs straight to the mock
// (goal p50 ≤ 1.3×) and vs a bare relay — a Node `net` relay in its own process that only
// copies bytes between the same client and mock, the floor any proxy sits on (goal ≤ 1.2×),
// market-data tick throughput via the proxy vs direct (goal ≥ 0.95×), and
// the RSS of the proxy process (line + pacer + switch + proxy) serving 100 downstreams
// (goal ≤ 100 MB). The mock and the proxy each run in a child process of their own; the
// clients run here, so every path crosses the same process boundaries. One run.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { report, summarize } from "./lib.mjs";
import {
  child,
  cpuMs,
  currentTimeRoundTrip,
  isTickId,
  mktData,
  openClient,
  pause,
  rssMb,
  startBenchProxy,
  startRelay,
} from "./wire.mjs";

const RTT_SAMPLES = Number(process.env.BENCH_RTT_SAMPLES ?? 300);
/** One request per path every 25 ms: 40/s, under IB's 50 messages/s on either socket. */
const RTT_SPACING_MS = 25;
const TICK_MS = Number(process.env.BENCH_TICK_MS ?? 1);
const STREAMS = 40;
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 3_000);
const DOWNSTREAMS = 100;
/** The mock serves 100 market-data lines; leave room for nothing else. */
const DOWNSTREAM_STREAMS = 90;

// ── child processes ───────────────────────────────────────────────────────────────────────

async function serveMock() {
  const { MockGateway } = await import("../dist/mock/index.js");
  const gw = new MockGateway({ port: 0, controlPort: null, maxClients: 200, tickIntervalMs: TICK_MS });
  const { port } = await gw.start();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => void gw.close().then(() => process.exit(0)));
}

async function serveProxy(mockPort) {
  const bench = await startBenchProxy(mockPort);
  process.stdout.write(`${JSON.stringify({ port: bench.port })}\n`);
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await bench.close();
    process.exit(0);
  });
}

async function serveRelay(mockPort) {
  const { port } = await startRelay(mockPort);
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

const self = fileURLToPath(import.meta.url);

// ── measurements ─────────────────────────────────────────────────────────────────────────

const roundTrip = currentTimeRoundTrip;

async function rtt(direct, viaProxy, viaRelay) {
  const d = [];
  const p = [];
  const r = [];
  for (let i = 0; i < 20; i++) {
    await roundTrip(direct);
    await roundTrip(viaProxy);
    await roundTrip(viaRelay);
    await pause(RTT_SPACING_MS);
  }
  for (let i = 0; i < RTT_SAMPLES; i++) {
    // Alternate so every path sees the same machine load.
    d.push(await roundTrip(direct));
    p.push(await roundTrip(viaProxy));
    r.push(await roundTrip(viaRelay));
    await pause(RTT_SPACING_MS);
  }
  return { direct: summarize(d), proxy: summarize(p), relay: summarize(r) };
}

const SYMBOLS = ["AAPL", "MSFT", "SPY", "AMZN", "GOOGL", "TSLA", "NVDA", "META", "IBM", "QQQ"];

async function throughput(c, total = { n: 0 }) {
  let ticks = 0;
  c.onMessage = (id) => {
    if (isTickId(id)) ticks++;
  };
  for (let i = 0; i < STREAMS; i++) {
    c.send(mktData(i + 1, SYMBOLS[i % SYMBOLS.length]));
    await pause(30); // under 50 messages/s on a direct socket
  }
  await pause(1_000);
  const t0 = performance.now();
  const before = ticks;
  await pause(THROUGHPUT_MS);
  const rate = ((ticks - before) * 1000) / (performance.now() - t0);
  for (let i = 0; i < STREAMS; i++) {
    c.send(["2", "2", String(i + 1)]);
    await pause(30);
  }
  c.onMessage = undefined;
  total.n = ticks;
  return rate;
}

async function main() {
  const mock = child(self, ["mock"]);
  const { port: mockPort } = await mock.info;
  const proxy = child(self, ["proxy", String(mockPort)]);
  const { port: proxyPort } = await proxy.info;
  const relay = child(self, ["relay", String(mockPort)]);
  const { port: relayPort } = await relay.info;
  const baseline = rssMb(proxy.p.pid);

  const direct = await openClient(mockPort, 77);
  const viaProxy = await openClient(proxyPort, 77);
  const viaRelay = await openClient(relayPort, 78);
  // The proxy's own work per round trip, robust to a loaded machine (latency is not).
  const cpu0 = cpuMs(proxy.p.pid);
  const relayCpu0 = cpuMs(relay.p.pid);
  const rttResult = await rtt(direct, viaProxy, viaRelay);
  const cpuPerRttUs = ((cpuMs(proxy.p.pid) - cpu0) * 1000) / (RTT_SAMPLES + 20);
  const relayCpuPerRttUs = ((cpuMs(relay.p.pid) - relayCpu0) * 1000) / (RTT_SAMPLES + 20);
  viaRelay.close();
  await relay.stop();

  const directTicks = await throughput(direct);
  await pause(500);
  const cpu1 = cpuMs(proxy.p.pid);
  const tickCount = { n: 0 };
  const proxyTicks = await throughput(viaProxy, tickCount);
  const cpuPerTickUs = ((cpuMs(proxy.p.pid) - cpu1) * 1000) / Math.max(1, tickCount.n);
  direct.close();
  viaProxy.close();

  const many = [];
  for (let i = 0; i < DOWNSTREAMS; i++) many.push(await openClient(proxyPort, i + 1));
  for (let i = 0; i < DOWNSTREAM_STREAMS; i++) many[i].send(mktData(1, SYMBOLS[i % SYMBOLS.length]));
  let served = 0;
  await Promise.all(
    many.map(
      (c) =>
        new Promise((resolve) => {
          c.onMessage = (id) => {
            if (id === "49") {
              served++;
              resolve();
            }
          };
          c.send(["49", "1"]);
        }),
    ),
  );
  await pause(3_000); // streams running for a while
  const streaming = many.filter((c) => c.ticks > 0).length;
  const loaded = rssMb(proxy.p.pid);
  for (const c of many) c.close();
  await proxy.stop();
  await mock.stop();

  const ratio = (a, b) => (a && b ? a / b : null);
  const rttRatio = ratio(rttResult.proxy.p50, rttResult.direct.p50);
  const relayRatio = ratio(rttResult.proxy.p50, rttResult.relay.p50);
  const tickRatio = ratio(proxyTicks, directTicks);
  report("proxy", {
    reqCurrentTime: {
      samples: RTT_SAMPLES,
      directMs: rttResult.direct,
      proxyMs: rttResult.proxy,
      p50Ratio: rttRatio,
      p99Ratio: ratio(rttResult.proxy.p99, rttResult.direct.p99),
      addedP50Ms: rttResult.proxy.p50 - rttResult.direct.p50,
      proxyProcessCpuUsPerRoundTrip: cpuPerRttUs,
      relayMs: rttResult.relay,
      relayProcessCpuUsPerRoundTrip: relayCpuPerRttUs,
      proxyVsRelay: {
        p50Ratio: relayRatio,
        p99Ratio: ratio(rttResult.proxy.p99, rttResult.relay.p99),
        goal: "p50 ratio <= 1.2",
        met: relayRatio !== null && relayRatio <= 1.2,
      },
      loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
      goal: "p50 ratio <= 1.3",
      met: rttRatio !== null && rttRatio <= 1.3,
    },
    ticks: {
      streams: STREAMS,
      mockTickIntervalMs: TICK_MS,
      directPerSec: directTicks,
      proxyPerSec: proxyTicks,
      ratio: tickRatio,
      proxyProcessCpuUsPerTick: cpuPerTickUs,
      goal: ">= 0.95",
      met: tickRatio !== null && tickRatio >= 0.95,
    },
    memory: {
      downstreams: DOWNSTREAMS,
      served,
      streamsOpen: DOWNSTREAM_STREAMS,
      streamsTicking: streaming,
      idleRssMb: baseline.rssMb,
      rssMb: loaded.rssMb,
      peakRssMb: loaded.peakRssMb,
      goal: "rss <= 100 MB",
      met: loaded.rssMb <= 100,
    },
  });
}

const role = process.argv[2];
if (role === "mock") await serveMock();
else if (role === "proxy") await serveProxy(Number(process.argv[3]));
else if (role === "relay") await serveRelay(Number(process.argv[3]));
else await main();
