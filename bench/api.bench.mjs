// The daemon's HTTP API under 50 concurrent clients: requests/s and latency (p50/p99) of
// /health, /api/ib/pace/status, /api/quotes/AAPL fresh (every request goes to the gateway, so
// IB's 50 messages/s rule — paced at 45/s — is the ceiling) and /api/quotes/AAPL?maxAgeMs=1000
// (served from the daemon's quote cache). Baseline in the same run: a bare node:http server
// answering a fixed JSON body, in a child process like the daemon. The daemon runs
// `switchboard start` with its built-in mock; the clients run here with fetch (undici).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { report, summarize } from "./lib.mjs";

const CONCURRENCY = 50;
const DURATION_MS = Number(process.env.BENCH_API_MS ?? 5_000);
const WARMUP_MS = 500;
const BIN = fileURLToPath(new URL("../bin/switchboard.js", import.meta.url));

function startChild(args) {
  const child = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "ignore"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("exit", (code) => reject(new Error(`child exited ${code} before READY`)));
    child.stdout.on("data", (b) => {
      out += b.toString();
      const m = /^READY (.*)$/m.exec(out);
      if (m) resolve({ child, ready: JSON.parse(m[1]) });
    });
  });
}

const BASELINE = `
const http = require("node:http");
const body = JSON.stringify({ success: true, data: { status: "healthy", upstream: "mock", lines: [] } });
const s = http.createServer((req, res) => { res.writeHead(200, { "content-type": "application/json" }); res.end(body); });
s.listen(0, "127.0.0.1", () => process.stdout.write("READY " + JSON.stringify({ http: "http://127.0.0.1:" + s.address().port }) + "\\n"));
process.on("SIGTERM", () => s.close(() => process.exit(0)));
`;

/** 50 loops, each sending its next request when the previous one is answered. */
async function load(url, ms) {
  const latencies = [];
  const statuses = {};
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const t0 = performance.now();
      const res = await fetch(url);
      await res.arrayBuffer();
      const dt = performance.now() - t0;
      if (!stop) {
        latencies.push(dt);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    }
  };
  const t0 = performance.now();
  const timer = setTimeout(() => {
    stop = true;
  }, ms);
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  clearTimeout(timer);
  const elapsed = performance.now() - t0;
  const s = summarize(latencies);
  return {
    requests: latencies.length,
    requestsPerSecond: Math.round((latencies.length / elapsed) * 1000),
    p50Ms: round(s.p50),
    p99Ms: round(s.p99),
    maxMs: round(s.max),
    statuses,
  };
}

const round = (v) => (v === null ? null : Math.round(v * 100) / 100);

async function scenario(url) {
  await load(url, WARMUP_MS);
  return load(url, DURATION_MS);
}

const stateDir = mkdtempSync(join(tmpdir(), "sb-api-bench-"));
const baseline = await startChild(["-e", BASELINE]);
const daemon = await startChild([
  BIN,
  "start",
  "--http-port",
  "0",
  "--state-dir",
  stateDir,
  "--log-level",
  "warn",
]);
try {
  const base = daemon.ready.http;
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${base}/health`)).status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const results = {
    baselineBareHttp: await scenario(`${baseline.ready.http}/health`),
    health: await scenario(`${base}/health`),
    paceStatus: await scenario(`${base}/api/ib/pace/status`),
    quotesFresh: await scenario(`${base}/api/quotes/AAPL?maxAgeMs=0`),
    quotesCached: await scenario(`${base}/api/quotes/AAPL?maxAgeMs=1000`),
  };
  report("api", {
    concurrency: CONCURRENCY,
    durationMs: DURATION_MS,
    upstream: daemon.ready.upstream,
    ...results,
    ratios: {
      healthVsBaselineRps: round(
        results.health.requestsPerSecond / results.baselineBareHttp.requestsPerSecond,
      ),
      healthVsBaselineP99: round(results.health.p99Ms / results.baselineBareHttp.p99Ms),
    },
    notes:
      "quotesFresh sends one market-data snapshot per request through the pacer (IB allows 50 messages/s per connection, the pacer aims at 45/s), so its rate is IB's ceiling, not the API's; quotesCached answers from the daemon's quote cache after the first fetch.",
  });
} finally {
  daemon.child.kill("SIGTERM");
  baseline.child.kill("SIGTERM");
  await Promise.all([daemon, baseline].map(({ child }) => new Promise((r) => child.once("exit", r))));
  rmSync(stateDir, { recursive: true, force: true });
}
