// Shared helpers for benchmarks: timing, percentiles, result output.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "results");

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    mean,
    min: s[0] ?? null,
    max: s.at(-1) ?? null,
  };
}

/** Print the result as JSON on stdout and save it under bench/results/<name>.json. */
export function report(name, result) {
  const out = { bench: name, node: process.version, at: new Date().toISOString(), ...result };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
  return out;
}

/**
 * Times recording `count` orders in an order journal and its audit (ids from `firstId`): the
 * journal's intent (durable before the write), the write, the audit line. Milliseconds each.
 */
export async function timeOrderRecords(journal, audit, map, firstId, count) {
  const samples = [];
  for (let id = firstId; id < firstId + count; id++) {
    const e = map.add({
      owner: "proxy:1",
      localId: id,
      upstreamId: id,
      upstreamClientId: 1,
      orderRef: `b${id}`,
    });
    const s = performance.now();
    await journal.intent(e, 1);
    journal.written(e);
    audit.append({
      ts: new Date().toISOString(),
      owner: e.owner,
      localId: id,
      upstreamId: id,
      upstreamClientId: 1,
      generation: 1,
      kind: "place",
      outcome: "written",
    });
    samples.push(performance.now() - s);
  }
  return samples;
}
