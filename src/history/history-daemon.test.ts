/**
 * History with a running daemon and in-process, as processes over TCP against the mock
 * gateway (pinned clock): daemon jobs over HTTP (202, SSE progress, stop and resume, written
 * under historyDir only), the head timestamp asked through the daemon, a year merged as soon
 * as it completes, `--upstream auto`, and the pacer's memory of IB's historical windows
 * across a daemon restart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { usEquities } from "../calendar/calendars.js";
import { type Proc, run, startProcess, until } from "../daemon/test-support/process.test-util.js";
import { openSse, type SseReader } from "../daemon/test-support/sse.test-util.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";
import { sessionsOf } from "./plan.js";

const procs: Proc[] = [];
const readers: SseReader[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  for (const p of procs.splice(0)) await p.stop("SIGKILL");
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "sb-history-d-"));
  dirs.push(d);
  return d;
}

async function start(args: string[]): Promise<Proc> {
  const p = await startProcess(args);
  procs.push(p);
  return p;
}

async function mockGateway(extra: string[] = []) {
  const p = await start(["mock-gateway", "--port", "0", "--control-port", "0", "--now", TEST_NOW, ...extra]);
  return { proc: p, port: Number(p.ready.port), control: Number(p.ready.controlPort) };
}

async function daemon(args: string[]) {
  const p = await start(["start", "--http-port", "0", "--proxy-port", "0", ...args]);
  const base = String(p.ready.http);
  await until(async () => ((await fetch(`${base}/health`)).status === 200 ? true : undefined), "health 200");
  return { proc: p, base };
}

interface HistoryRequestView {
  kind: string;
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
  return r.data.historyRequests;
}
const barRequests = (hs: HistoryRequestView[]) => hs.filter((h) => h.kind === "bars");

/** IB's "yyyyMMdd-HH:mm:ss" (UTC), as the mock lists it. */
function ibEnd(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})$/.exec(s) as RegExpExecArray;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

async function post(base: string, path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { success: boolean; data: Job; error?: { field?: string } },
  };
}

interface Job {
  id: string;
  state: string;
  progress: { chunks: number; done: number; requests: number; bars: number };
  failed: unknown[];
}

async function getJob(base: string, id: string): Promise<Job> {
  return ((await (await fetch(`${base}/api/history/jobs/${id}`)).json()) as { data: Job }).data;
}

async function countRows(glob: string): Promise<{ symbol: string; n: number; d: number }[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  const r = await c.runAndReadAll(
    `SELECT symbol, count(*) AS n, count(DISTINCT time) AS d
       FROM read_parquet('${glob}', hive_partitioning = true) GROUP BY symbol ORDER BY symbol`,
  );
  const rows = (r.getRowObjectsJS() as { symbol: string; n: bigint; d: bigint }[]).map((x) => ({
    symbol: x.symbol,
    n: Number(x.n),
    d: Number(x.d),
  }));
  c.closeSync();
  return rows;
}

/** Bars of `barMs` in the extended sessions of [from, to] (what the mock serves). */
function expectedBars(from: string, to: string, barMs: number): number {
  return sessionsOf({ calendar: usEquities, rth: false, from, to, now: Date.parse(TEST_NOW) }).reduce(
    (n, s) => n + Math.ceil((s.close - s.open) / barMs),
    0,
  );
}

function coverage(out: string) {
  return JSON.parse(readFileSync(join(out, "_switchboard", "coverage.json"), "utf8")) as {
    source: { kind: string };
    series: Record<
      string,
      { conId: number; head?: number; spans: { start: number; end: number; part?: string }[] }
    >;
  };
}

describe("daemon history jobs over HTTP", () => {
  it("POST → 202, SSE progress and done, the dataset under historyDir; stop resumably, post again to finish; never a path from the request", async () => {
    const state = tmp();
    const historyDir = join(tmp(), "jobs-bars");
    const d = await daemon(["--state-dir", state, "--mock-now", TEST_NOW, "--history-dir", historyDir]);
    const control = Number(d.proc.ready.mockControlPort);
    const sse = await openSse(`${d.base}/events`);
    readers.push(sse);

    // The request names no path: a key the route does not know is refused, naming it.
    const withPath = await post(d.base, "/api/history/jobs", {
      symbols: ["AAPL"],
      from: "2026-11-02",
      out: "/tmp/elsewhere",
    });
    expect(withPath.status).toBe(400);
    expect(withPath.body.error?.field).toBe("body.out");

    const spec = {
      symbols: ["AAPL", "MSFT"],
      bar: "1 min",
      from: "2026-11-02",
      to: "2026-11-13",
      allowMock: true,
    };
    const created = await post(d.base, "/api/history/jobs", spec);
    expect(created.status).toBe(202);
    const id = created.body.data.id;
    expect(["queued", "running"]).toContain(created.body.data.state);

    const done = await sse.waitFor(
      (f) => f.event === "history.done" && f.data.id === id,
      "history.done",
      60_000,
    );
    expect(done.data.state).toBe("done");
    expect(sse.frames.some((f) => f.event === "history.progress" && f.data.id === id)).toBe(true);
    const want = expectedBars("2026-11-02", "2026-11-13", 60_000);
    const job = await getJob(d.base, id);
    expect(job.state).toBe("done");
    expect(job.progress.bars).toBe(2 * want);
    const listed = ((await (await fetch(`${d.base}/api/history/jobs`)).json()) as { data: Job[] }).data;
    expect(listed.map((j) => j.id)).toContain(id);
    expect((await fetch(`${d.base}/api/history/jobs/no-such-job`)).status).toBe(404);

    expect(await countRows(`${historyDir}/bar=*/what=*/symbol=*/*.parquet`)).toEqual([
      { symbol: "AAPL", n: want, d: want },
      { symbol: "MSFT", n: want, d: want },
    ]);
    expect(coverage(historyDir).source.kind).toBe("mock");

    // The same job again asks nothing: every span is recorded.
    const asked = barRequests(await historyRequests(control)).length;
    const again = await post(d.base, "/api/history/jobs", spec);
    await sse.waitFor((f) => f.event === "history.done" && f.data.id === again.body.data.id, "second done");
    expect((await getJob(d.base, again.body.data.id)).progress.requests).toBe(0);
    expect(barRequests(await historyRequests(control)).length).toBe(asked);

    // A long job, stopped while it runs: what was in flight is recorded, a new post resumes.
    const long = {
      symbols: ["SPY"],
      bar: "1 min",
      from: "2026-06-01",
      to: "2026-11-13",
      allowMock: true,
      concurrency: 2,
    };
    const started = await post(d.base, "/api/history/jobs", long);
    const longId = started.body.data.id;
    await until(
      async () => ((await getJob(d.base, longId)).progress.done >= 5 ? true : undefined),
      "5 chunks",
    );
    const stopping = await fetch(`${d.base}/api/history/jobs/${longId}`, { method: "DELETE" });
    expect(stopping.status).toBe(200);
    const stopped = await sse.waitFor(
      (f) => f.event === "history.done" && f.data.id === longId,
      "stopped job done",
      60_000,
    );
    expect(stopped.data.state).toBe("stopped");
    const recorded = new Set<number>();
    for (const [key, s] of Object.entries(coverage(historyDir).series))
      if (key.endsWith("symbol=SPY")) for (const x of s.spans) recorded.add(x.end);
    const stoppedJob = await getJob(d.base, longId);
    expect(stoppedJob.progress.done).toBeLessThan(stoppedJob.progress.chunks);
    const before = barRequests(await historyRequests(control)).length;
    const resumed = await post(d.base, "/api/history/jobs", long);
    const resumedDone = await sse.waitFor(
      (f) => f.event === "history.done" && f.data.id === resumed.body.data.id,
      "resumed done",
      120_000,
    );
    expect(resumedDone.data.state).toBe("done");
    const rerun = barRequests(await historyRequests(control)).slice(before);
    expect(rerun.length).toBeGreaterThan(0);
    for (const h of rerun) expect(recorded.has(ibEnd(h.end))).toBe(false);
    const spyWant = expectedBars("2026-06-01", "2026-11-13", 60_000);
    const rows = await countRows(`${historyDir}/bar=*/what=*/symbol=SPY/*.parquet`);
    expect(rows).toEqual([{ symbol: "SPY", n: spyWant, d: spyWant }]);
  }, 240_000);
});

describe("history through a running daemon", () => {
  it("asks the head timestamp through the daemon and plans nothing before it", async () => {
    const d = await daemon(["--state-dir", tmp(), "--mock-now", TEST_NOW]);
    const control = Number(d.proc.ready.mockControlPort);
    const out = join(tmp(), "bars");
    // META's data begins 2012-05-18 14:30 UTC at the mock; --from is two weeks earlier.
    const r = await run([
      "history",
      "META",
      ...["--bar", "1 hour", "--from", "2012-05-01", "--to", "2012-06-29", "--out", out, "--url", d.base],
      ...["--allow-mock", "--json"],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const head = Date.parse("2012-05-18T14:30:00Z");
    const asked = await historyRequests(control);
    expect(asked.filter((h) => h.kind === "headTimestamp")).toHaveLength(1);
    const bars = barRequests(asked);
    expect(bars.length).toBeGreaterThan(0);
    for (const h of bars) expect(h.answer).toBe("bars");
    const series = Object.values(coverage(out).series);
    expect(series).toHaveLength(1);
    expect(series[0]!.head).toBe(head);
    // Every recorded span holds bars: nothing was asked of the sessions before the head.
    for (const s of series[0]!.spans) expect(s.end).toBeGreaterThan(head);
  }, 60_000);
});

describe("switchboard history in-process", () => {
  it("merges a year into its year file as soon as the year completes (kill -9 after it: the file is there)", async () => {
    const mock = await mockGateway();
    const out = join(tmp(), "bars");
    const { spawn } = await import("node:child_process");
    const { BIN } = await import("../daemon/test-support/process.test-util.js");
    // Newest first, one request at a time: January 2026 (20 sessions, one `1 M` chunk of
    // 1-hour bars) completes first; four chunks of 2025 are still to come.
    const child = spawn(
      process.execPath,
      [
        BIN,
        "history",
        "AAPL",
        ...["--bar", "1 hour", "--from", "2025-10-01", "--to", "2026-01-30", "--out", out],
        ...["--upstream", `127.0.0.1:${mock.port}`, "--state-dir", tmp(), "--allow-mock", "--json"],
        ...["--concurrency", "1"],
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const lines: Record<string, unknown>[] = [];
    let buf = "";
    const merged = new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout.on("data", (b: Buffer) => {
        buf += b.toString();
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const l = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
          buf = buf.slice(i + 1);
          lines.push(l);
          if (l.type === "merged") {
            child.kill("SIGKILL");
            resolve(l);
          }
        }
      });
      child.once("exit", () =>
        reject(new Error(`exited without merging a year: ${JSON.stringify(lines.at(-1))}`)),
      );
    });
    try {
      expect(await merged).toMatchObject({ type: "merged", symbol: "AAPL", year: 2026 });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await new Promise<void>((r) =>
      child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", () => r()),
    );
    // The run was cut before its end: 2025 is still to do, 2026 is a plain year file.
    expect(lines.some((l) => l.type === "done")).toBe(false);
    // Every 1-hour bar from 2026-01-01 00:00 UTC on: New Year's Eve's evening session ends
    // after midnight UTC, so its last bar is in 2026's file too.
    const y2026 = Date.UTC(2026, 0, 1);
    let want = 0;
    for (const s of sessionsOf({
      calendar: usEquities,
      rth: false,
      from: "2025-12-31",
      to: "2026-01-30",
      now: Date.parse(TEST_NOW),
    }))
      for (let t = s.open; t < s.close; t += 3_600_000) if (t >= y2026) want++;
    expect(await countRows(`${out}/bar=*/what=*/symbol=*/2026.parquet`)).toEqual([
      { symbol: "AAPL", n: want, d: want },
    ]);
    const spans = Object.values(coverage(out).series)[0]!.spans;
    expect(spans.filter((s) => s.end > y2026).length).toBeGreaterThan(0);
    for (const s of spans.filter((x) => x.start >= y2026)) expect(s.part).toBeUndefined();
  }, 60_000);

  it("--upstream auto finds the gateway on the ports it probes (a mock only with --allow-mock)", async () => {
    const mock = await mockGateway();
    const args = (out: string) => [
      "history",
      "AAPL",
      ...["--bar", "1 hour", "--from", "2026-11-09", "--to", "2026-11-13", "--out", out],
      ...["--upstream", "auto", "--auto-ports", `1,${mock.port}`, "--state-dir", tmp(), "--json"],
    ];
    const out = join(tmp(), "bars");
    const ok = await run([...args(out), "--allow-mock"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(coverage(out).source.kind).toBe("mock");
    expect(await countRows(`${out}/*/*/*/*.parquet`)).toEqual([
      {
        symbol: "AAPL",
        n: expectedBars("2026-11-09", "2026-11-13", 3_600_000),
        d: expectedBars("2026-11-09", "2026-11-13", 3_600_000),
      },
    ]);
    // Without --allow-mock, `auto` passes the mock by: nothing found, exit 1 naming the ports.
    const refused = await run(args(join(tmp(), "bars")));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`ports 1, ${mock.port}`);
  }, 90_000);
});

describe("pacer memory", () => {
  it("a restarted daemon does not spend IB's 15-s identical-request window again (no 162 at the gateway)", async () => {
    // IB's old hard limits on every bar size, enforced by the gateway and scheduled by the daemon.
    const mock = await mockGateway(["--pacing-profile", "legacy"]);
    const state = tmp();
    const args = ["--upstream", `127.0.0.1:${mock.port}`, "--state-dir", state, "--pacing-profile", "legacy"];
    const q = new URLSearchParams({
      symbol: "AAPL",
      bar: "1 min",
      duration: "1800 S",
      end: "2026-11-16T20:00:00Z",
      rth: "false",
      timeoutMs: "60000",
    });
    const first = await daemon(args);
    expect((await fetch(`${first.base}/api/history?${q}`)).status).toBe(200);
    expect(await first.proc.stop("SIGTERM")).toBe(0);
    procs.splice(procs.indexOf(first.proc), 1);

    // The same request at once from a new daemon process: it must wait out IB's window.
    const second = await daemon(args);
    const again = await fetch(`${second.base}/api/history?${q}`);
    expect(again.status, await again.clone().text()).toBe(200);
    const asked = barRequests(await historyRequests(mock.control));
    expect(asked.map((h) => h.answer)).toEqual(["bars", "bars"]);
    expect(JSON.parse(readFileSync(join(state, "pacer-memory.json"), "utf8"))).toMatchObject({ version: 1 });
  }, 90_000);

  it("an unreadable memory file is ignored with a warning, never a start error", async () => {
    const state = tmp();
    writeFileSync(join(state, "pacer-memory.json"), "{not json");
    const d = await daemon(["--state-dir", state, "--mock-now", TEST_NOW]);
    expect((await fetch(`${d.base}/health`)).status).toBe(200);
    expect(d.proc.stderr()).toContain("pacer-memory.json");
  }, 30_000);
});
