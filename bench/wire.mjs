// Helpers of the benches that cross process boundaries: child processes that print one JSON
// line when ready, /proc readings, and a bare TWS client over our codec.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { performance } from "node:perf_hooks";

/**
 * Run `script` with `args` as a child (with `env` added to this process's environment);
 * resolves `info` with the first JSON line it prints.
 */
export function child(script, args, env = {}) {
  const p = spawn(process.execPath, [script, ...args], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const lines = [];
  let waiting;
  let buf = "";
  p.stdout.on("data", (d) => {
    buf += d;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(line);
      } else lines.push(line);
    }
  });
  const next = () =>
    new Promise((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      waiting = resolve;
      p.once("exit", (code) => reject(new Error(`${args[0]} exited ${code}`)));
    });
  return {
    p,
    info: next(),
    /** Send one command line; resolves with the JSON line it answers. */
    ask: (command) => {
      p.stdin.write(`${command}\n`);
      return next();
    },
    stop: () =>
      new Promise((r) => {
        p.once("exit", r);
        p.stdin.end();
      }),
  };
}

export function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb("VmRSS") / 1024, peakRssMb: kb("VmHWM") / 1024 };
}

/** CPU time (user + system) the process has used, in ms (/proc: clock ticks of 10 ms). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

export const isTickId = (id) => id === "1" || id === "2";

/** A bare client: handshake, START_API, counts ticks; `onMessage(id, payload)` sees the rest. */
export async function openClient(port, clientId, version = 178) {
  const { FrameDecoder, encodeClientHello, encodeFields, encodeFrame, decodeFields } =
    await import("../dist/protocol/index.js");
  const socket = connect({ host: "127.0.0.1", port });
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const frames = new FrameDecoder();
  const c = {
    socket,
    version: 0,
    onMessage: undefined,
    ticks: 0,
    errors: new Map(),
    send: (fields) => socket.write(encodeFrame(encodeFields(fields))),
    close: () => socket.destroy(),
  };
  let ready;
  const started = new Promise((r) => {
    ready = r;
  });
  socket.on("data", (chunk) => {
    for (const p of frames.push(chunk)) {
      const first = p.indexOf(0);
      const id = p.toString("latin1", 0, first === -1 ? p.length : first);
      if (c.version === 0) {
        c.version = Number(id);
        c.send(["71", "2", String(clientId), ""]);
        continue;
      }
      if (id === "9") ready();
      if (isTickId(id)) c.ticks++;
      else if (id === "4") {
        const code = decodeFields(p)[3];
        c.errors.set(code, (c.errors.get(code) ?? 0) + 1);
      }
      c.onMessage?.(id, p, decodeFields);
    }
  });
  socket.on("error", () => {});
  socket.write(encodeClientHello({ min: 157, max: version, options: "" }));
  await started;
  return c;
}

/**
 * REQ_MKT_DATA v11 at 178: id, version, tickerId, contract (conId…tradingClass), no combo,
 * no delta-neutral, generic ticks, snapshot, regulatory snapshot, options.
 */
export function mktData(tickerId, symbol) {
  return [
    "1",
    "11",
    String(tickerId),
    "0",
    symbol,
    "STK",
    "",
    "0",
    "",
    "",
    "SMART",
    "",
    "USD",
    "",
    "",
    "0",
    "0",
    "",
    "0",
    "0",
    "",
  ];
}

export const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The proxy as the benches run it: a line to the mock at `mockPort` (line options merged in),
 * a pacer, a switch and a proxy server on a free port. Resolves when the proxy listens.
 */
export async function startBenchProxy(mockPort, lineOptions = {}) {
  const { Line } = await import("../dist/line/index.js");
  const { Pacer } = await import("../dist/pacing/index.js");
  const { Switch } = await import("../dist/switch/index.js");
  const { ProxyServer } = await import("../dist/proxy/index.js");
  const line = new Line({ host: "127.0.0.1", port: mockPort, clientId: 1, ...lineOptions });
  line.start();
  await line.ready({ timeoutMs: 10_000 });
  const pacer = new Pacer();
  const sw = new Switch(line, pacer);
  const proxy = new ProxyServer(sw, { port: 0, pacer });
  const { port } = await proxy.start();
  const close = async () => {
    await proxy.close();
    await sw.close();
    await line.close();
    await pacer.close();
  };
  return { port, line, pacer, sw, proxy, close };
}

/** The floor any proxy sits on: copy bytes both ways, nothing else (no framing, no pacing). */
export async function startRelay(mockPort) {
  const server = createServer((down) => {
    down.setNoDelay(true);
    const up = connect({ host: "127.0.0.1", port: mockPort });
    up.setNoDelay(true);
    down.pipe(up);
    up.pipe(down);
    const end = () => {
      down.destroy();
      up.destroy();
    };
    down.on("error", end).on("close", end);
    up.on("error", end).on("close", end);
  });
  await new Promise((r) => server.listen({ host: "127.0.0.1", port: 0 }, r));
  return { port: server.address().port, server };
}

/** One reqCurrentTime on a bare client (openClient): resolves with its round trip in ms. */
export function currentTimeRoundTrip(c) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    c.onMessage = (id) => {
      if (id !== "49") return;
      c.onMessage = undefined;
      resolve(performance.now() - t0);
    };
    c.send(["49", "1"]);
  });
}
