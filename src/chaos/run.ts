/**
 * One chaos run: the stack, the workload, the fault schedule, and the invariants checked the
 * whole time. Returns the report; never throws for a violation (violations are data).
 *
 * Invariants of the run itself: every process, socket and timer it starts is stopped before
 * it returns; a violation carries the seed and the time it was seen, so the run can be
 * repeated; the workload's choices come from the seed (their timing from the machine).
 */
import { readFileSync } from "node:fs";
import { RawClient } from "../mock/raw-client.test-util.js";
import { toFields } from "../protocol/codec.js";
import { contract } from "../protocol/messages/contract.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { applyFault } from "./faults.js";
import {
  acceptedOrders,
  type CheckName,
  checkLeases,
  checkOrdersIdentity,
  checkOrdersOnce,
  HeldLinesCheck,
  type Violation,
} from "./invariants.js";
import { RequestLedger } from "./ledger.js";
import { type DaemonSample, listLeases, mockState, sampleDaemon, switchboardCli } from "./probes.js";
import { HeapProbe } from "./heap-probe.js";
import { type ChaosReport, type FaultRecord, type LiveHeapSample, type Sample, summarize } from "./report.js";
import { RawWorker } from "./raw-worker.js";
import { type Fault, type FaultKind, faultSchedule, seededRandom } from "./schedule.js";
import { ChaosStack } from "./stack.js";
import { StoqeyWorker } from "./stoqey-worker.js";
import type { Worker, WorkerContext } from "./worker.js";

export interface ChaosOptions {
  minutes: number;
  clients: number;
  seed: number;
  /** Keep client-id leases in a real redis-server (and restart it as a fault). */
  redis?: boolean;
  /** The mock's calendar (a trading session, so ticks flow). */
  now?: string;
  /** Mean time between faults (default: 20 s, 5 s for runs of two minutes or less). */
  meanGapMs?: number;
  exclude?: readonly FaultKind[];
  /** A deliberate fault of the system under test, to prove the checks catch it. */
  sabotage?: "duplicate-order";
  /** Progress lines (one per fault and violation). */
  log?: (line: string) => void;
  keepDir?: boolean;
  /**
   * Measure the daemon's live heap (after a full collection, through its inspector) every
   * `LIVE_HEAP_MS`: the memory figure a leak shows in. Costs the daemon one full GC a minute.
   */
  liveHeap?: boolean;
}

const SHARED = ["AAPL", "MSFT", "SPY", "AMZN", "GOOGL"];
const PRIVATE = ["TSLA", "NVDA", "META", "IBM", "QQQ"];
/** Generous: requests wait in the pacer and for the line; these catch hangs, not slowness. */
const REQUEST_TIMEOUT_MS = 60_000;
const RECOVERY_LIMIT_MS = 30_000;
/** A stream silent this long while the line has been ready and quiet is a violation. */
const SILENCE_MS = 10_000;
const QUIET_MS = 15_000;
const HELD_SETTLE_MS = 10_000;
const LEASE_GRACE_MS = 3_000;
const SAMPLE_MS = 1_000;
const LIVE_HEAP_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const durationMs = Math.round(o.minutes * 60_000);
  const log = o.log ?? (() => {});
  const rand = seededRandom(o.seed ^ 0x5eed);
  const t0 = performance.now();
  const now = (): number => Math.round(performance.now() - t0);
  const violations: Violation[] = [];
  const checks = new Map<CheckName, number>();
  const pass = (c: CheckName): void => void checks.set(c, (checks.get(c) ?? 0) + 1);
  const violate = (check: CheckName, detail: string): void => {
    const v = { at: now(), check, detail };
    violations.push(v);
    log(`VIOLATION ${check} at ${(v.at / 1000).toFixed(1)} s (seed ${o.seed}): ${detail}`);
  };

  const stack = new ChaosStack({
    seed: o.seed,
    now: o.now ?? "2026-11-17T16:00:00Z",
    redis: o.redis ?? false,
    keepDir: o.keepDir ?? false,
    inspect: o.liveHeap ?? false,
  });
  const ledger = new RequestLedger();
  const refs = new Set<string>();
  const workers: Worker[] = [];
  const timers: ReturnType<typeof setInterval>[] = [];
  const samples: Sample[] = [];
  const liveHeap: LiveHeapSample[] = [];
  let probe: HeapProbe | undefined;
  let probeRestarts = -1;
  const faults: FaultRecord[] = [];
  const http = { ok: 0, errors: 0, refused: 0 };
  const leaseStats = { leased: 0, released: 0, abandoned: 0 };
  let activeFaults = 0;
  let lastFaultEnd = -Infinity;
  let lastNotReady = 0;
  let killingDaemon = false;
  let stopping = false;

  try {
    await stack.start();
    log(
      `stack up: proxy ${stack.proxyPort}, http ${stack.httpPort}, mock ${stack.mockPort}, dir ${stack.dir}`,
    );
    const store = o.redis
      ? ["--redis", `redis://127.0.0.1:${stack.redisPort}`]
      : ["--state-dir", stack.stateDir];

    // The workload: K clients, half on @stoqey/ib, half on the raw codec; every eighth shares
    // the virtual id of the one before (two sockets of one order owner) and sends no orders.
    const ctx: WorkerContext = {
      ledger,
      now,
      proxyPort: stack.proxyPort,
      refPrefix: `chaos${o.seed}`,
      timeoutMs: REQUEST_TIMEOUT_MS,
      onOrderRef: (ref) => refs.add(ref),
    };
    const placesOrders = new Set<Worker>();
    for (let i = 0; i < o.clients; i++) {
      const shares = i % 8 === 7;
      const virtualId = shares ? 100 + i - 1 : 100 + i;
      const specs = [
        { symbol: SHARED[i % SHARED.length]!, genericTicks: "" },
        { symbol: SHARED[(i + 1) % SHARED.length]!, genericTicks: "" },
        { symbol: PRIVATE[i % PRIVATE.length]!, genericTicks: "236" },
      ];
      const name = `c${i}`;
      const w =
        i % 2 === 0
          ? new StoqeyWorker(name, virtualId, specs, ctx)
          : new RawWorker(name, virtualId, specs, ctx);
      workers.push(w);
      if (!shares) placesOrders.add(w);
    }
    for (let i = 0; i < workers.length; i += 10)
      await Promise.all(workers.slice(i, i + 10).map((w) => w.start()));
    log(`${workers.length} clients connected`);

    if (o.liveHeap) {
      const measure = async (): Promise<void> => {
        try {
          // A restarted daemon is a new process with a new inspector session.
          if (!probe?.open || probeRestarts !== stack.daemonRestarts) {
            probe?.close();
            probe = undefined;
            probeRestarts = stack.daemonRestarts;
            probe = await HeapProbe.connect(stack.inspectPort);
          }
          const restarts = stack.daemonRestarts;
          const h = await probe.liveHeap();
          if (restarts === stack.daemonRestarts)
            liveHeap.push({
              at: now(),
              mb: h.usedBytes / 1_048_576,
              codeMB: h.codeBytes / 1_048_576,
              daemonRestarts: restarts,
            });
        } catch {
          // The daemon is restarting (a fault): the next minute measures again.
        }
      };
      void measure();
      timers.push(setInterval(() => void measure(), LIVE_HEAP_MS));
    }

    // Requests: about 8 a second in all, whatever K (IB's 50 messages/s is the line's, not ours).
    const perTick = Math.max(1, Math.round((8 * 250) / 1000));
    timers.push(
      setInterval(() => {
        for (let n = 0; n < perTick; n++) {
          const w = workers[Math.floor(rand() * workers.length)]!;
          const x = rand();
          const symbol = SHARED[Math.floor(rand() * SHARED.length)]!;
          if (x < 0.4 && placesOrders.has(w)) w.act("order", symbol);
          else if (x < 0.7) w.act("contract", symbol);
          else w.act("history", symbol);
        }
      }, 250),
    );

    // HTTP data routes: every error in the contract's shape, never a 500.
    timers.push(
      setInterval(() => {
        const symbol = SHARED[Math.floor(rand() * SHARED.length)]!;
        const paths = [
          `/api/quotes/${symbol}`,
          `/api/contracts/qualify?symbol=${symbol}`,
          `/api/history?symbol=${symbol}&bar=5%20mins&duration=1%20D`,
          `/api/history?symbol=NOSUCH&bar=1%20min`,
        ];
        void httpCall(`${stack.http}${paths[Math.floor(rand() * paths.length)]!}`);
      }, 700),
    );
    async function httpCall(url: string): Promise<void> {
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch {
        http.refused++;
        return;
      }
      const text = await res.text().catch(() => "");
      let body: { success?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = undefined;
      }
      const shaped =
        body !== undefined &&
        typeof body.success === "boolean" &&
        (body.success || (typeof body.error?.code === "string" && typeof body.error?.message === "string"));
      if (res.status >= 500 && res.status !== 503 && res.status !== 504) {
        violate("http.contract", `${url} answered ${res.status}: ${text.slice(0, 200)}`);
      } else if (!shaped) {
        violate("http.contract", `${url} answered ${res.status} outside the envelope: ${text.slice(0, 200)}`);
      } else {
        pass("http.contract");
        if (body?.success) http.ok++;
        else http.errors++;
      }
    }

    // Lease churn through the CLI: some released, some left to expire.
    timers.push(
      setInterval(() => {
        void (async () => {
          const r = await switchboardCli(["ids", "lease", "workers", "--ttl", "3000", "--json", ...store]);
          if (r.code !== 0) return;
          leaseStats.leased++;
          const lease = JSON.parse(r.stdout) as { clientId: number; token: string };
          if (rand() < 0.5) {
            await sleep(500);
            await switchboardCli([
              "ids",
              "release",
              String(lease.clientId),
              "--token",
              lease.token,
              ...store,
            ]);
            leaseStats.released++;
          } else leaseStats.abandoned++;
        })();
      }, 4_000),
    );
    timers.push(
      setInterval(() => {
        void (async () => {
          // The CLI lists at some moment after this one (it may take seconds to start on a busy
          // machine): a lease it shows was unexpired then, so judge it against this earlier time.
          const asked = Date.now();
          const leases = await listLeases(store);
          if (!leases) return;
          const stale = checkLeases(
            leases.filter((l) => l.purpose === "workers"),
            asked,
            LEASE_GRACE_MS,
          );
          for (const s of stale) violate("leases.ttl", s);
          if (stale.length === 0) pass("leases.ttl");
        })();
      }, 5_000),
    );

    // Continuous checks from samples.
    const held = new HeldLinesCheck(HELD_SETTLE_MS);
    let lastPacing: number | undefined;
    let lastSample: DaemonSample | undefined;
    const silentReported = new Set<string>();
    timers.push(
      setInterval(() => {
        void (async () => {
          const at = now();
          const [d, m] = await Promise.all([sampleDaemon(stack.http), mockState(stack.control)]);
          if (!stack.daemonAlive && !killingDaemon && !stopping) {
            violate("daemon.alive", "the daemon exited by itself; restarting it");
            killingDaemon = true;
            await stack.startDaemon().catch(() => {});
            killingDaemon = false;
          }
          const ready = d?.lineState === "ready";
          if (!ready) lastNotReady = at;
          if (d?.metricsError) violate("http.contract", d.metricsError);
          if (d) {
            lastSample = d;
            samples.push({
              at,
              rssMB: d.rssBytes / 1_048_576,
              heapMB: d.heapUsedBytes / 1_048_576,
              lagMs: Math.max(0, d.lagP99Seconds * 1000 - 10),
              reconnects: d.reconnects + stack.daemonRestarts * 1000,
              ready,
              daemonRestarts: stack.daemonRestarts,
            });
          }
          if (d && m) {
            const upstream = m.subscriptionList.filter(
              (s) => s.kind === "marketData" && s.clientId === d.lineClientId,
            ).length;
            const v = held.sample(at, ready && activeFaults === 0, d.heldLines, upstream);
            if (v) {
              // Which contracts the gateway streams, and how often: a leak shows as one too many.
              const byConId = new Map<number, number>();
              for (const sub of m.subscriptionList)
                if (sub.kind === "marketData" && sub.clientId === d.lineClientId)
                  byConId.set(sub.conId, (byConId.get(sub.conId) ?? 0) + 1);
              const list = [...byConId].map(([c, n]) => `${c}×${n}`).join(" ");
              violate("lines.held", `${v}; gateway streams by conId: ${list}`);
            } else if (ready) pass("lines.held");
            if (lastPacing !== undefined && m.counters.pacingViolations > lastPacing)
              violate(
                "pacing.violations",
                `${m.counters.pacingViolations - lastPacing} pacing violation(s) answered by the gateway`,
              );
            else pass("pacing.violations");
            lastPacing = m.counters.pacingViolations;
          }
          for (const late of ledger.overdue(at)) {
            violate(
              "requests.answered",
              `${late.client} ${late.kind} ${late.key} sent at ${(late.sentAt / 1000).toFixed(1)} s: no answer or error in ${REQUEST_TIMEOUT_MS / 1000} s`,
            );
          }
          pass("requests.answered");
          // Streams: once the line has been ready and quiet for a while, every live stream ticks.
          const quiet =
            ready && activeFaults === 0 && at - lastNotReady > QUIET_MS && at - lastFaultEnd > QUIET_MS;
          if (quiet) {
            for (const w of workers) {
              if (!w.connected) continue;
              for (const s of w.streams.live()) {
                if (!s.established || at - s.since < QUIET_MS) continue;
                const key = `${s.client}/${s.reqId}`;
                if (s.lastTickAt === undefined || at - s.lastTickAt > SILENCE_MS) {
                  if (!silentReported.has(key)) {
                    silentReported.add(key);
                    violate(
                      "streams.recover",
                      `${key} (${s.symbol}) silent for ${s.lastTickAt === undefined ? "ever" : `${at - s.lastTickAt} ms`} while the line is ready`,
                    );
                  }
                } else silentReported.delete(key);
              }
            }
            pass("streams.recover");
          }
        })();
      }, SAMPLE_MS),
    );

    const ordersCheck = (): void => {
      void (async () => {
        const m = await mockState(stack.control);
        if (!m) return;
        const journal = (() => {
          try {
            return readFileSync(stack.journalPath, "utf8");
          } catch {
            return "";
          }
        })();
        const gatewayOrders = m.orders.map((x) => ({
          clientId: x.clientId,
          orderId: x.orderId,
          orderRef: x.orderRef,
          placeCount: x.placeCount,
        }));
        const once = checkOrdersOnce(gatewayOrders);
        for (const v of once) violate("orders.once", v);
        if (once.length === 0) pass("orders.once");
        const identity = checkOrdersIdentity(gatewayOrders, acceptedOrders(journal));
        for (const v of identity) violate("orders.identity", v);
        if (identity.length === 0) pass("orders.identity");
      })();
    };
    timers.push(setInterval(ordersCheck, 5_000));

    // Faults on the seeded schedule.
    const schedule = faultSchedule({
      seed: o.seed,
      durationMs,
      warmupMs: Math.min(10_000, durationMs / 6),
      cooldownMs: Math.min(20_000, durationMs / 4),
      meanGapMs: o.meanGapMs ?? (o.minutes <= 2 ? 5_000 : 20_000),
      redis: o.redis ?? false,
      exclude: o.exclude ?? [],
    });
    let spare = 9_000;
    const faultCtx = { stack, spareClientId: () => spare++, symbols: [...SHARED, ...PRIVATE] };
    let sabotaged = false;
    for (const f of schedule) {
      if (f.at > now()) await sleep(f.at - now());
      if (o.sabotage === "duplicate-order" && !sabotaged && refs.size > 0) {
        sabotaged = true;
        await placeDuplicate(stack.mockPort, [...refs][0]!);
        log(`sabotage: a second gateway order with an existing orderRef`);
      }
      const rec: FaultRecord = {
        kind: f.kind,
        at: now(),
        ms: f.ms,
        endedAt: undefined,
        recoveryMs: undefined,
      };
      faults.push(rec);
      log(`fault ${f.kind}${f.ms ? ` ${f.ms} ms` : ""} at ${(rec.at / 1000).toFixed(1)} s`);
      activeFaults++;
      killingDaemon = f.kind === "daemonKill";
      try {
        await applyFault(f, faultCtx);
      } catch (err) {
        log(`fault ${f.kind} could not be applied: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        killingDaemon = false;
        activeFaults--;
        rec.endedAt = now();
        lastFaultEnd = rec.endedAt;
      }
      void measureRecovery(rec, f);
    }
    if (o.sabotage === "duplicate-order" && !sabotaged) {
      await sleep(5_000);
      if (refs.size > 0) await placeDuplicate(stack.mockPort, [...refs][0]!);
    }

    /** Time from a fault's end until the line is ready and every client's streams tick again. */
    async function measureRecovery(rec: FaultRecord, f: Fault): Promise<void> {
      const end = rec.endedAt ?? now();
      while (now() - end < RECOVERY_LIMIT_MS) {
        if (faults[faults.length - 1] !== rec) return; // another fault began: not measurable
        const ready = lastSample?.lineState === "ready";
        const all =
          ready &&
          workers.every(
            (w) => w.connected && w.streams.live().every((s) => !s.established || (s.lastTickAt ?? -1) > end),
          );
        if (all) {
          rec.recoveryMs = now() - end;
          return;
        }
        await sleep(50);
      }
      if (faults[faults.length - 1] !== rec) return;
      const silent = workers.flatMap((w) =>
        w.connected
          ? w.streams
              .live()
              .filter((s) => s.established && (s.lastTickAt ?? -1) <= end)
              .map((s) => `${s.client}/${s.reqId}`)
          : [`${w.name} not connected`],
      );
      violate(
        "streams.recover",
        `after ${f.kind}: not recovered within ${RECOVERY_LIMIT_MS / 1000} s (${silent.length} silent: ${silent.slice(0, 5).join(", ")})`,
      );
    }

    if (durationMs > now()) await sleep(durationMs - now());
    ordersCheck();
    await sleep(1_000);
  } finally {
    stopping = true;
    for (const t of timers) clearInterval(t);
    for (const w of workers) w.stop();
    probe?.close();
    await stack.close();
  }

  return summarize({
    seed: o.seed,
    minutes: o.minutes,
    clients: o.clients,
    redis: o.redis ?? false,
    exclude: [...(o.exclude ?? [])],
    durationMs: now(),
    faults,
    violations,
    checks: Object.fromEntries(checks),
    samples,
    ...(o.liveHeap ? { liveHeap } : {}),
    requests: { ...ledger.counts },
    http,
    leases: leaseStats,
    daemonRestarts: stack.daemonRestarts,
  });
}

/** The sabotage: a client straight at the gateway re-places an orderRef the daemon already placed. */
async function placeDuplicate(mockPort: number, ref: string): Promise<void> {
  const c = await RawClient.connect(mockPort, { clientId: 77 }).catch(() => undefined);
  if (!c) return;
  const nextId = Number(c.messages.find((f) => f[0] === "9")?.[2] ?? 1);
  const order = placeOrder({
    orderId: nextId + 500,
    contract: contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" }),
    action: "BUY",
    totalQuantity: "1",
    orderType: "LMT",
    lmtPrice: 1,
    orderRef: ref,
  });
  c.sendFields(toFields(PLACE_ORDER, order, c.serverVersion));
  await c.waitFor((f) => f[0] === "3" || f[0] === "5").catch(() => undefined);
  await c.close();
}
