/**
 * The data service behind /api/contracts/qualify, /api/history and /api/quotes, over a real
 * mock gateway, line, pacer and switch: a down line is answered at once with
 * upstream_unavailable and the line's reason (no 30 s hang), and a pacing wait is bounded by
 * the caller's timeoutMs (pacing_timeout), not by the switch's own queue timeout.
 */
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "../clock.js";
import { isSwitchboardError, TimeoutError } from "../errors.js";
import { Line } from "../line/line.js";
import { MockGateway } from "../mock/gateway.js";
import { Pacer } from "../pacing/scheduler.js";
import { Switch } from "../switch/switch.js";
import { clientDataService, FAIL_FAST_GRACE_MS } from "./data.js";

const toClose: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c();
});

const AAPL = { symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" } as const;

/** The call options a route makes: a signal that aborts with TimeoutError at `ms`. */
function deadline(ms: number) {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(new TimeoutError("request", ms)), ms);
  toClose.push(async () => clearTimeout(t));
  return { signal: ac.signal, timeoutMs: ms };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

async function stack(o: {
  port?: number;
  queueTimeoutMs?: number;
  clock?: ManualClock;
  historyCacheMs?: number;
}) {
  let port = o.port;
  if (port === undefined) {
    const mock = new MockGateway({ port: 0, controlPort: null });
    await mock.start();
    toClose.push(() => mock.close());
    port = mock.port;
  }
  const line = new Line({
    host: "127.0.0.1",
    port,
    clientId: 1,
    backoffInitialMs: 50,
    backoffMaxMs: 200,
    fastProbeIntervalMs: 50,
  });
  line.start();
  toClose.push(() => line.close());
  const pacer = new Pacer();
  toClose.push(() => pacer.close());
  const sw = new Switch(line, pacer, {
    queueTimeoutMs: o.queueTimeoutMs ?? 30_000,
    ...(o.historyCacheMs === undefined ? {} : { historyCacheMs: o.historyCacheMs }),
  });
  toClose.push(() => sw.close());
  const data = clientDataService({
    sw,
    pacer,
    clock: o.clock ?? systemClock,
    version: () => line.serverVersion,
    line,
  });
  toClose.push(() => data.close());
  return { line, data };
}

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    if (isSwitchboardError(err)) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

describe("fail fast while the line is down", () => {
  it("answers upstream_unavailable at once with the line's reason, without an ibCode", async () => {
    const clock = new ManualClock();
    const { line, data } = await stack({ port: await freePort(), clock });
    // Let the line fail once so it has a reason, then leave the grace window behind.
    await new Promise<void>((resolve) => {
      const off = line.on("line.state", (e) => {
        if (e.to === "disconnected" || e.to === "reconnecting") {
          off();
          resolve();
        }
      });
    });
    clock.advance(FAIL_FAST_GRACE_MS);
    const never = new AbortController().signal; // a call that waited would never end
    const err = await failure(data.qualify(AAPL, { signal: never, timeoutMs: 300_000 }));
    expect(err.code).toBe("upstream_unavailable");
    expect(err.reason).toMatch(/ECONNREFUSED|refused/i);
    expect(err.ibCode).toBeUndefined();
    expect((err as unknown as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
  });

  it("within the grace window waits for the line and still answers upstream_unavailable (not timeout)", async () => {
    const { data } = await stack({ port: await freePort() });
    const err = await failure(data.qualify(AAPL, deadline(500)));
    expect(err.code).toBe("upstream_unavailable");
    expect(err.reason).toBeDefined();
  });

  it("a line that comes up within the wait serves the call", async () => {
    const { data } = await stack({});
    const found = await data.qualify(AAPL, deadline(15_000));
    expect(found[0]).toMatchObject({ symbol: "AAPL", secType: "STK" });
  });
});

describe("pacing waits end at the caller's timeoutMs", () => {
  it("an identical history request held by the 15 s rule gets pacing_timeout at the call's deadline, not a refusal at the switch's queue timeout", async () => {
    // No kept answer: the identical request must reach the pacer and its 15 s rule.
    const { data } = await stack({ queueTimeoutMs: 200, historyCacheMs: 0 });
    const q = {
      ...AAPL,
      // Bars of 30 secs or less: IB (and the current pacing profile) still apply the 15 s rule.
      bar: "30 secs",
      duration: "1800 S",
      end: new Date("2026-03-04T21:00:00Z"),
      what: "TRADES",
      rth: true,
    } as const;
    const first = await data.history(q, deadline(15_000));
    expect(first.bars.length).toBeGreaterThan(0);
    const err = await failure(data.history(q, deadline(1_500)));
    expect(err.code).toBe("pacing_timeout");
  });
});
