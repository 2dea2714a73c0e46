/**
 * Cross-part: 200 historical requests released by the pacer to the real mock gateway over
 * loopback, with IB's rules time-scaled, get 0 pacing violations; the same requests sent
 * without pacing are refused (so the mock really enforces).
 */
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../clock.js";
import { MockGateway } from "../mock/gateway.js";
import { RawClient, waitUntil } from "../mock/raw-client.test-util.js";
import { toFields } from "../protocol/codec.js";
import { contract } from "../protocol/messages/contract.js";
import { REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";
import { classifyOutgoing } from "./request.js";
import { resolveRules, smallestScaledWindowMs } from "./rules.js";
import { Pacer } from "./scheduler.js";

const TIME_SCALE = 8;
// IB's 10-minute window shortened to 12 s so 200 requests fit in seconds; with the scale
// every window stays ≥ 250 ms (2 s → 250 ms, 15 s → 1.875 s, 12 s → 1.5 s).
const OVERRIDE = { rules: { historicalTotal: { windowMs: 12_000 } } };
const V = 178;

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

function historicalRequests(n: number): string[][] {
  return Array.from({ length: n }, (_, i) =>
    toFields(
      REQ_HISTORICAL_DATA,
      {
        reqId: 1_000 + i,
        contract: contract({
          conId: 100 + (i % 10),
          symbol: `S${i % 10}`,
          secType: "STK",
          exchange: "SMART",
          currency: "USD",
        }),
        includeExpired: false,
        endDateTime: `202401${String(1 + Math.floor(i / 10)).padStart(2, "0")} 16:00:00 UTC`,
        barSize: "1 min",
        duration: "1 D",
        useRTH: true,
        whatToShow: i % 4 === 3 ? "BID_ASK" : "TRADES",
        formatDate: 1,
        comboLegs: [],
        keepUpToDate: false,
        chartOptions: "",
      },
      V,
    ),
  );
}

async function start() {
  const gw = new MockGateway({ port: 0, controlPort: 0, timeScale: TIME_SCALE, pacingRules: OVERRIDE });
  open.push(gw);
  const info = await gw.start();
  const c = await RawClient.connect(info.port, { clientId: 7 });
  open.push(c);
  return { gw, info, c };
}

async function pacingViolations(controlPort: number | null): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${controlPort}/state`);
  const body = (await res.json()) as { data: { counters: { pacingViolations: number } } };
  return body.data.counters.pacingViolations;
}

describe("pacer → mock gateway", () => {
  it("200 historical requests through the pacer get 0 pacing violations", async () => {
    const rules = resolveRules({ override: OVERRIDE, timeScale: TIME_SCALE });
    expect(smallestScaledWindowMs(rules)).toBeGreaterThanOrEqual(250);
    const { info, c } = await start();
    // The in-process mock stamps a burst when its event loop gets to it, which on a busy
    // 2-core machine can be 100 ms+ after the pacer let it go; the guard absorbs that skew.
    const pacer = new Pacer({ clock: systemClock, rules, deadlineMs: 60_000, guardMinMs: 300 });
    open.push({ close: async () => pacer.destroy() });
    c.socket.on("data", () => {
      // Answers free the open-request slots; RawClient has already parsed them.
      for (const f of c.messages.splice(0)) {
        seen.push(f);
        pacer.observeIncoming("backfill", f, V);
        if (f[0] === "4") pacer.observeError(Number(f[3]), f[4] ?? "", Number(f[2]));
      }
    });
    const seen: string[][] = [];
    const requests = historicalRequests(200);
    await Promise.all(
      requests.map((fields) =>
        pacer.acquire(classifyOutgoing(fields, { version: V, tenant: "backfill" }), {
          onRelease: () => c.sendFields(fields),
        }),
      ),
    );
    await waitUntil(() => answeredIn(seen).size === 200, 10_000);
    expect(await pacingViolations(info.controlPort)).toBe(0);
    expect([...answeredIn(seen).values()].filter((f) => f[0] === "4" && f[3] === "162")).toEqual([]);
    expect(pacer.stats().violations.total).toBe(0);
    expect(pacer.stats().released).toBe(200);
  });

  it("the same requests paced only at 45 msg/s, as today's libraries do, are refused", async () => {
    const { info, c } = await start();
    const rateOnly = resolveRules({
      override: {
        rules: {
          historicalIdentical: { enabled: false },
          historicalSameContract: { enabled: false },
          historicalTotal: { enabled: false },
          openHistorical: { enabled: false },
        },
      },
    });
    const pacer = new Pacer({ clock: systemClock, rules: rateOnly });
    open.push({ close: async () => pacer.destroy() });
    const requests = historicalRequests(80);
    await Promise.all(
      requests.map((fields) =>
        pacer.acquire(classifyOutgoing(fields, { version: V, tenant: "naive" }), {
          onRelease: () => c.sendFields(fields),
        }),
      ),
    );
    await waitUntil(() => answeredIn(c.messages).size === 80, 10_000);
    expect(await pacingViolations(info.controlPort)).toBeGreaterThan(0);
    expect(c.errors(162).length).toBeGreaterThan(0);
  });
});

function answeredIn(messages: readonly string[][]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const f of messages) {
    if (f[0] === "17") out.set(Number(f[1]), f);
    if (f[0] === "4" && Number(f[2]) >= 1_000) out.set(Number(f[2]), f);
  }
  return out;
}
