/**
 * `switchboard history` as a process against the mock gateway as a process (pinned clock):
 * the dataset holds exactly the sessions' bars, read back by DuckDB (the writer is
 * hyparquet-writer); kill -9 mid-run and a rerun give the same dataset without asking a
 * recorded span again (the mock's historyRequests).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { usEquities } from "../../calendar/calendars.js";
import { sessionsOf } from "../../history/plan.js";
import { TEST_NOW } from "../../mock/test-now.test-util.js";

const BIN = fileURLToPath(new URL("../../../bin/switchboard.js", import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SYMBOLS = ["AAPL", "MSFT", "SPY"];
const FROM = "2026-08-17";
const TO = "2026-11-13";

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "sb-history-"));
  dirs.push(d);
  return d;
}

function spawnCli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let buf = "";
  let stderr = "";
  const listeners: (() => void)[] = [];
  child.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, unknown>);
      else if (line.startsWith("READY "))
        lines.push({ type: "READY", ...(JSON.parse(line.slice(6)) as object) });
      for (const l of listeners) l();
    }
  });
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const until = (pred: (ls: Record<string, unknown>[]) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => pred(lines) && resolve();
      listeners.push(check);
      check();
      void exit.then(() => (pred(lines) ? resolve() : reject(new Error(`exited: ${stderr}`))));
    });
  return { child, lines, exit, until, stderr: () => stderr };
}

async function startMock() {
  const p = spawnCli(["mock-gateway", "--port", "0", "--control-port", "0", "--now", TEST_NOW]);
  await p.until((ls) => ls.some((l) => l.type === "READY"));
  const ready = p.lines.find((l) => l.type === "READY") as { port: number; controlPort: number };
  return { port: ready.port, control: ready.controlPort };
}

interface HistoryRequestView {
  conId: number;
  end: string;
  duration: string;
  barSize: string;
  answer: unknown;
}

async function historyRequests(control: number): Promise<HistoryRequestView[]> {
  const r = (await (await fetch(`http://127.0.0.1:${control}/state`)).json()) as {
    data: { historyRequests: HistoryRequestView[] };
  };
  return r.data.historyRequests.filter((h) => h.barSize !== "" && h.duration !== "");
}

function historyArgs(port: number, out: string, state: string) {
  return [
    "history",
    ...SYMBOLS,
    "--bar",
    "1 min",
    "--from",
    FROM,
    "--to",
    TO,
    "--out",
    out,
    "--upstream",
    `127.0.0.1:${port}`,
    "--state-dir",
    state,
    "--allow-mock",
    "--json",
  ];
}

async function summary(out: string) {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  // The docs' query: the whole dataset as one table, partitions as columns.
  const r = await c.runAndReadAll(
    `SELECT symbol, count(*) AS n, count(DISTINCT time) AS distinct_times,
            -- Prices have at most 4 decimals: summed as integers, the total cannot depend on
            -- the order DuckDB adds the rows in.
            sum(CAST(round(close * 10000) AS BIGINT)) AS sum_close, sum(volume) AS sum_volume,
            list(DISTINCT epoch_ms(time)) AS times
       FROM read_parquet('${out}/bar=*/what=*/symbol=*/*.parquet', hive_partitioning = true)
      GROUP BY symbol ORDER BY symbol`,
  );
  const rows = r.getRowObjectsJS() as {
    symbol: string;
    n: bigint;
    distinct_times: bigint;
    sum_close: bigint;
    sum_volume: number;
    times: bigint[];
  }[];
  c.closeSync();
  return rows;
}

/** Every 1-min bar of the extended sessions of the range (what the mock serves). */
function expectedTimes(): number[] {
  const out: number[] = [];
  for (const s of sessionsOf({
    calendar: usEquities,
    rth: false,
    from: FROM,
    to: TO,
    now: Date.parse(TEST_NOW),
  })) {
    for (let t = s.open; t < s.close; t += 60_000) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

describe("switchboard history (in-process, mock with a pinned clock)", () => {
  let reference: Awaited<ReturnType<typeof summary>> | undefined;

  it("backfills 3 symbols × 3 months of 1-min bars: every session bar once, read by DuckDB; a rerun asks nothing", async () => {
    const mock = await startMock();
    const out = tmp();
    const state = tmp();
    const run = spawnCli(historyArgs(mock.port, out, state));
    expect(await run.exit).toBe(0);
    const done = run.lines.find((l) => l.type === "done") as { ok: boolean; bars: number };
    expect(done.ok).toBe(true);
    const want = expectedTimes();
    const rows = await summary(out);
    expect(rows.map((r) => r.symbol)).toEqual(SYMBOLS);
    for (const r of rows) {
      expect(Number(r.n)).toBe(want.length);
      expect(Number(r.distinct_times)).toBe(want.length);
      expect(r.times.map(Number).sort((a, b) => a - b)).toEqual(want);
    }
    expect(done.bars).toBe(want.length * SYMBOLS.length);
    reference = rows;

    const asked = (await historyRequests(mock.control)).length;
    const again = spawnCli(historyArgs(mock.port, out, state));
    expect(await again.exit).toBe(0);
    expect((again.lines.find((l) => l.type === "done") as { requests: number }).requests).toBe(0);
    expect((await historyRequests(mock.control)).length).toBe(asked);
    const coverage = JSON.parse(readFileSync(join(out, "_switchboard", "coverage.json"), "utf8")) as {
      source: { kind: string };
    };
    expect(coverage.source.kind).toBe("mock");
  }, 300_000);

  it("kill -9 at random moments, then a rerun: the same dataset, and no recorded span asked again", async () => {
    const mock = await startMock();
    const out = tmp();
    const state = tmp();
    // Two kills at random points of the run (~190 requests in all), then a rerun to the end.
    // Each run counts its own progress lines: the second resumes, so its point is drawn from
    // what is surely left (at most 64 + 44 of ~190 done before the final run).
    for (const at of [5 + Math.floor(Math.random() * 60), 5 + Math.floor(Math.random() * 40)]) {
      const run = spawnCli(historyArgs(mock.port, out, state));
      await run.until(
        (ls) => ls.filter((l) => l.type === "progress").length >= at || ls.some((l) => l.type === "done"),
      );
      run.child.kill("SIGKILL");
      await run.exit;
    }
    await new Promise((r) => setTimeout(r, 200));
    const recorded = JSON.parse(readFileSync(join(out, "_switchboard", "coverage.json"), "utf8")) as {
      series: Record<string, { conId: number; spans: { start: number; end: number }[] }>;
    };
    const recordedKeys = new Set<string>();
    for (const s of Object.values(recorded.series))
      for (const x of s.spans) recordedKeys.add(`${s.conId}|${x.end}`);
    expect(recordedKeys.size).toBeGreaterThan(0);
    const before = (await historyRequests(mock.control)).length;

    const final = spawnCli(historyArgs(mock.port, out, state));
    expect(await final.exit).toBe(0);
    const rerunAsked = (await historyRequests(mock.control)).slice(before);
    expect(rerunAsked.length).toBeGreaterThan(0);
    for (const h of rerunAsked) {
      // The mock lists IB's end string "yyyyMMdd-HH:mm:ss" (UTC) as asked.
      const m = /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})$/.exec(h.end) as RegExpExecArray;
      const end = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
      expect(recordedKeys.has(`${h.conId}|${end}`)).toBe(false);
    }
    const rows = await summary(out);
    const want = expectedTimes();
    for (const r of rows) {
      expect(Number(r.n)).toBe(want.length);
      expect(Number(r.distinct_times)).toBe(want.length);
    }
    if (reference) {
      expect(rows.map((r) => [r.symbol, r.sum_close, r.sum_volume])).toEqual(
        reference.map((r) => [r.symbol, r.sum_close, r.sum_volume]),
      );
    }
  }, 300_000);

  it("refuses a mock's bars without --allow-mock (exit 2, nothing written)", async () => {
    const mock = await startMock();
    const out = tmp();
    const args = historyArgs(mock.port, out, tmp()).filter((a) => a !== "--allow-mock");
    const run = spawnCli(args);
    expect(await run.exit).toBe(2);
    expect(run.lines.find((l) => l.type === "error")).toMatchObject({ code: "mock_refused" });
    expect((await historyRequests(mock.control)).length).toBe(0);
  }, 60_000);
});

describe("switchboard history through a running daemon", () => {
  it("sends each chunk through /api/history; IB's pacing 162 is asked again, never recorded as no data", async () => {
    const dir = tmp();
    // The gateway enforces IB's hard limits on 1-min bars (legacy profile, windows 4× shorter),
    // while the daemon's pacer is told nothing of them: the gateway answers 162 pacing.
    const gw = spawnCli([
      "mock-gateway",
      ...["--port", "0", "--control-port", "0", "--now", TEST_NOW],
      ...["--pacing-profile", "legacy", "--time-scale", "4"],
    ]);
    await gw.until((ls) => ls.some((l) => l.type === "READY"));
    const mock = gw.lines.find((l) => l.type === "READY") as { port: number; controlPort: number };
    const rules = join(dir, "rules.json");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      rules,
      JSON.stringify({
        rules: {
          historicalSameContract: { enabled: false },
          historicalTotal: { enabled: false },
          historicalIdentical: { enabled: false },
        },
      }),
    );
    const daemon = spawnCli([
      "start",
      ...["--upstream", `127.0.0.1:${mock.port}`, "--http-port", "0", "--proxy-port", "0"],
      ...["--state-dir", join(dir, "state"), "--pacing-rules", rules],
    ]);
    await daemon.until((ls) => ls.some((l) => l.type === "READY"));
    const base = String((daemon.lines.find((l) => l.type === "READY") as { http: string }).http);
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${base}/health`)).status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const out = join(dir, "bars");
    const from = "2026-10-19";
    const run = spawnCli([
      "history",
      "AAPL",
      ...["--bar", "1 min", "--from", from, "--to", TO, "--out", out, "--url", base],
      ...["--allow-mock", "--json", "--concurrency", "12"],
    ]);
    expect(await run.exit, run.stderr()).toBe(0);

    const asked = await historyRequests(mock.controlPort);
    expect(asked.some((h) => h.answer === 162)).toBe(true);
    const coverage = JSON.parse(readFileSync(join(out, "_switchboard", "coverage.json"), "utf8")) as {
      source: { kind: string };
      series: Record<string, { spans: { noData?: boolean; bars: number }[] }>;
    };
    expect(coverage.source.kind).toBe("mock");
    const spans = Object.values(coverage.series).flatMap((s) => s.spans);
    const sessions = sessionsOf({
      calendar: usEquities,
      rth: false,
      from,
      to: TO,
      now: Date.parse(TEST_NOW),
    });
    expect(spans).toHaveLength(sessions.length);
    expect(spans.filter((s) => s.noData)).toHaveLength(0);
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    const r = await c.runAndReadAll(
      `SELECT count(*) AS n, count(DISTINCT time) AS d FROM read_parquet('${out}/*/*/*/*.parquet', hive_partitioning = true)`,
    );
    const [row] = r.getRowObjectsJS() as { n: bigint; d: bigint }[];
    const want = sessions.reduce((n, s) => n + (s.close - s.open) / 60_000, 0);
    expect(Number(row?.n)).toBe(want);
    expect(Number(row?.d)).toBe(want);
    c.closeSync();
  }, 300_000);
});

describe("switchboard history on a terminal", () => {
  it("draws a progress bar per symbol and overall (under a pseudo-terminal)", async () => {
    const mock = await startMock();
    const out = tmp();
    const cmd = [
      process.execPath,
      BIN,
      ...["history", "AAPL", "MSFT", "--bar", "'1 min'", "--from", "2026-11-09", "--to", TO],
      ...["--out", out, "--upstream", `127.0.0.1:${mock.port}`, "--state-dir", tmp(), "--allow-mock"],
    ].join(" ");
    // util-linux `script` gives the command a real pty, as a user's terminal does.
    const child = spawn("script", ["-qec", cmd, "/dev/null"], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let tty = "";
    child.stdout?.on("data", (d: Buffer) => (tty += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code, tty).toBe(0);
    expect(tty).toMatch(/all\s+\|[█░]+\| 10\/10 requests · 9600 bars/);
    expect(tty).toMatch(/AAPL\s+\|[█░]+\| 5\/5 requests · 4800 bars/);
    expect(tty).toContain("done: 9600 bars");
    // A terminal gets the bars, not JSON lines.
    expect(tty).not.toContain('{"type":"progress"');
  }, 60_000);

  it("usage errors exit 2 naming the flag", async () => {
    const bad = spawnCli(["history", "AAPL", "--bar", "7 min", "--from", "2026-01-01", "--out", tmp()]);
    expect(await bad.exit).toBe(2);
    expect(bad.stderr()).toContain("--bar");
    const order = spawnCli([
      "history",
      "AAPL",
      "--bar",
      "1 min",
      "--from",
      "2026-02-01",
      "--to",
      "2026-01-01",
    ]);
    expect(await order.exit).toBe(2);
    expect(order.stderr()).toContain("--from");
  });
});
