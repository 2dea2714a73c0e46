/**
 * `npm run chaos -- --minutes N --clients K --seed S [--redis]`: one chaos run, its report as
 * JSON and SVG under bench/results, a short table on stdout. Exit 1 when any invariant was
 * violated (each named with its seed and time), 2 on a usage error.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { plotSvg, table } from "./report.js";
import { runChaos } from "./run.js";
import { FAULT_KINDS, type FaultKind } from "./schedule.js";

const RESULTS = fileURLToPath(new URL("../../bench/results/", import.meta.url));

function positive(name: string, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new InvalidArgumentError(`${name} must be a number in (0, ${max}]`);
    return n;
  };
}

const program = new Command("chaos")
  .description(
    "faults on a seeded schedule against the daemon, the mock and K clients; invariants checked the whole time",
  )
  .option("--minutes <n>", "length of the run", positive("--minutes", 24 * 60), 1)
  .option(
    "--clients <k>",
    "proxy clients (half @stoqey/ib, half the raw codec)",
    positive("--clients", 500),
    10,
  )
  .option("--seed <s>", "seed of the fault schedule and the workload", (v) => Number.parseInt(v, 10), 1)
  .option("--redis", "keep client-id leases in a real redis-server and restart it as a fault", false)
  .option(
    "--exclude <kinds>",
    `fault kinds left out, comma-separated (${FAULT_KINDS.join(", ")}); e.g. daemonKill for a memory soak`,
    (v): FaultKind[] => {
      const kinds = v
        .split(",")
        .map((k) => k.trim())
        .filter(Boolean);
      const unknown = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
      if (unknown.length > 0) throw new InvalidArgumentError(`unknown fault kind ${unknown.join(", ")}`);
      return kinds as FaultKind[];
    },
    [] as FaultKind[],
  )
  .option(
    "--no-live-heap",
    "do not measure the daemon's heap after a full GC each minute (through its inspector on loopback)",
  )
  .option("--quiet", "no progress lines", false)
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program.parse();
const opts = program.opts<{
  minutes: number;
  clients: number;
  seed: number;
  redis: boolean;
  exclude: FaultKind[];
  liveHeap: boolean;
  quiet: boolean;
}>();

const report = await runChaos({
  minutes: opts.minutes,
  clients: Math.round(opts.clients),
  seed: opts.seed,
  redis: opts.redis,
  exclude: opts.exclude,
  liveHeap: opts.liveHeap,
  log: opts.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
});
mkdirSync(RESULTS, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const base = `${RESULTS}chaos-${stamp}-seed${opts.seed}`;
writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(`${base}.svg`, plotSvg(report));
process.stdout.write(`${table(report)}\n\nreport: ${base}.json\nplot:   ${base}.svg\n`);
for (const v of report.violations)
  process.stdout.write(
    `violation ${v.check} at ${(v.at / 1000).toFixed(1)} s (seed ${report.seed}): ${v.detail}\n`,
  );
process.exit(report.violations.length > 0 ? 1 : 0);
