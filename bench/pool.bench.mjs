// Pooled acquire vs a fresh connection, and the switch's cost per request vs a raw line.
// Both sides run against the same in-process mock gateway in the same run.
import { Line, Switchboard } from "../dist/index.js";
import { MockGateway } from "../dist/mock/index.js";
import { IN, OUT } from "../dist/protocol/index.js";
import { report, summarize } from "./lib.mjs";

const mock = new MockGateway({ port: 0, controlPort: null });
await mock.start();
const lineOpts = (clientId) => ({ host: "127.0.0.1", port: mock.port, clientId });
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

// Fresh: connect + handshake (+ first answer), every time (what seed 001's scripts do).
const freshReady = [];
const fresh = [];
for (let i = 0; i < 20; i++) {
  const t0 = process.hrtime.bigint();
  const sb = await Switchboard.connect({ line: lineOpts(100 + i) });
  const c = await sb.acquire("bench");
  freshReady.push(ms(t0));
  await c.currentTime();
  fresh.push(ms(t0));
  await sb.close();
}

// Pooled: one line, a client per job.
const sb = await Switchboard.connect({ line: lineOpts(7) });
const pooled = [];
const pooledReady = [];
for (let i = 0; i < 40; i++) {
  const t0 = process.hrtime.bigint();
  const c = await sb.acquire("bench");
  pooledReady.push(ms(t0));
  await c.currentTime();
  pooled.push(ms(t0));
  await c.close();
  // Stay under the 45/s the pacer aims at, so this measures the pool, not pacing.
  await new Promise((r) => setTimeout(r, 25));
}

// Switch overhead: REQ_CURRENT_TIME round trips through the typed client vs on a raw line.
const via = [];
const c = await sb.acquire("bench");
for (let i = 0; i < 40; i++) {
  const t0 = process.hrtime.bigint();
  await c.currentTime();
  via.push(ms(t0));
  await new Promise((r) => setTimeout(r, 25));
}
await c.close();
await sb.close();

const raw = new Line({ ...lineOpts(8), heartbeatIdleMs: 60_000 });
raw.start();
await raw.ready();
const rawRtt = [];
for (let i = 0; i < 40; i++) {
  const t0 = process.hrtime.bigint();
  await new Promise((resolve) => {
    const off = raw.onMessage((id) => {
      if (id === IN.CURRENT_TIME) {
        off();
        resolve();
      }
    });
    raw.send([String(OUT.REQ_CURRENT_TIME), "1"]);
  });
  rawRtt.push(ms(t0));
  await new Promise((r) => setTimeout(r, 25));
}
await raw.close();
await mock.close();

const f = summarize(fresh);
const p = summarize(pooled);
const fr = summarize(freshReady);
const pr = summarize(pooledReady);
const v = summarize(via);
const r = summarize(rawRtt);
report("pool", {
  unit: "ms",
  note: "the mock answers a handshake in ~1 ms on loopback; a real TWS takes far longer, so ratios here are conservative",
  toUsableClient: { fresh: fr, pooled: pr, ratioP50: Number((pr.p50 / fr.p50).toFixed(4)) },
  toFirstAnswer: { fresh: f, pooled: p, ratioP50: Number((p.p50 / f.p50).toFixed(3)) },
  goalRatio: 0.05,
  currentTimeViaSwitch: v,
  currentTimeRawLine: r,
  switchOverheadP50Ms: Number((v.p50 - r.p50).toFixed(3)),
});
