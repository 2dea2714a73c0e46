// The command line's cold starts against `node -e 0` in the same run (goal: ≤ 2× it for
// --help, --version, ids lease, status), `switchboard start` to its READY line (goal ≤ 1 s),
// and 50 `ids lease` processes at once (wall time; every one must print an id, all distinct).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { report, summarize } from "./lib.mjs";

const BIN = fileURLToPath(new URL("../bin/switchboard.js", import.meta.url));
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 15);
const dir = mkdtempSync(join(tmpdir(), "sb-bench-cli-"));

function run(args, { node = false } = {}) {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, node ? args : [BIN, ...args], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.on("close", (code) => resolve({ code, out, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
  });
}

async function samples(args, opts) {
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await run(typeof args === "function" ? args(i) : args, opts);
    if (r.code !== 0) throw new Error(`${JSON.stringify(args)} exited ${r.code}`);
    ms.push(r.ms);
  }
  return summarize(ms);
}

/** Start a process and time until its READY line; returns the child too. */
function startReady(args) {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "ignore"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (b) => {
      out += b;
      const m = /^READY (.*)$/m.exec(out);
      if (m) resolve({ child, ready: JSON.parse(m[1]), ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
    child.on("exit", (code) => reject(new Error(`exited ${code} before READY`)));
  });
}

const stop = (child) =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });

try {
  const baseline = await samples(["-e", "0"], { node: true });
  const help = await samples(["--help"]);
  const version = await samples(["--version"]);
  const lease = await samples((i) => ["ids", "lease", "agents", "--state-dir", join(dir, `lease-${i}`)]);

  const readyMs = [];
  let daemon;
  for (let i = 0; i < 5; i++) {
    const d = await startReady([
      "start",
      "--http-port",
      "0",
      "--proxy-port",
      "0",
      "--state-dir",
      join(dir, `d${i}`),
    ]);
    readyMs.push(d.ms);
    if (i < 4) await stop(d.child);
    else daemon = d;
  }
  const status = await samples(["status", "--url", daemon.ready.http]);
  await stop(daemon.child);

  const state = join(dir, "parallel");
  const t0 = process.hrtime.bigint();
  const all = await Promise.all(
    Array.from({ length: 50 }, () => run(["ids", "lease", "agents", "--state-dir", state, "--ttl", "60000"])),
  );
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const ids = all.filter((r) => r.code === 0).map((r) => Number(r.out.trim()));
  const ratio = (s) => Number((s.p50 / baseline.p50).toFixed(2));

  report("cli", {
    runs: RUNS,
    baselineNodeE0Ms: baseline,
    coldStartMs: { help, version, idsLease: lease, status },
    ratioToBaselineP50: {
      help: ratio(help),
      version: ratio(version),
      idsLease: ratio(lease),
      status: ratio(status),
    },
    goalRatio: 2,
    startToReadyMs: summarize(readyMs),
    goalStartToReadyMs: 1000,
    parallelIdsLease: {
      processes: 50,
      wallMs,
      succeeded: ids.length,
      distinctIds: new Set(ids).size,
      slowestMs: Math.max(...all.map((r) => r.ms)),
    },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
