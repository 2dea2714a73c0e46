/**
 * The daemon as a user runs it: `switchboard start` in its own process against
 * `switchboard mock-gateway` in another. Every route, the 503 → 200 cycle across a gateway
 * restart, SSE, metrics through a strict Prometheus parser, tokens, and a clean shutdown.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Proc,
  run,
  startProcess,
  until,
  daemonArgs,
  startMockGateway,
} from "./test-support/process.test-util.js";
import { parsePrometheus } from "./test-support/prom-parse.test-util.js";
import { openSse, type SseReader } from "./test-support/sse.test-util.js";

const TOKEN = "test-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };

type Body = {
  success: boolean;
  data?: unknown;
  error?: { code: string; message: string; field?: string; ibCode?: number };
};

describe("switchboard start against a mock gateway process", () => {
  let stateDir: string;
  let mock: Proc;
  let daemon: Proc;
  let base: string;
  let control: string;
  const sse: SseReader[] = [];

  const call = async (path: string, init: RequestInit = {}, token = true) => {
    const res = await fetch(base + path, {
      ...init,
      headers: {
        ...(token ? auth : {}),
        ...(init.body ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      body: (text.startsWith("{") ? JSON.parse(text) : {}) as Body,
    };
  };
  const health = () => call("/health", {}, false);
  const fault = (path: string, body: unknown) =>
    fetch(control + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), "sb-daemon-"));
    mock = await startMockGateway();
    control = `http://127.0.0.1:${mock.ready.controlPort}`;
    daemon = await startProcess(
      daemonArgs({ upstream: `127.0.0.1:${mock.ready.port}`, stateDir, extra: ["--token", TOKEN] }),
    );
    base = String(daemon.ready.http);
    await until(async () => ((await health()).status === 200 ? true : undefined), "/health 200");
  });

  afterAll(async () => {
    for (const s of sse) s.close();
    await daemon?.stop();
    await mock?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("prints the READY line of the contract", () => {
    expect(daemon.ready).toMatchObject({ upstream: `127.0.0.1:${mock.ready.port}` });
    expect(daemon.ready.proxyPort).toEqual(expect.any(Number));
    expect(String(daemon.ready.http)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(daemon.ready.mockPort).toBeUndefined();
  });

  it("answers /health with the line, without a token", async () => {
    const r = await health();
    expect(r.status).toBe(200);
    expect(r.body.success).toBe(true);
    const data = r.body.data as { status: string; upstream: string; lines: Record<string, unknown>[] };
    expect(data.status).toBe("healthy");
    expect(data.lines).toHaveLength(1);
    expect(data.lines[0]).toMatchObject({
      name: "default",
      state: "ready",
      serverVersion: 178,
      reconnects: 0,
    });
    for (const k of ["clientId", "connectedSince", "lastHeartbeatAgoMs"])
      expect(data.lines[0]).toHaveProperty(k);
  });

  it("enforces the token on every route but /health", async () => {
    for (const path of ["/api/ids", "/metrics", "/api/ib/pool/status", "/openapi.json"]) {
      const r = await call(path, {}, false);
      expect(r.status, path).toBe(401);
      expect(r.body.error?.code).toBe("unauthorized");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect((await call("/", {}, false)).status).toBe(401);
    expect(
      (await call("/api/ids", { headers: { authorization: "Bearer wrong-token-xxxxxxx" } }, false)).status,
    ).toBe(401);
    // ?token= only on / and /events.
    expect((await call(`/api/ids?token=${TOKEN}`, {}, false)).status).toBe(401);
    expect((await call(`/?token=${TOKEN}`, {}, false)).status).toBe(200);
    const s = await openSse(`${base}/events?token=${TOKEN}`);
    sse.push(s);
    expect(s.status).toBe(200);
    s.close();
  });

  it("serves the pool, pacing and health-detail routes", async () => {
    const pool = await call("/api/ib/pool/status");
    expect(pool.body).toMatchObject({
      success: true,
      data: { tenants: [], lines: [{ name: "default", state: "ready" }] },
    });
    const metrics = await call("/api/ib/pool/metrics");
    expect(metrics.body.data).toMatchObject({ lines: [{ name: "default", reconnects: 0 }] });
    const detail = await call("/api/ib/pool/health");
    expect(detail.body.data).toMatchObject({
      status: "healthy",
      info: { proxyPort: daemon.ready.proxyPort },
    });
    const pace = await call("/api/ib/pace/status");
    expect((pace.body.data as { rules: { ruleId: string }[] }).rules.map((r) => r.ruleId)).toContain(
      "messageRate",
    );
    expect(pace.body.data).toMatchObject({ profile: "current" });
    const stats = await call("/api/ib/pace/stats");
    expect(stats.body.data).toMatchObject({ violations: { total: 0 } });
  });

  it("leases, renews and releases client ids, with the error codes of the contract", async () => {
    const list = await call("/api/ids");
    const leases = list.body.data as { clientId: number; purpose: string; token?: string }[];
    // The line's own lease (purpose proxy); tokens never appear in listings.
    expect(leases.some((l) => l.purpose === "proxy")).toBe(true);
    expect(leases.every((l) => l.token === undefined)).toBe(true);

    const got = await call("/api/ids/lease", {
      method: "POST",
      body: JSON.stringify({ purpose: "agents", owner: "test", ttlMs: 60_000 }),
    });
    expect(got.status).toBe(200);
    const lease = got.body.data as { clientId: number; token: string; expiresAt: number; upstream: string };
    expect(lease).toMatchObject({ clientId: 300, purpose: "agents", owner: "test", upstream: "default" });

    const renewed = await call(`/api/ids/lease/${lease.clientId}/renew`, {
      method: "POST",
      body: JSON.stringify({ token: lease.token, ttlMs: 120_000 }),
    });
    expect(renewed.status).toBe(200);
    expect((renewed.body.data as { expiresAt: number }).expiresAt).toBeGreaterThan(lease.expiresAt);

    const badToken = await call(`/api/ids/lease/${lease.clientId}/renew`, {
      method: "POST",
      body: JSON.stringify({ token: "nope" }),
    });
    expect(badToken.status).toBe(403);
    expect(badToken.body.error).toMatchObject({ code: "forbidden", field: "token" });
    // …and leaves the lease alone.
    const still = (await call("/api/ids?purpose=agents")).body.data as { clientId: number }[];
    expect(still.map((l) => l.clientId)).toContain(lease.clientId);

    const badBody = await call("/api/ids/lease", {
      method: "POST",
      body: JSON.stringify({ purpose: "agents" }),
    });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error).toMatchObject({ code: "invalid_argument", field: "owner" });
    const badPurpose = await call("/api/ids/lease", {
      method: "POST",
      body: JSON.stringify({ purpose: "nope", owner: "t" }),
    });
    expect(badPurpose.body.error).toMatchObject({ code: "invalid_argument", field: "purpose" });
    const badJson = await call("/api/ids/lease", { method: "POST", body: "{not json" });
    expect(badJson.status).toBe(400);

    const released = await call(`/api/ids/lease/${lease.clientId}`, {
      method: "DELETE",
      body: JSON.stringify({ token: lease.token }),
    });
    expect(released.status, released.text).toBe(200);
    expect(released.body.data).toMatchObject({ clientId: lease.clientId });
    const again = await call(`/api/ids/lease/${lease.clientId}`, {
      method: "DELETE",
      body: JSON.stringify({ force: true }),
    });
    expect(again.status).toBe(404);
    expect(again.body.error?.code).toBe("not_found");
  });

  it("answers 409 range_exhausted when a purpose is full", async () => {
    const taken: { clientId: number; token: string }[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await call("/api/ids/lease", {
        method: "POST",
        body: JSON.stringify({ purpose: "ui", owner: `t${i}` }),
      });
      expect(r.status).toBe(200);
      taken.push(r.body.data as { clientId: number; token: string });
    }
    const full = await call("/api/ids/lease", {
      method: "POST",
      body: JSON.stringify({ purpose: "ui", owner: "one-too-many" }),
    });
    expect(full.status).toBe(409);
    expect(full.body.error?.code).toBe("range_exhausted");
    for (const l of taken) {
      expect(
        (await call(`/api/ids/lease/${l.clientId}?leaseToken=${l.token}`, { method: "DELETE" })).status,
      ).toBe(200);
    }
  });

  it("validates data-route parameters and names the field (400)", async () => {
    const cases: [string, string][] = [
      ["/api/contracts/qualify", "symbol"],
      ["/api/contracts/qualify?symbol=AAPL&secType=XYZ", "secType"],
      ["/api/history?symbol=AAPL&bar=7min", "bar"],
      ["/api/history?symbol=AAPL&duration=forever", "duration"],
      ["/api/history?symbol=AAPL&end=yesterday", "end"],
      ["/api/history?symbol=AAPL&what=PRICES", "what"],
      ["/api/history?symbol=AAPL&rth=maybe", "rth"],
      ["/api/quotes/AAPL?maxAgeMs=-1", "maxAgeMs"],
      ["/api/quotes/AAPL?timeoutMs=0", "timeoutMs"],
    ];
    for (const [path, field] of cases) {
      const r = await call(path);
      expect(r.status, path).toBe(400);
      expect(r.body.error, path).toMatchObject({ code: "invalid_argument", field });
    }
  });

  it("qualifies, quotes and backfills through the switch (404 with ibCode 200 for an unknown symbol)", async () => {
    const q = await call("/api/contracts/qualify?symbol=AAPL");
    expect(q.status, q.text).toBe(200);
    expect((q.body.data as Record<string, unknown>[])[0]).toMatchObject({
      symbol: "AAPL",
      secType: "STK",
      currency: "USD",
    });
    expect(typeof (q.body.data as { conId: number }[])[0]!.conId).toBe("number");

    const unknown = await call("/api/contracts/qualify?symbol=NOSUCHSYM");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: "not_found", ibCode: 200 });
    expect((await call("/api/quotes/NOSUCHSYM")).body.error).toMatchObject({
      code: "not_found",
      ibCode: 200,
    });

    const quote = await call("/api/quotes/AAPL");
    expect(quote.status, quote.text).toBe(200);
    const qd = quote.body.data as Record<string, unknown>;
    for (const k of [
      "symbol",
      "conId",
      "bid",
      "bidSize",
      "ask",
      "askSize",
      "last",
      "lastSize",
      "close",
      "time",
      "marketDataType",
    ]) {
      expect(qd, k).toHaveProperty(k);
    }
    expect(qd.symbol).toBe("AAPL");

    const h = await call("/api/history?symbol=AAPL&bar=1day&duration=5%20D&end=2026-01-09T21:00:00Z&rth=1");
    expect(h.status, h.text).toBe(200);
    const hd = h.body.data as { contract: { symbol: string }; bars: Record<string, unknown>[] };
    expect(hd.contract.symbol).toBe("AAPL");
    expect(hd.bars.length).toBeGreaterThan(0);
    expect(Object.keys(hd.bars[0]!).sort()).toEqual([
      "close",
      "count",
      "high",
      "low",
      "open",
      "time",
      "volume",
      "wap",
    ]);
    expect(new Date(String(hd.bars[0]!.time)).toISOString()).toBe(hd.bars[0]!.time);

    // A request of small bars again within 15 s would wait for IB's identical-request rule
    // (which IB still applies to bars of 30 secs or less): it is answered from the kept answer
    // (historyCacheMs, default 15 s) instead, at once, with the same bars. With the kept answer
    // off it is 429 at a short timeoutMs (src/daemon/data.test.ts).
    const small = "/api/history?symbol=AAPL&bar=30secs&duration=1800%20S&end=2026-01-09T21:00:00Z&rth=1";
    const first = await call(small);
    expect(first.status).toBe(200);
    const again = await call(`${small}&timeoutMs=300`);
    expect(again.status, again.text).toBe(200);
    expect(again.body.data).toEqual(first.body.data);
  });

  it("answers 504 rather than hang when the gateway does not answer", async () => {
    expect((await fault("/faults/stall", { ms: 1_000 })).status).toBe(200);
    const r = await call("/api/quotes/MSFT?timeoutMs=300");
    expect(r.status, r.text).toBe(504);
    expect(r.body.error?.code).toBe("timeout");
    expect((await fault("/faults/clear", {})).status).toBe(200);
    await until(
      async () => ((await health()).status === 200 ? true : undefined),
      "/health 200 after the stall",
    );
  });

  it("serves /openapi.json for every route, and a status page at /", async () => {
    const r = await call("/openapi.json");
    const doc = JSON.parse(r.text) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    for (const p of [
      "/health",
      "/metrics",
      "/events",
      "/api/ib/pool/status",
      "/api/ib/pool/metrics",
      "/api/ib/pool/health",
      "/api/ib/pace/status",
      "/api/ib/pace/stats",
      "/api/ids",
      "/api/ids/lease",
      "/api/ids/lease/{clientId}/renew",
      "/api/ids/lease/{clientId}",
      "/api/contracts/qualify",
      "/api/history",
      "/api/quotes/{symbol}",
      "/",
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    const page = await call("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const missing = await call("/api/nothing");
    expect(missing.status).toBe(404);
    expect(missing.body.error?.code).toBe("not_found");
  });

  it("goes 503 while the gateway is down and back to 200, with SSE events and metrics", async () => {
    const events = await openSse(`${base}/events`, auth);
    sse.push(events);
    expect((await fault("/faults/down", { ms: 1_500 })).status).toBe(200);

    const down = await until(async () => {
      const r = await health();
      return r.status === 503 ? r : undefined;
    }, "/health 503");
    expect(down.body.success).toBe(false);
    expect(down.body.error?.code).toBe("unhealthy");
    expect(down.body.data).toMatchObject({ status: "down", lines: [{ name: "default" }] });

    const lost = await events.waitFor(
      (f) => f.event === "line.state" && f.data.from === "ready",
      "line.state leaving ready",
    );
    expect(lost.data).toMatchObject({ type: "line.state", line: "default" });
    expect(typeof lost.data.ts).toBe("number");
    const back = await events.waitFor(
      (f) => f.event === "line.state" && f.data.to === "ready" && f.id > lost.id,
      "line.state back to ready",
    );
    await events.waitFor((f) => f.event === "line.resubscribe" && f.id > lost.id, "line.resubscribe");
    expect(back.id).toBeGreaterThan(lost.id);

    await until(async () => ((await health()).status === 200 ? true : undefined), "/health 200 again");
    const h = await health();
    expect(h.body.data).toMatchObject({ status: "healthy", lines: [{ reconnects: 1 }] });

    // Last-Event-ID replays what was missed, from the ring.
    const replay = await openSse(`${base}/events`, { ...auth, "last-event-id": String(lost.id - 1) });
    sse.push(replay);
    const first = await replay.waitFor(() => true, "replayed frame");
    expect(first.id).toBe(lost.id);
    replay.close();
    events.close();

    const m = await call("/metrics");
    expect(m.headers.get("content-type")).toMatch(/^text\/plain/);
    const fams = parsePrometheus(m.text);
    const value = (name: string, labels: Record<string, string>) =>
      fams.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value("switchboard_line_state", { line: "default", state: "ready" })).toBe(1);
    expect(value("switchboard_line_state", { line: "default", state: "reconnecting" })).toBe(0);
    expect(value("switchboard_line_reconnects_total", { line: "default" })).toBe(1);
    expect(value("switchboard_leases", { purpose: "proxy" })).toBe(1);
    expect(value("switchboard_tenants", { kind: "proxy" })).toBe(0);
    expect(value("switchboard_tenants", { kind: "http" })).toBeGreaterThan(0);
    expect(fams.get("switchboard_requests_total")?.samples.some((s) => s.labels.outcome !== undefined)).toBe(
      true,
    );
    expect(fams.get("switchboard_line_reconnects_total")?.type).toBe("counter");
    expect(fams.get("switchboard_pacer_wait_seconds")?.type).toBe("histogram");
    for (const name of [
      "switchboard_heartbeat_rtt_seconds",
      "switchboard_requests_total",
      "switchboard_pacing_violations_total",
      "process_cpu_user_seconds_total",
      "nodejs_heap_size_used_bytes",
    ]) {
      expect(fams.has(name), name).toBe(true);
    }
  });

  it("stops on SIGTERM with exit 0, releasing its lease and freeing its port", async () => {
    const port = Number(new URL(base).port);
    const code = await daemon.stop("SIGTERM");
    expect(code).toBe(0);
    const list = await run(["ids", "list", "--json", "--state-dir", stateDir]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    expect(free).toBe(true);
    const state = (await (await fetch(`${control}/state`)).json()) as { data: { clients: unknown[] } };
    expect(state.data.clients).toEqual([]);
  });
});
