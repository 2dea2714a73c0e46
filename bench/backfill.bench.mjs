// A slice of a 1-min backfill (10 US stocks, one `1 D` request per stock and session, newest
// first) against the mock gateway with IB's windows time-scaled and a realistic HMDS answer
// time (150 ms + 20 µs per bar, soft slow-down for large bars), three ways, each on a fresh
// mock for the same real time:
//   current  — our Pacer under the `current` profile (IB's rules today), mock `current`
//   legacy   — our Pacer under `legacy` (the old hard limits on every bar size), mock `legacy`
//   switchboard-history — our backfill (`switchboard history`'s code path: planner, line,
//              pacer, parts and coverage on disk) over a 10-stock × 1-year plan, requests in
//              flight adapting to the answers (the default); and the same with a fixed 8
//   naive    — the loop users write: one request, wait for its answer, sleep 10 s (scaled)
// Reported: requests answered with bars, bars, both per second of real time and of IB time,
// and the mock's pacing violations. The baseline of the ratios is the naive loop.
import { systemClock } from "../dist/clock.js";
import { usEquities } from "../dist/calendar/index.js";
import { MockGateway } from "../dist/mock/index.js";
import { classifyOutgoing, Pacer, resolveRules } from "../dist/pacing/index.js";
import {
  contract,
  encodeFields,
  encodeFrame,
  REQ_HISTORICAL_DATA,
  toFields,
} from "../dist/protocol/index.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBackfill } from "../dist/history/backfill.js";
import { Dataset } from "../dist/history/dataset.js";
import { connectLineSource } from "../dist/history/line-source.js";
import { MemoryLeaseStore, Registry } from "../dist/registry/index.js";
import { report } from "./lib.mjs";
import { codecClient, STOCKS } from "./mock-client.mjs";

const TIME_SCALE = Number(process.env.BENCH_BACKFILL_TIME_SCALE ?? 10);
// 60 s of real time: 10 minutes of IB time at the default scale, one whole 10-minute window.
const SLICE_MS = Number(process.env.BENCH_BACKFILL_SLICE_MS ?? 60_000);
const NOW = "2026-11-17T21:30:00Z"; // a Tuesday after the close
const HISTORY = { historyLatencyMs: 150, historyBarCostUs: 20 };
const V = 178;

/** The plan: for each session back from NOW, one `1 D` of 1-min bars per stock. */
function plan(n) {
  const out = [];
  const sessions = usEquities.sessionsBefore(Date.parse(NOW), true);
  for (let i = 0; out.length < n; i++) {
    const s = sessions.next().value;
    // IB's UTC form: yyyyMMdd-HH:mm:ss.
    const iso = new Date(s.close).toISOString();
    const end = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19)}`;
    for (const [conId, symbol] of STOCKS) {
      const reqId = 1_000 + out.length;
      out.push({
        reqId,
        fields: toFields(
          REQ_HISTORICAL_DATA,
          {
            reqId,
            contract: contract({ conId, symbol, secType: "STK", exchange: "SMART", currency: "USD" }),
            includeExpired: false,
            endDateTime: end,
            barSize: "1 min",
            duration: "1 D",
            useRTH: true,
            whatToShow: "TRADES",
            formatDate: 2,
            comboLegs: [],
            keepUpToDate: false,
            chartOptions: "",
          },
          V,
        ),
      });
    }
  }
  return out;
}

async function run(name, profile, strategy) {
  const mock = new MockGateway({
    port: 0,
    controlPort: null,
    timeScale: TIME_SCALE,
    pacingProfile: profile,
    now: NOW,
    ...HISTORY,
  });
  const { port } = await mock.start();
  const requests = plan(5_000);
  let answered = 0;
  let bars = 0;
  let errors = 0;
  let listener = () => {};
  const socket = await codecClient(port, (f) => {
    if (f[0] === "17") {
      answered++;
      bars += Number(f[4]);
    } else if (f[0] === "4" && Number(f[2]) >= 1_000) errors++;
    listener(f);
  });
  const send = (r) => socket.write(encodeFrame(encodeFields(r.fields)));
  const stop = await strategy(requests, send, (fn) => (listener = fn));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SLICE_MS));
  const elapsed = (Date.now() - t0) / 1000;
  const snapshot = { answered, bars, errors };
  stop();
  const violations = mock.counters.pacingViolations;
  socket.destroy();
  await mock.close();
  return {
    strategy: name,
    profile,
    answeredRequests: snapshot.answered,
    bars: snapshot.bars,
    refused: snapshot.errors,
    violations,
    requestsPerSecond: round(snapshot.answered / elapsed),
    barsPerSecond: round(snapshot.bars / elapsed),
    requestsPerIbMinute: round((60 * snapshot.answered) / elapsed / TIME_SCALE),
  };
}

const round = (x) => Math.round(x * 100) / 100;

function paced(profile) {
  return async (requests, send, onAnswer) => {
    const rules = resolveRules({ profile, timeScale: TIME_SCALE });
    const pacer = new Pacer({ clock: systemClock, rules, deadlineMs: 100 * SLICE_MS });
    onAnswer((f) => {
      pacer.observeIncoming("backfill", f, V);
      if (f[0] === "4") pacer.observeError(Number(f[3]), f[4] ?? "", Number(f[2]));
    });
    for (const r of requests)
      pacer
        .acquire(classifyOutgoing(r.fields, { version: V, tenant: "backfill" }), { onRelease: () => send(r) })
        .catch(() => {});
    return () => pacer.destroy();
  };
}

/** One at a time: send, wait for the answer, sleep 10 s of IB time. */
function naiveLoop(sleepMs) {
  return async (requests, send, onAnswer) => {
    let i = 0;
    let stopped = false;
    let timer;
    const next = () => {
      if (stopped || i >= requests.length) return;
      const r = requests[i++];
      onAnswer((f) => {
        if ((f[0] === "17" && Number(f[1]) === r.reqId) || (f[0] === "4" && Number(f[2]) === r.reqId))
          timer = setTimeout(next, sleepMs);
      });
      send(r);
    };
    next();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  };
}

/**
 * Our backfill, the code path of `switchboard history`: planner, line under a backfill
 * lease, pacer, dataset writer (parts + coverage on disk), a 10-symbol × 1-year plan.
 * Bars counted are those recorded on disk within the slice.
 */
async function ours(concurrency) {
  const mock = new MockGateway({ port: 0, controlPort: null, timeScale: TIME_SCALE, now: NOW, ...HISTORY });
  const { port } = await mock.start();
  const out = mkdtempSync(join(tmpdir(), "sb-bench-history-"));
  const registry = new Registry({ store: new MemoryLeaseStore() });
  const source = await connectLineSource({ host: "127.0.0.1", port, registry, timeScale: TIME_SCALE });
  const ds = await Dataset.open(out, "parquet");
  const stop = new AbortController();
  let answered = 0;
  let bars = 0;
  let pacingWaits = 0;
  let t0 = 0;
  const done = runBackfill(
    ds,
    source,
    {
      symbols: STOCKS.map(([, s]) => s),
      contract: { secType: "STK", exchange: "SMART", currency: "USD" },
      barSize: "1 min",
      what: "TRADES",
      rth: true,
      from: "2025-11-17",
      to: "2026-11-17",
      now: Date.parse(NOW),
      allowMock: true,
      ...(concurrency === undefined ? {} : { concurrency }),
    },
    (e) => {
      if (e.type === "plan" && t0 === 0) t0 = Date.now();
      if (e.type === "progress") {
        answered++;
        bars += e.bars;
      }
      if (e.type === "pacing") pacingWaits++;
    },
    stop.signal,
  );
  while (t0 === 0) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, SLICE_MS));
  const elapsed = (Date.now() - t0) / 1000;
  const snapshot = { answered, bars };
  stop.abort();
  await done;
  const violations = mock.counters.pacingViolations;
  await source.close();
  await registry.close();
  await mock.close();
  rmSync(out, { recursive: true, force: true });
  return {
    strategy: concurrency === undefined ? "switchboard-history" : `switchboard-history-fixed-${concurrency}`,
    profile: "current",
    answeredRequests: snapshot.answered,
    bars: snapshot.bars,
    pacingWaits,
    violations,
    requestsPerSecond: round(snapshot.answered / elapsed),
    barsPerSecond: round(snapshot.bars / elapsed),
    requestsPerIbMinute: round((60 * snapshot.answered) / elapsed / TIME_SCALE),
  };
}

const results = [
  await ours(),
  // The former default, a fixed 8 in flight, for the effect of adapting (same run).
  await ours(8),
  await run("current", "current", paced("current")),
  await run("legacy", "legacy", paced("legacy")),
  await run("naive-sleep-10s", "current", naiveLoop(10_000 / TIME_SCALE)),
];
const [history, historyFixed, current, legacy, naive] = results;
report("backfill", {
  target: "mock-gateway",
  workload: "1-min TRADES backfill, 10 US stocks, 1 D per request, newest session first",
  timeScale: TIME_SCALE,
  sliceMs: SLICE_MS,
  hmds: { latencyMs: HISTORY.historyLatencyMs, barCostUs: HISTORY.historyBarCostUs, softLimitPer10Min: 60 },
  results,
  baseline: "naive-sleep-10s",
  ratios: {
    historyVsNaive: naive.bars ? round(history.bars / naive.bars) : null,
    historyFixed8VsNaive: naive.bars ? round(historyFixed.bars / naive.bars) : null,
    currentVsNaive: naive.bars ? round(current.bars / naive.bars) : null,
    legacyVsNaive: naive.bars ? round(legacy.bars / naive.bars) : null,
    currentVsLegacy: legacy.bars ? round(current.bars / legacy.bars) : null,
  },
  goal: "switchboard history ≥ 10× the naive loop's bars with 0 violations; current profile serves more bars than legacy, 0 violations for both paced runs",
  met:
    naive.bars > 0 &&
    history.bars >= 10 * naive.bars &&
    history.violations === 0 &&
    current.bars > legacy.bars &&
    current.violations === 0 &&
    legacy.violations === 0,
});
