/** Timing rules of the line under a ManualClock and a fake network: exact, no sleeping. */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { exponentialBackoff } from "./backoff.js";
import { FakeNet, flush } from "./fake-net.test-util.js";
import { rangeClientIds } from "./client-ids.js";
import { CLIENT_ID_RETRY_MAX_MS, Line } from "./line.js";
import type { LineOptions } from "./options.js";

async function readyLine(options: LineOptions = {}) {
  const clock = new ManualClock();
  const net = new FakeNet();
  const line = new Line({ connector: net.connector, clock, random: () => 1, ...options });
  const states: { to: string; reason: string; at: number }[] = [];
  line.on("line.state", (e) => states.push({ to: e.to, reason: e.reason, at: e.ts }));
  line.start();
  await flush();
  net.settleDial(true);
  await flush();
  net.hello();
  net.nextValidId(42);
  net.accounts();
  await flush();
  expect(line.state).toBe("ready");
  return { clock, net, line, states, t0: clock.now() };
}

describe("Line timing (ManualClock)", () => {
  it("finds a silent line stale at 4.5 s with the default heartbeat", async () => {
    const { clock, line, states, t0 } = await readyLine();
    clock.advance(4_499);
    await flush();
    expect(line.state).toBe("ready");
    clock.advance(1);
    await flush();
    expect(line.state).toBe("reconnecting");
    expect(states.at(-1)).toMatchObject({ to: "reconnecting", at: t0 + 4_500 });
    expect(states.at(-1)?.reason).toMatch(/heartbeat/);
    expect(line.snapshot().timeToDetectMs).toBe(4_500);
  });

  it("swallows answers to its own probes and forwards the rest", async () => {
    const { clock, net, line } = await readyLine();
    const seen: number[] = [];
    line.onMessage((id) => seen.push(id));
    clock.advance(2_000);
    expect(
      Buffer.from(net.current?.written.at(-1) ?? [])
        .subarray(4)
        .toString("latin1"),
    ).toBe("49\u00001\u0000");
    clock.advance(100);
    net.currentTime();
    await flush();
    expect(seen).toEqual([]);
    expect(line.snapshot().heartbeatRttMs).toBe(100);
    net.currentTime();
    expect(seen).toEqual([49]);
  });

  it("takes the fast path as soon as the gateway accepts TCP again", async () => {
    const { clock, net, line, states } = await readyLine({ backoff: () => 20_000 });
    net.current?.peerClose();
    await flush();
    expect(line.state).toBe("reconnecting");
    const dials = net.dials;
    clock.advance(1_500);
    await flush();
    expect(net.dials).toBe(dials);
    net.reachable = true;
    clock.advance(500);
    await flush();
    expect(net.dials).toBe(dials + 1);
    expect(states.at(-1)).toMatchObject({ to: "connecting", reason: "gateway reachable (fast path)" });
  });

  it("does not probe TCP after a handshake timeout (the socket was fine)", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    net.reachable = true;
    const line = new Line({
      connector: net.connector,
      clock,
      backoff: () => 5_000,
      handshakeTimeoutMs: 1_000,
    });
    line.start();
    await flush();
    net.settleDial(true);
    await flush();
    clock.advance(1_000);
    await flush();
    expect(line.reason).toMatch(/handshake timeout/);
    clock.advance(4_999);
    await flush();
    expect(net.dials).toBe(1);
    clock.advance(1);
    await flush();
    expect(net.dials).toBe(2);
  });

  it("starts backoff over after a stable period, keeps counting after a flap", async () => {
    const backoff = exponentialBackoff({ initialMs: 250, maxMs: 30_000 });
    const delays: number[] = [];
    const { clock, net, line } = await readyLine({
      backoff: (a, r) => {
        const d = backoff(a, r);
        delays.push(d ?? -1);
        return d;
      },
      stableAfterMs: 60_000,
      heartbeatIdleMs: 3_600_000,
    });
    const reconnect = async () => {
      net.current?.peerClose();
      await flush();
      clock.advance(delays.at(-1) ?? 0);
      await flush();
      net.settleDial(true);
      await flush();
      net.hello();
      net.nextValidId();
      net.accounts();
      await flush();
      expect(line.state).toBe("ready");
    };
    await reconnect(); // flap right after ready: attempt 1
    await reconnect(); // still flapping: attempt 2
    clock.advance(60_000);
    await reconnect(); // stable for 60 s: back to attempt 1
    expect(delays).toEqual([250, 500, 250]);
    expect(line.snapshot().reconnects).toBe(3);
  });

  it("closes for good when the backoff gives up", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const line = new Line({ connector: net.connector, clock, backoff: (a) => (a > 2 ? null : 10) });
    line.start();
    for (let i = 0; i < 3; i++) {
      await flush();
      net.settleDial(false);
      await flush();
      clock.advance(10);
    }
    await flush();
    expect(line.state).toBe("closed");
    expect(line.reason).toMatch(/gave up after 2 attempts/);
    await expect(line.ready()).rejects.toMatchObject({ code: "closed" });
  });

  it("a wake-up during backoff reconnects at once", async () => {
    const { clock, net, line, states } = await readyLine({ backoff: () => 20_000, fastProbeIntervalMs: 0 });
    net.current?.peerClose();
    await flush();
    const dials = net.dials;
    clock.jump(30_000);
    clock.advance(0);
    await flush();
    expect(net.dials).toBe(dials + 1);
    expect(states.at(-1)).toMatchObject({ to: "connecting", reason: "woke from sleep" });
    expect(line.snapshot().sleeps).toBe(1);
  });

  it("refuses to send while not ready and after close", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const line = new Line({ connector: net.connector, clock });
    line.start();
    expect(() => line.send(["49", "1"])).toThrow(
      expect.objectContaining({ code: "upstream_unavailable", ibCode: 504 }),
    );
    await line.close();
    expect(() => line.send(["49", "1"])).toThrow(expect.objectContaining({ code: "closed" }));
    expect(() => line.start()).toThrow(expect.objectContaining({ code: "closed" }));
  });

  it("ready() honours its timeout on the injected clock", async () => {
    const clock = new ManualClock();
    const net = new FakeNet();
    const line = new Line({ connector: net.connector, clock });
    line.start();
    const p = line.ready({ timeoutMs: 1_000 });
    clock.advance(1_000);
    await expect(p).rejects.toMatchObject({ code: "timeout" });
    line.destroy();
  });
});

describe("Line after 326 (ManualClock)", () => {
  /** Each dial is answered by a hello and 326, then TWS closes, as TWS does. */
  async function refuse(net: FakeNet): Promise<void> {
    net.settleDial(true);
    await flush();
    net.hello();
    net.notice(326);
    net.current?.peerClose();
    await flush();
  }

  /** A line on ids 5–9 that has dialled once; `random: 1` takes the backoff's ceiling. */
  async function dialling(options: LineOptions) {
    const clock = new ManualClock();
    const net = new FakeNet();
    const reasons: string[] = [];
    const line = new Line({
      connector: net.connector,
      clock,
      random: () => 1,
      clientIds: rangeClientIds(5, 9),
      ...options,
    });
    line.on("line.state", (e) => reasons.push(e.reason));
    line.start();
    await flush();
    return { clock, net, line, reasons };
  }

  it("looks again within CLIENT_ID_RETRY_MAX_MS on every 326, however long the backoff has grown", async () => {
    // The default backoff's ceilings: 250, 500, 1000, 2000, 4000 … ms.
    const { clock, net, line, reasons } = await dialling({ placedOrders: () => [777] });
    for (let attempt = 1; attempt <= 8; attempt++) {
      const dials = net.dials;
      await refuse(net);
      expect(line.state).toBe("reconnecting");
      clock.advance(CLIENT_ID_RETRY_MAX_MS);
      await flush();
      expect(net.dials, `attempt ${attempt}`).toBe(dials + 1);
    }
    // Waited for its own id the whole time (live orders under it).
    expect(reasons.filter((r) => /client_id_held/.test(r)).length).toBe(8);
    expect(line.clientId).toBe(5);
    await line.close();
  });

  it("a line with nothing under its id moves to another id within the same bound", async () => {
    const { clock, net, line } = await dialling({ backoff: () => 20_000 });
    const dials = net.dials;
    await refuse(net);
    clock.advance(CLIENT_ID_RETRY_MAX_MS);
    await flush();
    expect(net.dials).toBe(dials + 1);
    expect(line.clientId).toBe(6);
    await line.close();
  });
});
