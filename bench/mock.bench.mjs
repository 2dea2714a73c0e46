// Mock gateway: (1) handshake + first answer latency (connect → hello → START_API →
// NEXT_VALID_ID → REQ_CURRENT_TIME answered), sequential connections, p50/p99, against a bare
// TCP echo round trip measured in the same run; (2) ticks per second the mock pushes to 50
// clients (2 market-data lines each = 100 lines, IB's default maximum), against a bare server
// that writes pre-encoded frames of the same count to the same sockets on the same cadence.
import { once } from "node:events";
import { connect, createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { MockGateway } from "../dist/mock/index.js";
import {
  contract,
  encodeClientHello,
  encodeMessage,
  FrameDecoder,
  REQ_CURRENT_TIME,
  REQ_MKT_DATA,
  START_API,
  TICK_PRICE,
} from "../dist/protocol/index.js";
import { report, summarize } from "./lib.mjs";

const CONNECTIONS = Number(process.env.BENCH_MOCK_CONNECTIONS ?? 300);
const CLIENTS = Number(process.env.BENCH_MOCK_CLIENTS ?? 50);
const LINES_PER_CLIENT = 2;
const TICK_MS = Number(process.env.BENCH_MOCK_TICK_MS ?? 5);
const TICK_SECONDS = Number(process.env.BENCH_MOCK_TICK_SECONDS ?? 3);
const V = 178;

function counter(socket, onFrame) {
  const dec = new FrameDecoder();
  socket.on("data", (chunk) => {
    for (const p of dec.push(chunk)) onFrame(p);
  });
}

/** Resolves once a frame starting with message id `id` arrives. */
function waitId(state, id) {
  return new Promise((resolve) => state.waiters.push({ id, resolve }));
}

async function handshakeOnce(port, clientId) {
  const t0 = performance.now();
  const socket = connect({ port, host: "127.0.0.1" });
  socket.setNoDelay(true);
  await once(socket, "connect");
  const state = { hello: false, waiters: [] };
  let tHello = 0;
  counter(socket, (p) => {
    if (!state.hello) {
      state.hello = true;
      tHello = performance.now();
      socket.write(encodeMessage(START_API, { clientId, optionalCapabilities: "" }, V));
      return;
    }
    const id = p.toString("latin1", 0, p.indexOf(0));
    for (const w of [...state.waiters]) {
      if (w.id === id) {
        state.waiters.splice(state.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const ready = waitId(state, "9");
  socket.write(encodeClientHello({ min: 157, max: 178, options: "" }));
  await ready;
  const answered = waitId(state, "49");
  socket.write(encodeMessage(REQ_CURRENT_TIME, {}, V));
  await answered;
  const t1 = performance.now();
  socket.destroy();
  return { hello: tHello - t0, total: t1 - t0 };
}

async function echoBaseline(n) {
  const server = createServer((s) => s.on("data", (d) => s.write(d)));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = server.address().port;
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const s = connect({ port, host: "127.0.0.1" });
    s.setNoDelay(true);
    await once(s, "connect");
    s.write("x");
    await once(s, "data");
    samples.push(performance.now() - t0);
    s.destroy();
  }
  server.close();
  return summarize(samples);
}

async function handshakeBench() {
  const gw = new MockGateway({ port: 0, controlPort: null, maxClients: 1000 });
  const { port } = await gw.start();
  for (let i = 0; i < 20; i++) await handshakeOnce(port, 10_000 + i); // warm-up
  const hello = [];
  const total = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const r = await handshakeOnce(port, i + 1);
    hello.push(r.hello);
    total.push(r.total);
  }
  await gw.close();
  const baseline = await echoBaseline(CONNECTIONS);
  const t = summarize(total);
  return {
    connections: CONNECTIONS,
    helloMs: summarize(hello),
    firstAnswerMs: t,
    baselineConnectEchoMs: baseline,
    ratioP50VsEcho: t.p50 / baseline.p50,
  };
}

async function openClients(port, n, onTick) {
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const socket = connect({ port, host: "127.0.0.1" });
    await once(socket, "connect");
    const state = { hello: false, waiters: [] };
    counter(socket, (p) => {
      if (!state.hello) {
        state.hello = true;
        socket.write(encodeMessage(START_API, { clientId: i + 1, optionalCapabilities: "" }, V));
        return;
      }
      if (p[0] === 0x31 && p[1] === 0)
        onTick(); // TICK_PRICE "1"
      else if (p[0] === 0x32 && p[1] === 0)
        onTick(); // TICK_SIZE "2"
      else if (p[0] === 0x34 && p[1] === 0x36 && p[2] === 0) onTick(); // TICK_STRING "46"
      const id = p.toString("latin1", 0, p.indexOf(0));
      for (const w of [...state.waiters]) if (w.id === id) w.resolve();
    });
    const ready = waitId(state, "9");
    socket.write(encodeClientHello({ min: 157, max: 178, options: "" }));
    await ready;
    sockets.push(socket);
  }
  return sockets;
}

async function ticksBench() {
  const gw = new MockGateway({ port: 0, controlPort: null, tickIntervalMs: TICK_MS, maxClients: 100 });
  const { port } = await gw.start();
  let received = 0;
  const sockets = await openClients(port, CLIENTS, () => received++);
  const symbols = ["AAPL", "MSFT", "SPY", "AMZN", "GOOGL", "TSLA", "NVDA", "META", "IBM", "QQQ"];
  let tickerId = 0;
  for (const s of sockets) {
    for (let k = 0; k < LINES_PER_CLIENT; k++) {
      const sym = symbols[tickerId++ % symbols.length];
      s.write(
        encodeMessage(
          REQ_MKT_DATA,
          {
            tickerId,
            contract: contract({ symbol: sym, secType: "STK", exchange: "SMART", currency: "USD" }),
            comboLegs: [],
            deltaNeutral: undefined,
            genericTickList: "",
            snapshot: false,
            regulatorySnapshot: false,
            mktDataOptions: "",
          },
          V,
        ),
      );
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  const sent0 = gw.streamer.ticksSent;
  const recv0 = received;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, TICK_SECONDS * 1000));
  const secs = (performance.now() - t0) / 1000;
  const sent = (gw.streamer.ticksSent - sent0) / secs;
  const recv = (received - recv0) / secs;
  const drops = gw.counters.backpressureDrops;
  for (const s of sockets) s.destroy();
  await gw.close();

  // Ceiling: the same number of frames per round, pre-encoded, written to 50 sockets.
  const frame = encodeMessage(
    TICK_PRICE,
    { tickerId: 1, tickType: 1, price: 190.12, size: "300", attrMask: 1 },
    V,
  );
  const perRound = 5 * LINES_PER_CLIENT;
  const server = createServer((s) => {
    s.setNoDelay(true);
    peers.push(s);
  });
  const peers = [];
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  let baseRecv = 0;
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = connect({ port: server.address().port, host: "127.0.0.1" });
    await once(c, "connect");
    counter(c, () => baseRecv++);
    clients.push(c);
  }
  while (peers.length < CLIENTS) await new Promise((r) => setTimeout(r, 5));
  let running = true;
  const loop = () => {
    if (!running) return;
    for (const p of peers) for (let k = 0; k < perRound; k++) p.write(frame);
    setTimeout(loop, TICK_MS);
  };
  loop();
  await new Promise((r) => setTimeout(r, 300));
  const b0 = baseRecv;
  const tb = performance.now();
  await new Promise((r) => setTimeout(r, TICK_SECONDS * 1000));
  const baseline = (baseRecv - b0) / ((performance.now() - tb) / 1000);
  running = false;
  for (const c of clients) c.destroy();
  server.close();
  return {
    clients: CLIENTS,
    lines: CLIENTS * LINES_PER_CLIENT,
    tickIntervalMs: TICK_MS,
    ticksPerSecondSent: Math.round(sent),
    ticksPerSecondReceived: Math.round(recv),
    backpressureDrops: drops,
    baselinePreEncodedPerSecond: Math.round(baseline),
    ratioVsBaseline: recv / baseline,
  };
}

const handshake = await handshakeBench();
const ticks = await ticksBench();
report("mock", { handshake, ticks });
