// Standby through Redis (docs/ha.md), measured:
//  - takeover after kill -9 of the active: from the kill to the standby's second READY
//    ("role":"active"), and to its first answered client request (a bare client's handshake,
//    then REQ_CURRENT_TIME through the new active's proxy), for leaseMs 3000 and 5000;
//  - the order-map write cost per order (intent durable + written + audit append) of the
//    Redis journal (appendonly yes, appendfsync always) against the file journal (fdatasync),
//    in the same run on the same disk.
// Processes: redis-server, `switchboard mock-gateway`, two `switchboard start` per trial.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { report, summarize, timeOrderRecords } from "./lib.mjs";
import { openClient } from "./wire.mjs";

const BIN = fileURLToPath(new URL("../bin/switchboard.js", import.meta.url));
const TRIALS = Number(process.env.BENCH_HA_TRIALS ?? 3);
const JOURNAL_SAMPLES = Number(process.env.BENCH_HA_ORDERS ?? 300);
const LEASES = [3000, 5000];

const { FileOrderJournal } = await import("../dist/orders/journal.js");
const { FileOrderAudit } = await import("../dist/orders/audit.js");
const { RedisOrderJournal } = await import("../dist/orders/redis-journal.js");
const { RedisOrderAudit } = await import("../dist/orders/redis-audit.js");
const { HaLease } = await import("../dist/ha/lease.js");
const { connectHaRedis } = await import("../dist/ha/redis.js");
const { OrderMap } = await import("../dist/switch/order-map.js");

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(dir) {
  const port = await freePort();
  const { LD_PRELOAD: _p, FAKETIME: _f, ...env } = process.env;
  const p = spawn(
    "/usr/bin/redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--dir",
      dir,
    ],
    { stdio: ["ignore", "pipe", "ignore"], env },
  );
  await new Promise((resolve, reject) => {
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
      if (out.includes("Ready to accept connections")) resolve();
    });
    p.once("exit", () => reject(new Error("redis-server exited")));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => p.kill("SIGKILL") };
}

/** `switchboard …` as a child; every READY line it prints, with the time it was read. */
function sb(args) {
  const p = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "ignore"] });
  const readies = [];
  const waiters = [];
  let buf = "";
  p.stdout.on("data", (d) => {
    buf += d;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith("READY ")) continue;
      readies.push({ at: performance.now(), info: JSON.parse(line.slice(6)) });
      for (const w of waiters.splice(0)) w();
    }
  });
  const ready = (n) =>
    new Promise((resolve, reject) => {
      const check = () => (readies.length >= n ? resolve(readies[n - 1]) : waiters.push(check));
      check();
      setTimeout(() => reject(new Error(`no READY #${n} of ${args[0]}`)), 60_000).unref();
    });
  return { p, ready, kill: (sig = "SIGKILL") => p.kill(sig) };
}

async function takeover(redisUrl, mockPort, leaseMs, trial) {
  const group = `bench-${leaseMs}-${trial}`;
  const daemon = () =>
    sb([
      "start",
      "--http-port",
      "0",
      "--proxy-port",
      "0",
      "--upstream",
      `127.0.0.1:${mockPort}`,
      "--state-dir",
      mkdtempSync(join(tmpdir(), "sb-bench-ha-")),
      "--redis",
      redisUrl,
      "--ha-group",
      group,
      "--ha-lease-ms",
      String(leaseMs),
      "--log-level",
      "error",
    ]);
  const a = daemon();
  const ra = await a.ready(1);
  if (ra.info.role !== "active") throw new Error("first daemon not active");
  const b = daemon();
  await b.ready(1);
  const t0 = performance.now();
  a.kill();
  const rb = await b.ready(2);
  const toReady = rb.at - t0;
  const c = await openClient(rb.info.proxyPort, 1);
  const answered = new Promise((resolve) => {
    c.onMessage = (id) => {
      if (id === "49") resolve();
    };
  });
  c.send(["49", "1"]);
  await answered;
  const toAnswer = performance.now() - t0;
  c.close();
  b.kill("SIGTERM");
  await new Promise((r) => b.p.once("exit", r));
  return { toReady, toAnswer };
}

async function journalCost(kind, redisUrl) {
  const map = new OrderMap();
  let j;
  let audit;
  let cleanup;
  if (kind === "file") {
    const dir = mkdtempSync(join(tmpdir(), "sb-bench-ha-journal-"));
    j = FileOrderJournal.open({ stateDir: dir, line: "bench" });
    audit = new FileOrderAudit({ stateDir: dir, line: "bench" });
    cleanup = async () => {
      audit.close();
      j.close();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    const redis = await connectHaRedis(redisUrl);
    const lease = new HaLease({
      redis,
      group: "bench-journal",
      holder: "bench",
      secret: "bench",
      host: "h",
      pid: process.pid,
      leaseMs: 600_000,
      lines: ["bench"],
      configHash: "bench",
      now: () => Date.now(),
    });
    const g = await lease.acquire();
    const token = g.token;
    j = await RedisOrderJournal.open({ lease, line: "bench", token: () => token, onFenced: () => {} });
    audit = new RedisOrderAudit({ redis, stream: lease.keys.audit("bench") });
    cleanup = async () => {
      await j.flush();
      await audit.close();
      redis.disconnect();
    };
  }
  const samples = await timeOrderRecords(j, audit, map, 1, JOURNAL_SAMPLES);
  await cleanup();
  return summarize(samples);
}

const redisDir = mkdtempSync(join(tmpdir(), "sb-bench-ha-redis-"));
const redis = await startRedis(redisDir);
const mock = sb(["mock-gateway", "--port", "0", "--control-port", "0"]);
try {
  const { info: mockInfo } = await mock.ready(1);
  const journal = {
    file: await journalCost("file"),
    redis: await journalCost("redis", redis.url),
  };
  const takeovers = {};
  for (const leaseMs of LEASES) {
    const runs = [];
    for (let t = 0; t < TRIALS; t++) runs.push(await takeover(redis.url, mockInfo.port, leaseMs, t));
    takeovers[`leaseMs${leaseMs}`] = {
      toReadyMs: summarize(runs.map((r) => r.toReady)),
      toFirstAnswerMs: summarize(runs.map((r) => r.toAnswer)),
    };
  }
  report("ha", {
    goal: "takeover after kill -9 bounded by leaseMs plus connect and reconcile; Redis journal cost per order next to the file journal's",
    trials: TRIALS,
    takeover: takeovers,
    orderMapWritePerOrderMs: journal,
  });
} finally {
  mock.kill("SIGTERM");
  redis.stop();
  rmSync(redisDir, { recursive: true, force: true });
}
