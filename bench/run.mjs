// Runs every bench/*.bench.mjs in its own process, one after another, and prints one JSON
// document with all results (also saved as bench/results/summary.json).
import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dir = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.mjs"))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const results = {};
let failed = 0;
for (const f of files) {
  const name = f.replace(/\.bench\.mjs$/, "");
  process.stderr.write(`bench: ${name}\n`);
  const r = spawnSync(process.execPath, [join(dir, f)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 10 * 60_000,
  });
  const parsed = lastJson(r.stdout);
  if (r.status !== 0 || parsed === undefined) {
    failed++;
    results[name] = { error: `exit ${r.status ?? r.signal}` };
    continue;
  }
  results[name] = parsed;
}
/** A bench's result: its whole output as JSON, else the last line that parses. */
function lastJson(stdout) {
  try {
    return JSON.parse(stdout);
  } catch {
    for (const line of stdout.trim().split("\n").reverse()) {
      if (!line.startsWith("{")) continue;
      try {
        return JSON.parse(line);
      } catch {
        // a line of a pretty-printed document: keep looking
      }
    }
  }
  return undefined;
}

const summary = { at: new Date().toISOString(), node: process.version, results };
writeFileSync(join(dir, "results", "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exitCode = failed ? 1 : 0;
