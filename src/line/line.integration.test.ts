/**
 * The line against the real mock gateway over loopback TCP, one fault at a time. No timed
 * assertions: each test waits for the events it expects, with generous bounds. Heartbeat
 * and handshake windows are shortened so the suite runs in seconds; the defaults are
 * measured by bench/line.bench.mjs.
 */
import { createServer } from "node:net";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type Clock, systemClock, type TimerHandle } from "../clock.js";
import { MockGateway } from "../mock/gateway.js";
import type { MockGatewayOptions } from "../mock/options.js";
import { type ClientIdSource, rangeClientIds } from "./client-ids.js";
import { Line } from "./line.js";
import type { LineEvent } from "./line-events.js";
import type { LineOptions } from "./options.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

const BOUND_MS = 15_000;
const toClose: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c.close();
});

async function mock(options: MockGatewayOptions = {}) {
  const gw = new MockGateway({ port: 0, controlPort: 0, now: TEST_NOW, ...options });
  toClose.push(gw);
  const info = await gw.start();
  const fault = async (path: string, body: unknown = {}) => {
    const res = await fetch(`http://127.0.0.1:${info.controlPort}/faults/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { success: boolean };
    expect(json.success).toBe(true);
  };
  return { gw, port: info.port, fault };
}

/** Short windows so faults are found in well under a second; behaviour is the same. */
const FAST: LineOptions = {
  heartbeatIdleMs: 300,
  heartbeatDeadlineMs: 700,
  handshakeTimeoutMs: 1_500,
  connectTimeoutMs: 1_000,
  backoffInitialMs: 50,
  backoffMaxMs: 1_000,
};

function line(port: number, options: LineOptions = {}): Line {
  const l = new Line({ host: "127.0.0.1", port, clientId: 1, ...FAST, ...options });
  toClose.push(l);
  l.start();
  return l;
}

/** Resolve with the first event matching `pred`; fail after BOUND_MS. */
function next<T extends LineEvent["type"]>(
  l: Line,
  type: T,
  pred: (e: Extract<LineEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<LineEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(`no ${type} event matching ${pred.toString()} within ${BOUND_MS} ms (state ${l.state})`),
      );
    }, BOUND_MS);
    const off = l.on(type, (e) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

const toState = (l: Line, to: string) => next(l, "line.state", (e) => e.to === to);

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + BOUND_MS;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

function captureLogs() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n")) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

describe("Line against the mock gateway", () => {
  it("connects, handshakes, starts the API and becomes ready", async () => {
    const { port } = await mock({ accounts: ["DU111", "DU222"] });
    const l = line(port, { clientId: 3 });
    await l.ready({ timeoutMs: BOUND_MS });
    const s = l.snapshot();
    expect(s).toMatchObject({
      state: "ready",
      clientId: 3,
      serverVersion: 178,
      accounts: ["DU111", "DU222"],
    });
    expect(s.nextValidId).toBeGreaterThan(0);
    expect(s.connectedSince).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(l.serverVersion).toBe(178);
  });

  it("forwards inbound messages and sends frames", async () => {
    const { port } = await mock();
    const l = line(port, { heartbeatIdleMs: 60_000 });
    await l.ready({ timeoutMs: BOUND_MS });
    const got = new Promise<readonly string[]>((resolve) => {
      l.onMessage((id, fields) => {
        if (id === 49) resolve(fields);
      });
    });
    l.send(["49", "1"]);
    const fields = await got;
    expect(fields[0]).toBe("49");
    expect(Number(fields[2])).toBeGreaterThan(1_600_000_000);
  });

  it("drop: reconnects and asks for a resubscribe", async () => {
    const { port, fault } = await mock();
    const l = line(port);
    await l.ready({ timeoutMs: BOUND_MS });
    const gen = l.generation;
    const lost = next(l, "line.state", (e) => e.from === "ready" && e.to === "reconnecting");
    const back = toState(l, "ready");
    const resub = next(l, "line.resubscribe");
    await fault("drop");
    await lost;
    await back;
    expect(await resub).toMatchObject({ dataLost: true, cause: "reconnect" });
    expect(l.generation).toBeGreaterThan(gen);
    expect(l.snapshot()).toMatchObject({ reconnects: 1, state: "ready" });
    expect(l.snapshot().timeToRecoverMs).not.toBeNull();
  });

  it("down 3 s: keeps trying and comes back through the fast path", async () => {
    const { port, fault } = await mock();
    // Long backoff on purpose: only the 500 ms TCP probe can bring the line back quickly.
    const l = line(port, { backoffInitialMs: 20_000, backoffMaxMs: 30_000, random: () => 1 });
    await l.ready({ timeoutMs: BOUND_MS });
    const lost = toState(l, "reconnecting");
    const fast = next(l, "line.state", (e) => e.to === "connecting" && /fast path/.test(e.reason));
    const back = toState(l, "ready");
    await fault("down", { ms: 3_000 });
    await lost;
    await fast;
    await back;
    expect(l.snapshot().reconnects).toBe(1);
  });

  it("stall (half-open): the heartbeat finds it, the line reconnects once the stall ends", async () => {
    const { port, fault } = await mock();
    const l = line(port);
    await l.ready({ timeoutMs: BOUND_MS });
    const stale = next(l, "line.state", (e) => e.to === "reconnecting" && /heartbeat/.test(e.reason));
    await fault("stall", { ms: 60_000 });
    await stale;
    expect(l.snapshot().timeToDetectMs).not.toBeNull();
    // New sockets get no handshake reply during a stall: the handshake times out.
    await next(l, "line.state", (e) => e.to === "reconnecting" && /handshake timeout/.test(e.reason));
    const back = toState(l, "ready");
    await fault("clear");
    await back;
  });

  it("1100 then 1102: degraded with the socket kept, then ready again", async () => {
    const { port, fault } = await mock();
    const l = line(port);
    await l.ready({ timeoutMs: BOUND_MS });
    const gen = l.generation;
    const degraded = toState(l, "degraded");
    const notice = next(l, "line.notice", (e) => e.code === 1100);
    await fault("error", { code: 1100 });
    expect(await notice).toMatchObject({ id: -1, level: "warn" });
    expect(await degraded).toMatchObject({ from: "ready", generation: gen });
    expect(l.snapshot().state).toBe("degraded");
    const ready = toState(l, "ready");
    await fault("error", { code: 1102 });
    expect(await ready).toMatchObject({ from: "degraded", generation: gen });
    expect(l.generation).toBe(gen);
    expect(l.snapshot().reconnects).toBe(0);
  });

  it("1101: emits line.resubscribe with dataLost on the same socket", async () => {
    const { port, fault } = await mock();
    const l = line(port);
    await l.ready({ timeoutMs: BOUND_MS });
    const gen = l.generation;
    const resub = next(l, "line.resubscribe");
    await fault("error", { code: 1101 });
    expect(await resub).toMatchObject({ dataLost: true, cause: "1101", generation: gen });
    expect(l.state).toBe("ready");
  });

  it("2110: degraded until connectivity is restored", async () => {
    const { port, fault } = await mock();
    const l = line(port);
    await l.ready({ timeoutMs: BOUND_MS });
    const degraded = toState(l, "degraded");
    await fault("error", { code: 2110 });
    expect((await degraded).reason).toMatch(/^2110/);
    const ready = toState(l, "ready");
    await fault("error", { code: 1102 });
    await ready;
  });

  it("farm notices are line.notice events at info (OK) and warn (broken)", async () => {
    const { port, fault } = await mock();
    const l = line(port);
    await l.ready({ timeoutMs: BOUND_MS });
    const broken = next(l, "line.notice", (e) => e.code === 2103);
    await fault("error", { code: 2103 });
    expect((await broken).level).toBe("warn");
    const ok = next(l, "line.notice", (e) => e.code === 2104);
    await fault("error", { code: 2104 });
    expect((await ok).level).toBe("info");
    expect(l.state).toBe("ready");
  });

  it("326 on connect: the line comes up on another id and cools the taken one down", async () => {
    const { port } = await mock();
    const holder = line(port, { clientId: 5 });
    await holder.ready({ timeoutMs: BOUND_MS });
    const rejected: number[] = [];
    const range = rangeClientIds(5, 9);
    const ids: ClientIdSource = {
      acquire: () => range.acquire(),
      rejected: (id) => {
        rejected.push(id);
        range.rejected(id);
      },
    };
    const l = new Line({ host: "127.0.0.1", port, clientIds: ids, ...FAST });
    toClose.push(l);
    const taken = next(l, "line.notice", (e) => e.code === 326);
    l.start();
    await taken;
    await l.ready({ timeoutMs: BOUND_MS });
    expect(l.clientId).toBe(6);
    expect(rejected).toEqual([5]);
  });

  it("326 with live orders: waits for its own id past the order wait, never switches, never orphans", async () => {
    const { port } = await mock();
    const holder = line(port, { clientId: 5 });
    await holder.ready({ timeoutMs: BOUND_MS });
    const l = new Line({
      host: "127.0.0.1",
      port,
      clientIds: rangeClientIds(5, 9),
      placedOrders: () => [777],
      orderClientIdWaitMs: 200,
      ...FAST,
    });
    toClose.push(l);
    const orphaned: unknown[] = [];
    l.on("orders.orphaned", (e) => orphaned.push(e));
    const startedAt = Date.now();
    let refusals = 0;
    l.on("line.notice", (e) => {
      if (e.code === 326) refusals++;
    });
    const held = next(
      l,
      "line.state",
      (e) => /client_id_held/.test(e.reason) && /still waiting/.test(e.reason),
    );
    l.start();
    await held;
    // Past the order wait and refused more than once: still on id 5, nothing orphaned.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200);
    expect(refusals).toBeGreaterThanOrEqual(2);
    await holder.close();
    await l.ready({ timeoutMs: BOUND_MS });
    expect(l.clientId).toBe(5);
    expect(orphaned).toEqual([]);
  });

  it("latency below the deadline keeps the line ready and shows in the RTT", async () => {
    const { port, fault } = await mock();
    const l = line(port, { heartbeatIdleMs: 200, heartbeatDeadlineMs: 2_000 });
    await l.ready({ timeoutMs: BOUND_MS });
    const states: string[] = [];
    l.on("line.state", (e) => states.push(e.to));
    await fault("latency", { ms: 300 });
    await until(() => (l.snapshot().heartbeatRttMs ?? 0) >= 300, "a heartbeat RTT of at least 300 ms");
    expect(states).toEqual([]);
    expect(l.state).toBe("ready");
  });

  it("latency above the deadline makes the line stale", async () => {
    const { port, fault } = await mock();
    const l = line(port, { heartbeatIdleMs: 200, heartbeatDeadlineMs: 400 });
    await l.ready({ timeoutMs: BOUND_MS });
    const stale = next(l, "line.state", (e) => e.to === "reconnecting" && /heartbeat/.test(e.reason));
    await fault("latency", { ms: 1_500 });
    await stale;
    const back = toState(l, "ready");
    await fault("clear");
    await back;
  });

  it("sleep simulated via the clock: a wake-up probes at once and finds a dead line", async () => {
    const { port, fault } = await mock();
    const clock = new JumpClock();
    // The idle probe is an hour away: only the wake-up can find the stall.
    const l = line(port, {
      clock,
      heartbeatIdleMs: 3_600_000,
      heartbeatDeadlineMs: 500,
      sleepCheckIntervalMs: 100,
    });
    await l.ready({ timeoutMs: BOUND_MS });
    await fault("stall", { ms: 60_000 });
    const stale = next(l, "line.state", (e) => e.to === "reconnecting" && /heartbeat/.test(e.reason));
    clock.jump(120_000);
    await stale;
    expect(l.snapshot().sleeps).toBe(1);
  });

  it("gateway absent at start: keeps trying without crashing or flooding the log, then connects", async () => {
    const port = await freePort();
    const { logger, lines } = captureLogs();
    const l = line(port, { logger, backoffInitialMs: 20, backoffMaxMs: 100 });
    let failures = 0;
    l.on("line.state", (e) => {
      if (e.to === "reconnecting") failures++;
    });
    await until(() => failures >= 10, "ten failed attempts");
    const warnings = lines.filter((x) => x.level >= 40);
    expect(warnings.length).toBeLessThanOrEqual(1);
    expect(l.snapshot().attempts).toBeGreaterThanOrEqual(10);
    const gw = new MockGateway({ port, controlPort: null, now: TEST_NOW });
    toClose.splice(toClose.indexOf(l), 0, gw);
    await gw.start();
    await l.ready({ timeoutMs: BOUND_MS });
    expect(l.snapshot().attempts).toBe(0);
  });

  it("graceful close: releases the id, sends nothing more, never reconnects", async () => {
    const { gw, port } = await mock();
    let released = 0;
    const ids: ClientIdSource = {
      acquire: async () => ({ clientId: 4, release: async () => void released++ }),
      rejected: () => {},
    };
    const l = new Line({ host: "127.0.0.1", port, clientIds: ids, ...FAST });
    l.start();
    await l.ready({ timeoutMs: BOUND_MS });
    let started = 0;
    gw.events.on("client.started", () => started++);
    const events: string[] = [];
    l.on("line.state", (e) => events.push(e.to));
    await l.close();
    expect(l.state).toBe("closed");
    expect(released).toBe(1);
    expect(() => l.send(["49", "1"])).toThrow(expect.objectContaining({ code: "closed" }));
    await until(() => gw.snapshot().clients.length === 0, "the mock to see the client leave");
    // Several backoff periods (50 ms initial) pass: nothing may dial again.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(started).toBe(0);
    expect(events).toEqual(["closed"]);
    await l.close();
    await expect(l.ready()).rejects.toMatchObject({ code: "closed" });
  });
});

/** Wall time that can jump forward, as after a suspend; timers stay real. */
class JumpClock implements Clock {
  #offset = 0;
  now(): number {
    return systemClock.now() + this.#offset;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return systemClock.setTimeout(fn, ms);
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    systemClock.clearTimeout(handle);
  }
  jump(ms: number): void {
    this.#offset += ms;
  }
}
