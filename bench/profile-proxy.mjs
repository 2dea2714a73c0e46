// Profiles the proxy process (line + pacer + switch + proxy) under one workload, driven by the
// bench's bare client. Not a bench (run.mjs does not pick it up): it writes a V8 CPU profile of
// the proxy process and prints, as JSON, the proxy's CPU and GC work per message.
//
//   node bench/profile-proxy.mjs rtt      # reqCurrentTime round trips, one every 25 ms
//   node bench/profile-proxy.mjs ticks    # 40 market-data streams, mock ticking every 1 ms
//   node bench/profile-proxy.mjs fanout   # 40 clients × 20 symbols, mock ticking every 20 ms
//
// Output, over the measuring window only (bench/profile-window.mjs): bench/results/profiles/
// <workload>.cpuprofile (Chrome DevTools, or bench/profile-summary.mjs) and .heapprofile
// (allocation samples: bench/heap-summary.mjs). A second estimate of allocation comes from
// --trace-gc: the bytes each scavenge frees, summed over the window.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { resultsDir } from "./lib.mjs";
import { child, cpuMs, isTickId, mktData, openClient, pause } from "./wire.mjs";

const workload = process.argv[2] ?? "rtt";
const dir = dirname(fileURLToPath(import.meta.url));
const proxyBench = join(dir, "proxy.bench.mjs");
const outDir = join(resultsDir, "profiles");
mkdirSync(outDir, { recursive: true });

const ROUND_TRIPS = Number(process.env.PROFILE_ROUND_TRIPS ?? 600);
const WINDOW_MS = Number(process.env.PROFILE_WINDOW_MS ?? 5_000);
const SYMBOLS = [
  ...["AAPL", "MSFT", "SPY", "AMZN", "GOOGL", "TSLA", "NVDA", "META", "IBM", "QQQ"],
  ...["INTC", "CSCO", "AMD", "NFLX", "BAC", "JPM", "KO", "XOM", "WMT", "DIS"],
];

/** The proxy role of proxy.bench.mjs, under the profiler, with GC tracing on its stdout. */
function profiledProxy(mockPort) {
  const p = spawn(
    process.execPath,
    ["--trace-gc", "--import", join(dir, "profile-window.mjs"), proxyBench, "proxy", String(mockPort)],
    {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, PROFILE_PREFIX: join(outDir, workload) },
    },
  );
  let freedMb = 0;
  let scavenges = 0;
  let counting = false;
  let buf = "";
  let resolvePort;
  const port = new Promise((r) => {
    resolvePort = r;
  });
  let resolveProfiled;
  const profiled = new Promise((r) => {
    resolveProfiled = r;
  });
  p.stdout.on("data", (d) => {
    buf += d;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.startsWith("{")) resolvePort(JSON.parse(line).port);
      if (line === "profiled") resolveProfiled();
      // "[pid:0x…]  1234 ms: Scavenge 5.1 (7.2) -> 4.3 (8.2) MB, …"
      const m = /(Scavenge|Mark-Compact|Mark-sweep)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+)/.exec(line);
      if (m && counting) {
        freedMb += Math.max(0, Number(m[2]) - Number(m[3]));
        if (m[1] === "Scavenge") scavenges++;
      }
    }
  });
  return {
    p,
    port,
    profiled,
    gc: {
      start: () => {
        counting = true;
        freedMb = 0;
        scavenges = 0;
      },
      stop: () => {
        counting = false;
        return { freedMb, scavenges };
      },
    },
    stop: () =>
      new Promise((r) => {
        p.once("exit", r);
        p.stdin.end();
      }),
  };
}

async function rtt(port) {
  const c = await openClient(port, 77);
  const once = () =>
    new Promise((resolve) => {
      c.onMessage = (id) => {
        if (id === "49") resolve();
      };
      c.send(["49", "1"]);
    });
  for (let i = 0; i < 20; i++) await once();
  return {
    clients: [c],
    run: async () => {
      for (let i = 0; i < ROUND_TRIPS; i++) {
        await once();
        await pause(25);
      }
      return { messages: ROUND_TRIPS, unit: "round trip" };
    },
  };
}

async function ticks(port) {
  const c = await openClient(port, 77);
  for (let i = 0; i < 40; i++) {
    c.send(mktData(i + 1, SYMBOLS[i % 10]));
    await pause(30);
  }
  await pause(1_000);
  return {
    clients: [c],
    run: async () => {
      const t0 = c.ticks;
      await pause(WINDOW_MS);
      return { messages: c.ticks - t0, unit: "tick" };
    },
  };
}

async function fanout(port) {
  const clients = [];
  for (let i = 0; i < 40; i++) clients.push(await openClient(port, i + 1));
  for (const [k, symbol] of SYMBOLS.entries()) {
    for (const c of clients) c.send(mktData(k + 1, symbol));
    await pause(25);
  }
  await pause(1_500);
  const total = () => clients.reduce((s, c) => s + c.ticks, 0);
  return {
    clients,
    run: async () => {
      const t0 = total();
      await pause(WINDOW_MS);
      return { messages: total() - t0, unit: "tick delivered" };
    },
  };
}

const tickMs = { rtt: 1_000, ticks: 1, fanout: 20 }[workload];
if (tickMs === undefined) throw new Error(`unknown workload ${workload}`);
const mock = child(proxyBench, ["mock"], { BENCH_TICK_MS: String(tickMs) });
const { port: mockPort } = await mock.info;
const proxy = profiledProxy(mockPort);
const port = await proxy.port;
const w = await { rtt, ticks, fanout }[workload](port);
for (const c of w.clients) c.onMessage ??= (id) => void isTickId(id);
const cpu0 = cpuMs(proxy.p.pid);
proxy.gc.start();
proxy.p.kill("SIGUSR2"); // profiling from here
const { messages, unit } = await w.run();
const cpu = cpuMs(proxy.p.pid) - cpu0;
proxy.p.kill("SIGUSR1"); // to here
await proxy.profiled;
const gc = proxy.gc.stop();
for (const c of w.clients) c.close();
writeFileSync(join(outDir, `${workload}.window.json`), JSON.stringify({ messages }));
await proxy.stop();
await mock.stop();
process.stdout.write(
  `${JSON.stringify({
    workload,
    messages,
    unit,
    proxyCpuUsPerMessage: (cpu * 1000) / Math.max(1, messages),
    allocatedBytesPerMessage: (gc.freedMb * 2 ** 20) / Math.max(1, messages),
    scavenges: gc.scavenges,
    profile: join(outDir, `${workload}.cpuprofile`),
  })}\n`,
);
