/**
 * Paper and live side by side, with real processes: two `switchboard mock-gateway --unmarked`
 * processes (a paper one, DU111, and a live one, U222) and `switchboard start` with one line
 * on each — the live line read-only and not required. @stoqey/ib clients on each line's proxy
 * port see only their line's accounts, orders and data; `line=` on the HTTP data routes
 * reaches only the named gateway (its `/state`); each line's pacer has its own budget; a
 * live line that goes down leaves the paper line's clients untouched, and /health follows
 * `required`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventName, OrderAction, OrderType } from "@stoqey/ib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MockOrderView } from "../mock/state.js";
import { AAPL, connectStoqey, expectNo505, type StoqeyClient } from "../mock/stoqey-client.test-util.js";
import {
  type Proc,
  run,
  startProcess,
  until,
  startUnmarkedGateway,
} from "./test-support/process.test-util.js";

const procs: Proc[] = [];
const closers: { close(): Promise<void> }[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c.close();
  for (const p of procs.reverse()) await p.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const PAPER = "DU111";
const LIVE = "U222";

async function gateway(accounts: string): Promise<Proc> {
  const p = await startUnmarkedGateway(accounts);
  procs.push(p);
  return p;
}

interface GatewayState {
  clients: { clientId: number }[];
  orders: MockOrderView[];
  subscriptionList: { kind: string; conId: number }[];
  historyRequests: { clientId: number; barSize: string }[];
  counters: { requests: number };
}

async function state(g: Proc): Promise<GatewayState> {
  const r = await fetch(`http://127.0.0.1:${String(g.ready.controlPort)}/state`);
  return ((await r.json()) as { data: GatewayState }).data;
}

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), "sb-lines-"));
  dirs.push(d);
  return d;
}

/** JSON is YAML: the config file the daemon reads. */
function config(dir: string, body: Record<string, unknown>): string {
  const path = join(dir, "switchboard.yaml");
  writeFileSync(path, JSON.stringify({ httpPort: 0, stateDir: dir, ...body }));
  return path;
}

async function get<T>(d: Proc, path: string): Promise<{ status: number; body: T }> {
  const r = await fetch(`${String(d.ready.http)}${path}`);
  return { status: r.status, body: (await r.json()) as T };
}

interface HealthBody {
  success: boolean;
  data: {
    status: string;
    lines: { name: string; state: string; required: boolean; identity: { mode: string } }[];
  };
}

interface PaceStats {
  released: number;
  waits: { count: number; waited: number; byRule: Record<string, { count: number }> };
}

const stats = async (d: Proc, line: string) =>
  (await get<{ data: PaceStats }>(d, `/api/ib/pace/stats?line=${line}`)).body.data;

let paper: Proc;
let live: Proc;
let daemon: Proc;
const ports = { paper: 0, live: 0 };

beforeAll(async () => {
  paper = await gateway(PAPER);
  live = await gateway(LIVE);
  const dir = stateDir();
  daemon = await startProcess([
    "start",
    "--config",
    config(dir, {
      proxyPort: 0,
      lines: [
        { name: "paper", upstream: `127.0.0.1:${String(paper.ready.port)}`, mode: "paper" },
        {
          name: "live",
          upstream: `127.0.0.1:${String(live.ready.port)}`,
          mode: "live",
          proxyPort: 0,
          readOnly: true,
          required: false,
        },
      ],
    }),
  ]);
  procs.push(daemon);
  const proxyPorts = daemon.ready.proxyPorts as Record<string, number>;
  ports.paper = proxyPorts.paper ?? 0;
  ports.live = proxyPorts.live ?? 0;
  await until(async () => {
    const h = await get<HealthBody>(daemon, "/health");
    return h.body.data.lines.every((l) => l.state === "ready") ? true : undefined;
  }, "both lines ready");
}, 60_000);

async function client(port: number, clientId: number): Promise<StoqeyClient> {
  return connectStoqey(port, clientId, (c) => closers.push(c));
}

describe("several lines: paper and live side by side", () => {
  it("gives each line its own proxy port in READY; a client on each sees only its line's accounts", async () => {
    expect(ports.paper).toBeGreaterThan(0);
    expect(ports.live).toBeGreaterThan(0);
    expect(ports.live).not.toBe(ports.paper);
    expect(daemon.ready.proxyPort).toBe(ports.paper);
    const p = await client(ports.paper, 7);
    const l = await client(ports.live, 7);
    const accountsOf = (c: StoqeyClient) =>
      new Promise<string>((resolve) => {
        c.api.once(EventName.managedAccounts, resolve);
        c.api.reqManagedAccts();
      });
    expect(await accountsOf(p)).toBe(PAPER);
    expect(await accountsOf(l)).toBe(LIVE);
    // Each gateway sees only its own line's connection.
    expect((await state(paper)).clients).toHaveLength(1);
    expect((await state(live)).clients).toHaveLength(1);
    expectNo505(p);
    expectNo505(l);
  });

  it("places the paper client's order on the paper gateway only; the read-only live line refuses with 201", async () => {
    const p = await client(ports.paper, 11);
    const l = await client(ports.live, 11);
    const submitted = new Promise<number>((resolve) =>
      p.api.on(EventName.orderStatus, (id: number, status: string) => {
        if (status === "Submitted" || status === "Filled") resolve(id);
      }),
    );
    p.api.placeOrder(p.nextId, AAPL, {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: 1,
      totalQuantity: 1,
      orderRef: "lines-paper-1",
      transmit: true,
    });
    expect(await submitted).toBe(p.nextId);
    l.api.placeOrder(l.nextId, AAPL, {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: 1,
      totalQuantity: 1,
      orderRef: "lines-live-1",
      transmit: true,
    });
    await until(
      async () => (l.errors.some((e) => e.code === 201 && e.reqId === l.nextId) ? true : undefined),
      "201 on the live line",
    );
    expect((await state(paper)).orders.map((o) => o.orderRef)).toEqual(["lines-paper-1"]);
    expect((await state(live)).orders).toEqual([]);
    // The live client never sees the paper order, not even as an open order.
    const open: string[] = [];
    const end = new Promise<void>((resolve) => {
      l.api.on(EventName.openOrder, (_id: number, _c: unknown, o: { orderRef?: string }) =>
        open.push(o.orderRef ?? ""),
      );
      l.api.once(EventName.openOrderEnd, () => resolve());
    });
    l.api.reqOpenOrders();
    await end;
    expect(open).toEqual([]);
  });

  it("streams market data of the live client from the live gateway only", async () => {
    const l = await client(ports.live, 12);
    const before = (await state(paper)).subscriptionList.length;
    const tick = new Promise<void>((resolve) => l.api.once(EventName.tickPrice, () => resolve()));
    l.api.reqMktData(21, AAPL, "", false, false);
    await tick;
    expect((await state(live)).subscriptionList.map((s) => s.kind)).toContain("marketData");
    expect((await state(paper)).subscriptionList.length).toBe(before);
    l.api.cancelMktData(21);
    await until(
      async () => ((await state(live)).subscriptionList.length === 0 ? true : undefined),
      "the live stream cancelled upstream",
    );
  });

  it("answers a data route with line=live from the live gateway only, and 400 for a line it does not have", async () => {
    const before = {
      paper: (await state(paper)).historyRequests.length,
      live: (await state(live)).historyRequests.length,
    };
    const h = await get<{ success: boolean; data: { bars: unknown[] } }>(
      daemon,
      "/api/history?symbol=AAPL&bar=1%20hour&duration=1%20D&rth=false&line=live",
    );
    expect(h.status).toBe(200);
    expect(h.body.data.bars.length).toBeGreaterThan(0);
    expect((await state(live)).historyRequests.length).toBe(before.live + 1);
    expect((await state(paper)).historyRequests.length).toBe(before.paper);
    // Without line=: the first line.
    await get(daemon, "/api/history?symbol=MSFT&bar=1%20hour&duration=1%20D&rth=false");
    expect((await state(paper)).historyRequests.length).toBe(before.paper + 1);
    expect((await state(live)).historyRequests.length).toBe(before.live + 1);

    const unknown = await get<{ success: boolean; error: { code: string; field: string; message: string } }>(
      daemon,
      "/api/quotes/AAPL?line=nope",
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: "invalid_argument", field: "line" });
    expect(unknown.body.error.message).toContain("paper, live");
    const job = await fetch(`${String(daemon.ready.http)}/api/history/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ symbols: ["AAPL"], from: "2026-01-05", line: "nope" }),
    });
    expect(job.status).toBe(400);
    // The OpenAPI document shows the parameter.
    const spec = await get<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>(
      daemon,
      "/openapi.json",
    );
    for (const path of [
      "/api/history",
      "/api/contracts/qualify",
      "/api/history/head",
      "/api/quotes/{symbol}",
    ])
      expect(spec.body.paths[path]?.get?.parameters?.map((x) => x.name)).toContain("line");
  });

  it("runs a history job posted with line=live on the live line", async () => {
    const before = {
      paper: (await state(paper)).historyRequests.length,
      live: (await state(live)).historyRequests.length,
    };
    const posted = await fetch(`${String(daemon.ready.http)}/api/history/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        symbols: ["MSFT"],
        bar: "1 hour",
        from: "2026-11-16",
        to: "2026-11-16",
        line: "live",
      }),
    });
    expect(posted.status).toBe(202);
    const { data } = (await posted.json()) as { data: { id: string; spec: { line?: string } } };
    expect(data.spec.line).toBe("live");
    const job = await until(
      async () => {
        const j = await get<{ data: { state: string; error?: unknown; failed: unknown[] } }>(
          daemon,
          `/api/history/jobs/${data.id}`,
        );
        return ["done", "failed", "stopped"].includes(j.body.data.state) ? j.body.data : undefined;
      },
      "the job's end",
      600,
    );
    expect(job).toMatchObject({ state: "done", failed: [] });
    expect((await state(live)).historyRequests.length).toBeGreaterThan(before.live);
    expect((await state(paper)).historyRequests.length).toBe(before.paper);
  });

  it("backfills from the live line with `switchboard history --url … --line live`, into a dataset of the live source", async () => {
    const out = stateDir();
    const before = {
      paper: (await state(paper)).historyRequests.length,
      live: (await state(live)).historyRequests.length,
    };
    const r = await run([
      "history",
      "AAPL",
      "--bar",
      "1 hour",
      "--from",
      "2026-11-16",
      "--to",
      "2026-11-16",
      "--url",
      String(daemon.ready.http),
      "--line",
      "live",
      "--out",
      out,
      "--json",
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect((await state(live)).historyRequests.length).toBeGreaterThan(before.live);
    expect((await state(paper)).historyRequests.length).toBe(before.paper);
    const coverage = readFileSync(join(out, "_switchboard", "coverage.json"), "utf8");
    expect(coverage).toContain(LIVE);
    expect(coverage).not.toContain(PAPER);
  });

  it("paces each line on its own budget: a burst on the paper line makes nothing on the live line wait", async () => {
    const burst = await client(ports.paper, 31);
    const quiet = await client(ports.live, 31);
    const answered = (c: StoqeyClient) => {
      const done = new Set<number>();
      c.api.on(EventName.historicalData, (id: number, time: string) => {
        if (time.startsWith("finished")) done.add(id);
      });
      return done;
    };
    const paperDone = answered(burst);
    const liveDone = answered(quiet);
    const paperBefore = await stats(daemon, "paper");
    const liveBefore = await stats(daemon, "live");
    // Distinct requests (no two identical, so none is shared or cached): twice what one
    // connection may send in a second, so the paper pacer must hold most of them.
    const ask = (c: StoqeyClient, reqId: number, minute: number) =>
      c.api.reqHistoricalData(
        reqId,
        AAPL,
        `20261116-15:${String(minute).padStart(2, "0")}:00`,
        "1 D",
        "1 hour" as never,
        "TRADES" as never,
        0,
        1,
        false,
      );
    for (let i = 0; i < 90; i++) ask(burst, 1_000 + i, i % 60);
    // While paper's pacer holds its burst (~2 s of it), the live line asks three times, one
    // request per spread slot: its own connection's rules never hold them, so any wait on live
    // could only come from paper's burst.
    for (let i = 0; i < 3; i++) {
      ask(quiet, 2_000 + i, i);
      await new Promise((r) => setTimeout(r, 150));
    }
    expect((await stats(daemon, "paper")).waits.waited).toBeGreaterThan(paperBefore.waits.waited);
    await until(async () => (liveDone.size === 3 ? true : undefined), "the live answers", 600);
    await until(async () => (paperDone.size === 90 ? true : undefined), "the paper answers", 600);
    const paperAfter = await stats(daemon, "paper");
    const liveAfter = await stats(daemon, "live");
    expect(paperAfter.waits.waited - paperBefore.waits.waited).toBeGreaterThan(0);
    expect(paperAfter.waits.byRule.messageRate?.count ?? 0).toBeGreaterThan(0);
    expect(liveAfter.released).toBeGreaterThanOrEqual(liveBefore.released + 3);
    expect(liveAfter.waits.waited).toBe(liveBefore.waits.waited);
    expect(liveAfter.waits.byRule.messageRate?.count ?? 0).toBe(
      liveBefore.waits.byRule.messageRate?.count ?? 0,
    );
    // The metrics say which line waited.
    const metrics = await (await fetch(`${String(daemon.ready.http)}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_pacer_wait_seconds_count\{line="paper",rule="messageRate"\} [1-9]/);
    expectNo505(burst);
    expectNo505(quiet);
  });

  it("lists every line with its tenants (ids unique in the daemon) in pool status and metrics", async () => {
    await client(ports.paper, 61);
    await client(ports.live, 61);
    const pool = await get<{
      data: {
        lines: { name: string; identity: { mode: string }; tenantIds: string[] }[];
        tenants: { id: string; line: string; kind: string }[];
      };
    }>(daemon, "/api/ib/pool/status");
    expect(pool.body.data.lines.map((l) => [l.name, l.identity.mode])).toEqual([
      ["paper", "paper"],
      ["live", "live"],
    ]);
    const tenants = pool.body.data.tenants.filter((t) => t.kind === "proxy");
    expect(new Set(tenants.map((t) => t.line))).toEqual(new Set(["paper", "live"]));
    const ids = pool.body.data.tenants.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Each line lists its own tenants; together they are every tenant, each once.
    const byLine = pool.body.data.lines.flatMap((l) => l.tenantIds);
    expect([...byLine].sort()).toEqual([...ids].sort());
    const metrics = await (await fetch(`${String(daemon.ready.http)}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_tenants\{line="live",kind="proxy"\} [1-9]/);
    expect(metrics).toMatch(/switchboard_tenants\{line="paper",kind="proxy"\} [1-9]/);
    // `switchboard status` tells the lines apart: identity, proxy port, orders, pacing.
    const table = await run(["status", "--url", String(daemon.ready.http)]);
    expect(table.code, table.stderr).toBe(0);
    const row = (name: string) =>
      table.stdout.split("\n").find((l) => l.trimStart().startsWith(`${name} `)) ?? "";
    expect(row("paper")).toContain(`PAPER ${PAPER}`);
    expect(row("paper")).toContain(String(ports.paper));
    expect(row("live")).toContain(`LIVE ${LIVE}`);
    expect(row("live")).toContain("read-only");
    expect(table.stdout).toContain("Pacing of line paper");
    expect(table.stdout).toContain("Pacing of line live");
  });

  it("a live line that goes down leaves the paper line's clients untouched; /health stays 200 since live is not required", async () => {
    const p = await client(ports.paper, 41);
    const l = await client(ports.live, 41);
    const liveNotices: number[] = [];
    // TWS's "connectivity lost" comes with no request id: @stoqey/ib calls it info.
    l.api.on(EventName.info, (_message: string, code: number) => liveNotices.push(code));
    l.api.on(EventName.error, (_err: Error, code: number) => liveNotices.push(code));
    let paperClosed = false;
    p.api.once(EventName.disconnected, () => (paperClosed = true));
    const r = await fetch(`http://127.0.0.1:${String(live.ready.controlPort)}/faults/down`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ms: 60_000 }),
    });
    expect(r.status).toBe(200);
    const h = await until(async () => {
      const x = await get<HealthBody>(daemon, "/health");
      return x.body.data.lines.find((line) => line.name === "live")?.state !== "ready" ? x : undefined;
    }, "the live line down");
    expect(h.status).toBe(200);
    expect(h.body.data.status).toBe("healthy");
    expect(h.body.data.lines.find((x) => x.name === "paper")?.state).toBe("ready");
    // The paper client goes on as before: history and its time answered, no error, no drop.
    const bars: number[] = [];
    const done = new Promise<void>((resolve) =>
      p.api.on(EventName.historicalData, (_id, time: string, open: number) => {
        if (time.startsWith("finished")) resolve();
        else bars.push(open);
      }),
    );
    p.api.reqHistoricalData(51, AAPL, "", "1 D", "1 hour" as never, "TRADES" as never, 0, 1, false);
    await done;
    expect(bars.length).toBeGreaterThan(0);
    expect(paperClosed).toBe(false);
    expect(p.errors.filter((e) => e.code !== 2104 && e.code !== 2106 && e.code !== 2158)).toEqual([]);
    // The live client heard that its line is down.
    await until(async () => (liveNotices.includes(1100) ? true : undefined), "1100 on the live client");
    await fetch(`http://127.0.0.1:${String(live.ready.controlPort)}/faults/clear`, { method: "POST" });
  });

  it("answers /health 503 when a required line is down", async () => {
    // A port nothing listens on: the required live line never comes up.
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const deadPort = (holder.address() as { port: number }).port;
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    const dir = stateDir();
    const d = await startProcess([
      "start",
      "--config",
      config(dir, {
        proxyPort: 0,
        lines: [
          { name: "paper", upstream: `127.0.0.1:${String(paper.ready.port)}` },
          { name: "live", upstream: `127.0.0.1:${deadPort}`, proxyPort: 0 },
        ],
      }),
    ]);
    procs.push(d);
    const h = await until(async () => {
      const x = await get<HealthBody>(d, "/health");
      return x.body.data.lines.find((l) => l.name === "paper")?.state === "ready" ? x : undefined;
    }, "the paper line ready");
    expect(h.status).toBe(503);
    expect(h.body.data.status).toBe("down");
    await d.stop();
  });

  it("exits naming lines[1].proxyPort when that port is in use", async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const busy = (holder.address() as { port: number }).port;
    try {
      const dir = stateDir();
      const r = await run([
        "start",
        "--config",
        config(dir, {
          proxyPort: 0,
          lines: [
            { name: "paper", upstream: "mock" },
            { name: "live", upstream: "mock", proxyPort: busy },
          ],
        }),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${busy}`);
      expect(r.stderr).toContain("lines[1].proxyPort");
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});
