// Line self-healing: time to detect a half-open line (mock `stall`) and time to recover after
// the gateway returns (mock `down` 3 s), for our Line (default options) vs @stoqey/ib's
// IBApiNext with its own reconnect options on. Same mock, same faults (through the mock's
// HTTP control API), one run each, each client against a fresh mock. Goals: detect ≤ 5 s,
// recover ≤ 1 s after the gateway is back.
import { performance } from "node:perf_hooks";
import stoqey from "@stoqey/ib";
import { Line } from "../dist/line/index.js";
import { MockGateway } from "../dist/mock/index.js";
import { report, summarize } from "./lib.mjs";

const { IBApiNext, ConnectionState } = stoqey;

const DOWN_MS = Number(process.env.BENCH_DOWN_MS ?? 3_000);
/** Recovery depends on where the retry timers stand when the gateway returns: sample a few. */
const RECOVER_ROUNDS = Number(process.env.BENCH_RECOVER_ROUNDS ?? 5);
/**
 * Round i stays down DOWN_MS + i·211 ms. A fixed 3000 ms would phase-lock any retry timer
 * whose interval divides it (stoqey's 1000 ms, our 500 ms probe) to the moment the gateway
 * returns and measure luck; 211 ms steps walk both through different phases.
 */
const downMs = (round) => DOWN_MS + round * 211;
/** A client that has not noticed the stall by then is reported as "not detected". */
const DETECT_BOUND_MS = Number(process.env.BENCH_DETECT_BOUND_MS ?? 20_000);
const RECOVER_BOUND_MS = 20_000;
/** The baseline's settings: as eager as its options allow without flooding. */
const STOQEY = { reconnectInterval: 1_000, connectionWatchdogInterval: 2 };

async function startMock() {
  const gw = new MockGateway({ port: 0, controlPort: 0 });
  const info = await gw.start();
  const fault = async (path, body = {}) => {
    const res = await fetch(`http://127.0.0.1:${info.controlPort}/faults/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = await res.json();
    if (!json.success) throw new Error(`fault ${path} failed: ${JSON.stringify(json)}`);
  };
  /** Resolves with the time the listener is open again after `down`. */
  const backUp = () =>
    new Promise((resolve) => {
      const off = gw.events.on("state", (e) => {
        if (e.state === "listening") {
          off();
          resolve(performance.now());
        }
      });
    });
  return { gw, port: info.port, fault, backUp };
}

function within(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

// ── our line ──────────────────────────────────────────────────────────────────────────────

function ourLine(port, clientId) {
  const line = new Line({ host: "127.0.0.1", port, clientId });
  const when = (pred) =>
    new Promise((resolve) => {
      const off = line.on("line.state", (e) => {
        if (pred(e)) {
          off();
          resolve(performance.now());
        }
      });
    });
  line.start();
  return { line, when };
}

async function oursDetect() {
  const mock = await startMock();
  const { line, when } = ourLine(mock.port, 1);
  try {
    await line.ready({ timeoutMs: 10_000 });
    // Near the worst case: the stall starts right after the line last heard from TWS.
    while (line.snapshot().heartbeatRttMs === null) await pause(5);
    const detected = when((e) => e.to === "reconnecting");
    const t0 = performance.now();
    await mock.fault("stall", { ms: 60_000 });
    const t1 = await within(detected, DETECT_BOUND_MS);
    return { ms: t1 === null ? null : Math.round(t1 - t0), reason: line.reason };
  } finally {
    await line.close();
    await mock.gw.close();
  }
}

async function oursRecover() {
  const mock = await startMock();
  const { line, when } = ourLine(mock.port, 1);
  const samples = [];
  try {
    await line.ready({ timeoutMs: 10_000 });
    for (let i = 0; i < RECOVER_ROUNDS; i++) {
      const lost = when((e) => e.to === "reconnecting");
      const back = mock.backUp();
      await mock.fault("down", { ms: downMs(i) });
      await lost;
      const ready = when((e) => e.to === "ready");
      const tBack = await back;
      const tReady = await within(ready, RECOVER_BOUND_MS);
      samples.push(tReady === null ? null : Math.round(tReady - tBack));
      await pause(500);
    }
    return { samples, reconnects: line.snapshot().reconnects };
  } finally {
    await line.close();
    await mock.gw.close();
  }
}

// ── @stoqey/ib IBApiNext ──────────────────────────────────────────────────────────────────

function stoqeyClient(port, clientId) {
  const api = new IBApiNext({ host: "127.0.0.1", port, ...STOQEY });
  const states = [];
  const waiters = [];
  const sub = api.connectionState.subscribe((s) => {
    const t = performance.now();
    states.push(s);
    for (const w of [...waiters]) {
      if (w.state === s) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(t);
      }
    }
  });
  api.errorSubject?.subscribe?.(() => {});
  const when = (state) => new Promise((resolve) => waiters.push({ state, resolve }));
  const close = () => {
    sub.unsubscribe();
    api.disconnect();
  };
  return { api, when, close, connect: () => api.connect(clientId), states };
}

async function stoqeyDetect() {
  const mock = await startMock();
  const c = stoqeyClient(mock.port, 2);
  try {
    const connected = c.when(ConnectionState.Connected);
    c.connect();
    if ((await within(connected, 10_000)) === null) throw new Error("@stoqey/ib did not connect");
    await pause(1_000);
    const detected = c.when(ConnectionState.Disconnected);
    const t0 = performance.now();
    await mock.fault("stall", { ms: 60_000 });
    const t1 = await within(detected, DETECT_BOUND_MS);
    return { ms: t1 === null ? null : Math.round(t1 - t0) };
  } finally {
    c.close();
    await mock.gw.close();
  }
}

async function stoqeyRecover() {
  const mock = await startMock();
  const c = stoqeyClient(mock.port, 2);
  const samples = [];
  try {
    const connected = c.when(ConnectionState.Connected);
    c.connect();
    if ((await within(connected, 10_000)) === null) throw new Error("@stoqey/ib did not connect");
    for (let i = 0; i < RECOVER_ROUNDS; i++) {
      const lost = c.when(ConnectionState.Disconnected);
      const back = mock.backUp();
      await mock.fault("down", { ms: downMs(i) });
      await lost;
      const again = c.when(ConnectionState.Connected);
      const tBack = await back;
      const tConnected = await within(again, RECOVER_BOUND_MS);
      samples.push(tConnected === null ? null : Math.round(tConnected - tBack));
      await pause(500);
    }
    return { samples };
  } finally {
    c.close();
    await mock.gw.close();
  }
}

/** Samples plus summary; a round that never recovered counts as missing. */
function stats(samples) {
  const ok = samples.filter((x) => x !== null);
  const { p50, max, mean } = summarize(ok);
  return {
    samples,
    p50,
    max,
    mean: ok.length ? Math.round(mean) : null,
    missing: samples.length - ok.length,
  };
}

const ratio = (baseline, ours) => (baseline === null || ours === null || ours === 0 ? null : baseline / ours);

const detect = { ours: await oursDetect(), stoqey: await stoqeyDetect() };
const recover = { ours: await oursRecover(), stoqey: await stoqeyRecover() };

report("line", {
  runs: 1,
  faults: {
    stall: "POST /faults/stall {ms:60000}",
    down: `POST /faults/down {ms}, ms = ${DOWN_MS} + round·211`,
  },
  settings: {
    ours: "Line defaults: probe after 2000 ms quiet, deadline 2500 ms, 1 miss; backoff 250 ms→30 s full jitter; TCP probe every 500 ms",
    stoqey: STOQEY,
  },
  detectStallMs: {
    ours: detect.ours.ms,
    stoqey: detect.stoqey.ms,
    stoqeyNote:
      detect.stoqey.ms === null
        ? `not detected within ${DETECT_BOUND_MS} ms: IBApiNext's watchdog only acts when the socket is already closed`
        : undefined,
    ratioStoqeyOverOurs: ratio(detect.stoqey.ms ?? DETECT_BOUND_MS, detect.ours.ms),
    ratioIsLowerBound: detect.stoqey.ms === null,
    goalMs: 5_000,
    goalMet: detect.ours.ms !== null && detect.ours.ms <= 5_000,
    oursReason: detect.ours.reason,
  },
  recoverAfterDownMs: {
    rounds: RECOVER_ROUNDS,
    ours: stats(recover.ours.samples),
    stoqey: stats(recover.stoqey.samples),
    note: "from the mock's listener reopening to ours: ready (NEXT_VALID_ID + MANAGED_ACCTS); stoqey: ConnectionState.Connected",
    ratioStoqeyOverOursP50: ratio(stats(recover.stoqey.samples).p50, stats(recover.ours.samples).p50),
    goalMs: 1_000,
    goalMet: recover.ours.samples.every((x) => x !== null && x <= 1_000),
  },
});
process.exit(0);
