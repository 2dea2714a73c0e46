// The order lane's cost. (1) Order-message round trip (PLACE_ORDER out, its ORDER_STATUS back)
// through the switch vs a raw line to the same mock in the same run, with the journal's
// fdatasync, with the journal unsynced, and without a journal; the lane's budget is 0.2 ms p50
// over the raw line excluding the fdatasync. (2) Journal + audit cost per order with 100,000
// orders already in the map, next to the same cost with an empty map (it must stay flat).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { report, summarize, timeOrderRecords } from "./lib.mjs";

const { MockGateway } = await import("../dist/mock/index.js");
const { Line } = await import("../dist/line/index.js");
const { Pacer } = await import("../dist/pacing/index.js");
const { Switch } = await import("../dist/switch/index.js");
const { FileOrderJournal } = await import("../dist/orders/journal.js");
const { FileOrderAudit } = await import("../dist/orders/audit.js");
const { OrderMap } = await import("../dist/switch/order-map.js");
const { toFields } = await import("../dist/protocol/codec.js");
const { PLACE_ORDER, placeOrder } = await import("../dist/protocol/messages/orders.js");
const { contract } = await import("../dist/protocol/messages/contract.js");

const V = 178;
const SAMPLES = Number(process.env.BENCH_ORDER_SAMPLES ?? 200);
/** One order every 25 ms: 40 messages/s, under IB's 50/s on the line. */
const SPACING_MS = 25;
const MAP_SIZE = Number(process.env.BENCH_ORDER_MAP ?? 100_000);
const JOURNAL_SAMPLES = 500;
const AAPL = contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const order = (orderId, ref) =>
  toFields(
    PLACE_ORDER,
    placeOrder({
      orderId,
      contract: AAPL,
      action: "BUY",
      totalQuantity: "1",
      orderType: "LMT",
      lmtPrice: 1,
      orderRef: ref,
    }),
    V,
  );

async function openLine(port, clientId) {
  const line = new Line({ host: "127.0.0.1", port, clientId });
  line.start();
  await line.ready({ timeoutMs: 10_000 });
  return line;
}

/** Round trips of PLACE_ORDER → ORDER_STATUS on a raw line. */
async function rawPath(port) {
  const line = await openLine(port, 2);
  let waiting;
  const off = line.onMessage((id, f) => {
    if (id === 3 && waiting && Number(f[1]) === waiting.id) waiting.done();
  });
  const samples = [];
  let next = line.nextValidId ?? 1;
  for (let i = 0; i < SAMPLES; i++) {
    const id = next++;
    const t0 = performance.now();
    await new Promise((resolve) => {
      waiting = { id, done: resolve };
      line.send(order(id, `raw-${id}`));
    });
    samples.push(performance.now() - t0);
    await sleep(SPACING_MS);
  }
  off();
  await line.close();
  return summarize(samples);
}

/** The same through a switch tenant, with the given journal setup. */
async function switchPath(port, clientId, journal) {
  const line = await openLine(port, clientId);
  const pacer = new Pacer();
  const dir = journal ? mkdtempSync(join(tmpdir(), "sb-bench-orders-")) : undefined;
  const j = dir
    ? FileOrderJournal.open({ stateDir: dir, line: "bench", sync: journal === "fdatasync" })
    : undefined;
  const audit = dir ? new FileOrderAudit({ stateDir: dir, line: "bench" }) : undefined;
  const sw = new Switch(line, pacer, { journal: j, audit });
  const t = sw.openTenant({ kind: "proxy", clientId: 5 });
  // How long the event loop is held up (the journal's fdatasync runs in the thread pool).
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let waiting;
  t.onMessage((f) => {
    if (f[0] === "3" && waiting && Number(f[1]) === waiting.id) waiting.done();
  });
  const samples = [];
  for (let i = 0; i < SAMPLES; i++) {
    const id = sw.nextOrderId(t);
    const t0 = performance.now();
    await new Promise((resolve) => {
      waiting = { id, done: resolve };
      t.send(order(id, `sw-${clientId}-${id}`));
    });
    samples.push(performance.now() - t0);
    await sleep(SPACING_MS);
  }
  loop.disable();
  await sw.close();
  await line.close();
  await pacer.close();
  audit?.close();
  j?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  return {
    ...summarize(samples),
    eventLoopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
  };
}

/** intent (fdatasync) + written + audit append per order, with `preload` orders already journaled. */
async function journalCost(preload) {
  const dir = mkdtempSync(join(tmpdir(), "sb-bench-journal-"));
  let j = FileOrderJournal.open({ stateDir: dir, line: "bench", sync: false });
  const map = new OrderMap();
  for (let i = 1; i <= preload; i++) {
    const e = map.add({
      owner: `proxy:${i % 32}`,
      localId: i,
      upstreamId: i,
      upstreamClientId: 1,
      orderRef: `p${i}`,
    });
    j.intent(e, 1);
    j.written(e);
  }
  j.close();
  const t0 = performance.now();
  j = FileOrderJournal.open({ stateDir: dir, line: "bench" });
  const reopenMs = performance.now() - t0;
  const audit = new FileOrderAudit({ stateDir: dir, line: "bench" });
  const samples = await timeOrderRecords(j, audit, map, preload + 1, JOURNAL_SAMPLES);
  audit.close();
  j.close();
  rmSync(dir, { recursive: true, force: true });
  return { perOrderMs: summarize(samples), reopenAndCompactMs: reopenMs };
}

const mock = new MockGateway({ port: 0, controlPort: null, maxClients: 16 });
const { port } = await mock.start();
try {
  const raw = await rawPath(port);
  const switchNoJournal = await switchPath(port, 11, undefined);
  const switchJournalNoSync = await switchPath(port, 12, "nosync");
  const switchJournalFdatasync = await switchPath(port, 13, "fdatasync");
  const empty = await journalCost(0);
  const full = await journalCost(MAP_SIZE);
  report("orders", {
    goal: "lane p50 over a raw line ≤ 0.2 ms without the journal's fdatasync; journal cost flat in the map size",
    roundTripMs: { raw, switchNoJournal, switchJournalNoSync, switchJournalFdatasync },
    laneOverheadP50Ms: {
      noJournal: switchNoJournal.p50 - raw.p50,
      journalNoSync: switchJournalNoSync.p50 - raw.p50,
      journalFdatasync: switchJournalFdatasync.p50 - raw.p50,
    },
    journalPerOrder: { emptyMap: empty, [`map${MAP_SIZE}`]: full },
  });
} finally {
  await mock.close();
}
