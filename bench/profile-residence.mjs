// Where a round trip's time goes inside the proxy process, next to the bare relay: for each
// reqCurrentTime, the µs from the socket's 'data' event to the write that forwards it (the
// request upstream, the answer downstream), and for the proxy the µs at which the request
// reaches each stage of its path. Not a bench (run.mjs does not pick it up); it prints JSON.
//
//   node bench/profile-residence.mjs             # one round trip per path every 25 ms
//   RESIDENCE_SPACING_MS=0 node bench/…          # back to back (the proxy's pacer then waits)
//
// The stages are public methods wrapped at run time (the frame decoder, the tenant, the
// pacer, the line), so the figures include the wrapping's own few hundred ns per stage.
import net from "node:net";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { child, currentTimeRoundTrip, openClient, pause, startBenchProxy, startRelay } from "./wire.mjs";

const SAMPLES = Number(process.env.RESIDENCE_SAMPLES ?? 300);
const SPACING_MS = Number(process.env.RESIDENCE_SPACING_MS ?? 25);
const self = fileURLToPath(import.meta.url);
const proxyBench = fileURLToPath(new URL("./proxy.bench.mjs", import.meta.url));

const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(p * (s.length - 1))] : null;
};
const us = (ms) => (ms === null ? null : Math.round(ms * 1000));

/** Marks every socket 'data' and every socket write of this process. */
function watchSockets() {
  const marks = { lastData: 0, request: [], answer: [], stages: {} };
  const emit = net.Socket.prototype.emit;
  net.Socket.prototype.emit = function (event, ...args) {
    if (event === "data") marks.lastData = performance.now();
    return emit.call(this, event, ...args);
  };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    this.upstream = true; // the only sockets this process dials go to the mock
    return connect.apply(this, args);
  };
  for (const name of ["_writeGeneric", "_writev"]) {
    const write = net.Socket.prototype[name];
    net.Socket.prototype[name] = function (...args) {
      (this.upstream ? marks.request : marks.answer).push(performance.now() - marks.lastData);
      return write.apply(this, args);
    };
  }
  return marks;
}

function stage(marks, proto, method, label) {
  const fn = proto[method];
  proto[method] = function (...args) {
    const at = performance.now() - marks.lastData;
    (marks.stages[label] ??= []).push(at);
    return fn.apply(this, args);
  };
}

async function serve(kind, mockPort) {
  const marks = watchSockets();
  if (kind === "proxy") {
    const { Line } = await import("../dist/line/index.js");
    const { Pacer } = await import("../dist/pacing/index.js");
    const { Tenant } = await import("../dist/switch/tenant.js");
    const { FrameDecoder } = await import("../dist/protocol/frame.js");
    stage(marks, FrameDecoder.prototype, "push", "1 frame decoder");
    stage(marks, Tenant.prototype, "send", "2 tenant.send (switch)");
    stage(marks, Pacer.prototype, "releaseNow", "3 pacer");
    stage(marks, Pacer.prototype, "acquire", "3 pacer (queued)");
    stage(marks, Line.prototype, "send", "4 line.send (encode, write)");
    const { port } = await startBenchProxy(mockPort);
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  } else {
    const { port } = await startRelay(mockPort);
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  }
  process.stdin.on("data", () => {
    const last = (xs) => xs.slice(-SAMPLES);
    const stages = Object.fromEntries(
      Object.entries(marks.stages)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, { p50Us: us(quantile(last(v), 0.5)), calls: v.length }]),
    );
    const out = {
      requestP50Us: us(quantile(last(marks.request), 0.5)),
      requestP90Us: us(quantile(last(marks.request), 0.9)),
      answerP50Us: us(quantile(last(marks.answer), 0.5)),
      answerP90Us: us(quantile(last(marks.answer), 0.9)),
      ...(kind === "proxy" ? { stagesReachedAtUs: stages } : {}),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  });
  process.stdin.on("end", () => process.exit(0));
}

async function main() {
  const mock = child(proxyBench, ["mock"]);
  const { port: mockPort } = await mock.info;
  const proxy = child(self, ["proxy", String(mockPort)]);
  const relay = child(self, ["relay", String(mockPort)]);
  const viaProxy = await openClient((await proxy.info).port, 77);
  const viaRelay = await openClient((await relay.info).port, 78);
  const p = [];
  const r = [];
  for (let i = 0; i < SAMPLES + 20; i++) {
    const a = await currentTimeRoundTrip(viaProxy);
    const b = await currentTimeRoundTrip(viaRelay);
    if (i >= 20) {
      p.push(a);
      r.push(b);
    }
    await pause(SPACING_MS);
  }
  const result = {
    samples: SAMPLES,
    spacingMs: SPACING_MS,
    roundTripP50Ms: { proxy: quantile(p, 0.5), relay: quantile(r, 0.5) },
    proxy: await proxy.ask("report"),
    relay: await relay.ask("report"),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  viaProxy.close();
  viaRelay.close();
  await proxy.stop();
  await relay.stop();
  await mock.stop();
}

const role = process.argv[2];
if (role === "proxy" || role === "relay") await serve(role, Number(process.argv[3]));
else await main();
