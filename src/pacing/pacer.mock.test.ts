/**
 * Cross-part: historical requests released by the pacer to the real mock gateway over
 * loopback, with IB's rules time-scaled, get 0 pacing violations; the same requests sent
 * without pacing are refused (so the mock really enforces). Under the `current` profile the
 * hard limits hold for bars of 30 secs or less only; `legacy` applies them to every bar size.
 */
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../clock.js";
import { MockGateway } from "../mock/gateway.js";
import { RawClient, waitUntil } from "../mock/raw-client.test-util.js";
import { toFields } from "../protocol/codec.js";
import { contract } from "../protocol/messages/contract.js";
import { REQ_CONTRACT_DATA } from "../protocol/messages/contracts.js";
import { REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";
import { classifyOutgoing } from "./request.js";
import { type PacingProfile, resolveRules, smallestScaledWindowMs } from "./rules.js";
import { Pacer } from "./scheduler.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

const TIME_SCALE = 8;
// IB's 10-minute window shortened to 12 s so 200 requests fit in seconds; with the scale
// every window stays ≥ 250 ms (2 s → 250 ms, 15 s → 1.875 s, 12 s → 1.5 s).
const OVERRIDE = { rules: { historicalTotal: { windowMs: 12_000 } } };
const V = 178;

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

// US stocks of the mock's catalogue.
const STOCKS: readonly [number, string][] = [
  [265598, "AAPL"],
  [272093, "MSFT"],
  [756733, "SPY"],
  [3691937, "AMZN"],
  [208813719, "GOOGL"],
  [76792991, "TSLA"],
  [4815747, "NVDA"],
  [107113386, "META"],
  [8314, "IBM"],
  [320227571, "QQQ"],
];

/** The n-th weekday from 2023-01-02, as an IB end date (weekends would answer "no data"). */
function weekday(n: number): string {
  const d = new Date(Date.UTC(2023, 0, 2) + (Math.floor(n / 5) * 7 + (n % 5)) * 86_400_000);
  return `${d.toISOString().slice(0, 10).replaceAll("-", "")} 16:00:00 UTC`;
}

function historicalRequests(n: number, barSize = "30 secs"): string[][] {
  return Array.from({ length: n }, (_, i) =>
    toFields(
      REQ_HISTORICAL_DATA,
      {
        reqId: 1_000 + i,
        contract: contract({
          conId: (STOCKS[i % 10] as [number, string])[0],
          symbol: (STOCKS[i % 10] as [number, string])[1],
          secType: "STK",
          exchange: "SMART",
          currency: "USD",
        }),
        includeExpired: false,
        endDateTime: weekday(Math.floor(i / 10)),
        barSize,
        duration: barSize === "30 secs" ? "1800 S" : "1 D",
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

function contractRequest(reqId: number): string[] {
  return toFields(
    REQ_CONTRACT_DATA,
    {
      reqId,
      contract: contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" }),
      includeExpired: false,
      secIdType: "",
      secId: "",
      issuerId: "",
    },
    V,
  );
}

async function start(pacingProfile: PacingProfile = "current") {
  const gw = new MockGateway({
    port: 0,
    controlPort: 0,
    timeScale: TIME_SCALE,
    pacingProfile,
    pacingRules: OVERRIDE,
    now: TEST_NOW,
  });
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

// Hang guards, not timings: a run takes a few seconds on a quiet machine.
describe("pacer → mock gateway", { timeout: 60_000 }, () => {
  it("200 historical 30-sec requests through the pacer get 0 pacing violations (IB's hard limits hold)", async () => {
    const { pacer, violations } = await pacedRun("current", historicalRequests(200));
    expect(violations).toBe(0);
    expect(pacer.stats().released).toBe(200);
    // 200 requests cannot fit 60 per window: the 10-minute rule made the pacer wait.
    expect(pacer.stats().waits.byRule.historicalTotal?.count ?? 0).toBeGreaterThan(0);
  });

  it("current: 1-min requests beyond the old 60 per 10 min, no 162 at the mock, no historical waits", async () => {
    const { pacer, violations, answers } = await pacedRun("current", historicalRequests(90, "1 min"));
    expect(violations).toBe(0);
    expect(answers.every((f) => f[0] === "17")).toBe(true);
    const byRule = pacer.stats().waits.byRule;
    for (const rule of ["historicalIdentical", "historicalSameContract", "historicalTotal"])
      expect(byRule[rule], rule).toBeUndefined();
  });

  it("legacy: the old limits hold for 1-min bars too", async () => {
    const { pacer, violations } = await pacedRun("legacy", historicalRequests(90, "1 min"));
    expect(violations).toBe(0);
    expect(pacer.stats().waits.byRule.historicalTotal?.count ?? 0).toBeGreaterThan(0);
  });

  it("the same requests paced only at 45 msg/s, as today's libraries do, are refused", async () => {
    const r = await ratePacedRun("current", historicalRequests(80));
    expect(r.violations).toBeGreaterThan(0);
    expect(r.refused).toBeGreaterThan(0);
  });

  it("a gateway frozen for 2 s wakes to no more than its limit: 150 requests, 0 violations", async () => {
    // A frozen TWS reads nothing and answers nothing; when it wakes it counts its backlog at
    // once. Messages sent into the silence keep counting until the gateway speaks again.
    const { info, c, gw } = await start("current");
    const pacer = new Pacer({ clock: systemClock, rules: resolveRules({}), deadlineMs: 60_000 });
    open.push({ close: async () => pacer.destroy() });
    c.socket.on("data", () => {
      for (const f of c.messages.splice(0)) {
        pacer.observeIncoming("app", f, V);
        if (f[0] === "4") pacer.observeError(Number(f[3]), f[4] ?? "", Number(f[2]));
        if (f[0] === "52") ended.add(f[2] ?? "");
      }
    });
    const ended = new Set<string>();
    gw.stall(2_000);
    await Promise.all(
      Array.from({ length: 150 }, (_, i) => {
        const fields = contractRequest(5_000 + i);
        return pacer.acquire(classifyOutgoing(fields, { version: V, tenant: "app" }), {
          onRelease: () => c.sendFields(fields),
        });
      }),
    );
    await waitUntil(() => ended.size === 150 || c.isClosed, 50_000);
    expect(c.isClosed).toBe(false);
    expect(await pacingViolations(info.controlPort)).toBe(0);
    expect(ended.size).toBe(150);
  });

  it("1-min requests paced only at 45 msg/s: served by a current mock, refused by a legacy one", async () => {
    // (The socket's 50 msg/s rule may still bite a 45 msg/s loop on a busy machine: error 100
    // is not about history, so only the history service's answers are compared.)
    const current = await ratePacedRun("current", historicalRequests(80, "1 min"));
    expect(current.historyPacing).toBe(0);
    expect([...current.answers.values()].filter((f) => f[0] === "4" && f[3] === "162")).toEqual([]);
    const legacy = await ratePacedRun("legacy", historicalRequests(80, "1 min"));
    expect(legacy.historyPacing).toBeGreaterThan(0);
  });
});

/** Requests through a pacer of `profile` to a mock of the same profile; the answers and violations. */
async function pacedRun(profile: PacingProfile, requests: string[][]) {
  const rules = resolveRules({ profile, override: OVERRIDE, timeScale: TIME_SCALE });
  expect(smallestScaledWindowMs(rules)).toBeGreaterThanOrEqual(250);
  const { info, c } = await start(profile);
  // Default guard; answers restamp the ledger, so a burst the in-process mock processed
  // late (busy 2-core machine) cannot look earlier to the pacer than to the mock.
  const pacer = new Pacer({ clock: systemClock, rules, deadlineMs: 60_000 });
  open.push({ close: async () => pacer.destroy() });
  const seen: string[][] = [];
  c.socket.on("data", () => {
    // Answers free the open-request slots; RawClient has already parsed them.
    for (const f of c.messages.splice(0)) {
      seen.push(f);
      pacer.observeIncoming("backfill", f, V);
      if (f[0] === "4") pacer.observeError(Number(f[3]), f[4] ?? "", Number(f[2]));
    }
  });
  await Promise.all(
    requests.map((fields) =>
      pacer.acquire(classifyOutgoing(fields, { version: V, tenant: "backfill" }), {
        onRelease: () => c.sendFields(fields),
      }),
    ),
  );
  await waitUntil(() => answeredIn(seen).size === requests.length, 50_000);
  const answers = [...answeredIn(seen).values()];
  expect(answers.filter((f) => f[0] === "4" && /pacing/.test(f[4] ?? ""))).toEqual([]);
  expect(pacer.stats().violations.total).toBe(0);
  return { pacer, answers, violations: await pacingViolations(info.controlPort) };
}

/** The same requests paced only at 45 msg/s (as today's libraries do): what the mock refused. */
async function ratePacedRun(profile: PacingProfile, requests: string[][]) {
  const { info, c, gw } = await start(profile);
  const rateOnly = resolveRules({
    override: {
      rules: {
        messageRate: { spreadMs: 0, holdUnheardMs: 0 },
        historicalIdentical: { enabled: false },
        historicalSameContract: { enabled: false },
        historicalTotal: { enabled: false },
        openHistorical: { enabled: false },
      },
    },
  });
  const pacer = new Pacer({ clock: systemClock, rules: rateOnly });
  open.push({ close: async () => pacer.destroy() });
  await Promise.all(
    requests.map((fields) =>
      pacer.acquire(classifyOutgoing(fields, { version: V, tenant: "naive" }), {
        onRelease: () => c.sendFields(fields),
      }),
    ),
  );
  // A message refused for the rate (error 100 under id -1) is dropped unanswered, and the
  // mock hangs up after repeated rate violations: both end the wait.
  await waitUntil(
    () => c.isClosed || answeredIn(c.messages).size + c.errors(100).length >= requests.length,
    10_000,
  );
  const refused =
    c.errors(162).filter((f) => /pacing violation/.test(f[4] ?? "")).length + c.errors(100).length;
  // What reached the gateway's history service and was refused for pacing (not the socket rate).
  const historyPacing = gw.history.list().filter((e) => e.answer === 162).length;
  return {
    refused,
    historyPacing,
    violations: await pacingViolations(info.controlPort),
    answers: answeredIn(c.messages),
  };
}

function answeredIn(messages: readonly string[][]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const f of messages) {
    if (f[0] === "17") out.set(Number(f[1]), f);
    if (f[0] === "4" && Number(f[2]) >= 1_000) out.set(Number(f[2]), f);
  }
  return out;
}
