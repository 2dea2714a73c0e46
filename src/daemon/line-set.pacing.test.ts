/**
 * The per-TWS budget in a daemon with several lines, with real processes:
 * `switchboard mock-gateway` processes and `switchboard start`. The rules IB counts per TWS
 * (the historical windows) must follow the TWS, not a line's place in the config or the way
 * its address is spelled.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Proc, startProcess, until, startUnmarkedGateway } from "./test-support/process.test-util.js";

const procs: Proc[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await p.stop("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function gateway(accounts: string): Promise<Proc> {
  const p = await startUnmarkedGateway(accounts);
  procs.push(p);
  return p;
}

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), "sb-lines-budget-"));
  dirs.push(d);
  return d;
}

async function daemonWith(dir: string, lines: Record<string, unknown>[]): Promise<Proc> {
  const path = join(dir, "switchboard.yaml");
  writeFileSync(path, JSON.stringify({ httpPort: 0, stateDir: dir, proxyPort: 0, lines }));
  const d = await startProcess(["start", "--config", path]);
  procs.push(d);
  return d;
}

async function get<T>(d: Proc, path: string): Promise<{ status: number; body: T }> {
  const r = await fetch(`${String(d.ready.http)}${path}`);
  return { status: r.status, body: (await r.json()) as T };
}

async function ready(d: Proc, line: string): Promise<void> {
  await until(async () => {
    const h = await get<{ data: { lines: { name: string; state: string }[] } }>(d, "/health");
    return h.body.data.lines.find((l) => l.name === line)?.state === "ready" ? true : undefined;
  }, `line ${line} ready`);
}

interface PaceStatus {
  rules: { ruleId: string; used: number }[];
  gateway?: { name: string; lines: string[] };
}

/** Historical requests in the TWS's 10-minute window, as line `line`'s pacer counts them. */
async function historicalTotal(d: Proc, line: string): Promise<number> {
  const s = await get<{ data: PaceStatus }>(d, `/api/ib/pace/status?line=${line}`);
  const rule = s.body.data.rules.find((r) => r.ruleId === "historicalTotal");
  if (!rule) throw new Error(`no historicalTotal rule in line ${line}'s pace status`);
  return rule.used;
}

/** A head timestamp: counted by IB's historical windows whatever the bar size. */
async function askHead(d: Proc, line: string): Promise<void> {
  const r = await get<{ success: boolean }>(
    d,
    `/api/history/head?symbol=AAPL&whatToShow=TRADES&rth=false&line=${line}`,
  );
  expect(r.status).toBe(200);
}

describe("the per-TWS budget of several lines", () => {
  it("keeps each TWS's remembered historical windows with that TWS when the config lists the lines in another order", async () => {
    const paper = await gateway("DU111");
    const live = await gateway("U222");
    const dir = stateDir();
    const paperLine = { name: "paper", upstream: `127.0.0.1:${String(paper.ready.port)}`, mode: "paper" };
    const liveLine = {
      name: "live",
      upstream: `127.0.0.1:${String(live.ready.port)}`,
      mode: "live",
      required: false,
    };
    const first = await daemonWith(dir, [paperLine, { ...liveLine, proxyPort: 0 }]);
    await ready(first, "paper");
    await askHead(first, "paper");
    await askHead(first, "paper");
    expect(await historicalTotal(first, "paper")).toBe(2);
    expect(await historicalTotal(first, "live")).toBe(0);
    expect(await first.stop("SIGTERM")).toBe(0);

    // The same two gateways, the live line now listed first: the paper TWS still has two
    // historical requests in its window (IB counts them), the live TWS none.
    const second = await daemonWith(dir, [liveLine, { ...paperLine, proxyPort: 0 }]);
    const paperAfter = await historicalTotal(second, "paper");
    const liveAfter = await historicalTotal(second, "live");
    await second.stop("SIGTERM");
    expect({ paper: paperAfter, live: liveAfter }).toEqual({ paper: 2, live: 0 });
  }, 90_000);

  it("shares the per-TWS rules between two lines that name one gateway as 127.0.0.1 and as localhost", async () => {
    const g = await gateway("DU333");
    const dir = stateDir();
    const port = String(g.ready.port);
    const d = await daemonWith(dir, [
      { name: "a", upstream: `127.0.0.1:${port}` },
      { name: "b", upstream: `localhost:${port}`, proxyPort: 0, required: false },
    ]);
    await ready(d, "a");
    await askHead(d, "a");
    // One TWS: its historical window holds line a's request for line b too.
    const b = await get<{ data: PaceStatus }>(d, "/api/ib/pace/status?line=b");
    const used = await historicalTotal(d, "b");
    await d.stop("SIGTERM");
    expect(b.body.data.gateway?.lines.slice().sort()).toEqual(["a", "b"]);
    expect(used).toBe(1);
  }, 60_000);
});
