import { afterEach, describe, expect, it } from "vitest";
import { MockGateway } from "../mock/index.js";
import { runDoctor } from "./doctor.js";
import type { DoctorOptions } from "./options.js";
import { toJson } from "./report.js";
import {
  type FakeServer,
  freePort,
  holdClientId,
  startFakeTws,
  startHttpLike,
} from "./test-support/fake-tws.js";
import type { DoctorReport } from "./types.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fake(...args: Parameters<typeof startFakeTws>): Promise<FakeServer> {
  const s = await startFakeTws(...args);
  cleanups.push(() => s.close());
  return s;
}

/** Loopback only, explicit ports, no daemon, no guessing of control ports. */
function doctor(ports: number[], extra: DoctorOptions = {}): Promise<DoctorReport> {
  return runDoctor({
    host: "127.0.0.1",
    ports,
    timeoutMs: 400,
    daemonUrl: null,
    mockControlPorts: () => [],
    ...extra,
  });
}

const codes = (r: DoctorReport) => r.findings.map((f) => `${f.level}:${f.code}`);

async function mock(accounts: string[]): Promise<MockGateway> {
  const gw = new MockGateway({ host: "127.0.0.1", port: 0, controlPort: 0, accounts, now: TEST_NOW });
  await gw.start();
  cleanups.push(() => gw.close());
  return gw;
}

async function post(port: number, path: string, body: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

describe("runDoctor against the mock gateway", () => {
  /** The mock is recognised through its control port, which the test knows. */
  const withControl = (gws: MockGateway[]): DoctorOptions => ({
    mockControlPorts: (port) => gws.filter((g) => g.port === port).map((g) => g.controlPort ?? 0),
  });

  it("no listener: error no-listener, exit 1", async () => {
    const port = await freePort();
    const r = await doctor([port]);
    expect(codes(r)).toEqual(["error:no-listener"]);
    expect(r.exitCode).toBe(1);
    expect(toJson(r).data.endpoints).toEqual([
      { host: "127.0.0.1", port, listening: false, process: null, handshake: null },
    ]);
  });

  it("two mocks, paper and live-style, on custom ports: which is which, mock warnings, exit 0", async () => {
    const paper = await mock(["DU1234567", "DU7654321"]);
    const live = await mock(["U7654321"]);
    const r = await doctor([paper.port, live.port], withControl([paper, live]));
    expect(r.exitCode).toBe(0);
    expect(r.findings.filter((f) => f.level === "error")).toEqual([]);
    expect(codes(r).filter((c) => c === "warn:mock-gateway")).toHaveLength(2);
    const multi = r.findings.find((f) => f.code === "multiple-gateways");
    expect(multi?.level).toBe("ok");
    expect(multi?.message).toContain(`${paper.port}: paper DU1234567,DU7654321`);
    expect(multi?.message).toContain(`${live.port}: live U7654321`);
    const eps = toJson(r).data.endpoints;
    expect(eps.map((e) => e.handshake)).toEqual([
      { ok: true, serverVersion: paper.serverVersion, accounts: ["DU1234567", "DU7654321"], paper: true },
      { ok: true, serverVersion: live.serverVersion, accounts: ["U7654321"], paper: false },
    ]);
    if (process.platform === "linux") expect(eps[0]?.process?.pid).toBe(process.pid);
  });

  it("a mock that stalls the handshake: error handshake-stalled, exit 1", async () => {
    const gw = await mock(["DU1"]);
    await post(gw.controlPort ?? 0, "/faults/stall", { ms: 60_000 });
    const r = await doctor([gw.port]);
    expect(codes(r)).toEqual(["error:handshake-stalled"]);
    expect(r.exitCode).toBe(1);
  });

  it("a mock whose probe client id is taken (326): error naming this process, exit 1", async () => {
    const gw = await mock(["DU1"]);
    const holder = await holdClientId(gw.port, 15);
    cleanups.push(() => void holder.destroy());
    const r = await doctor([gw.port], { clientId: 15 });
    const f = r.findings.find((x) => x.code === "client-id-in-use");
    expect(f?.level).toBe("error");
    expect(f?.message).toContain("Client id 15");
    if (process.platform === "linux") {
      expect(f?.message).toContain(`pid ${process.pid}`);
      expect(f?.fix).toContain(`kill ${process.pid}`);
    }
    expect(r.exitCode).toBe(1);
    // The second attempt used a checks-range id and completed.
    expect(toJson(r).data.endpoints[0]?.handshake?.ok).toBe(true);
  });

  it("a plain TCP server that is not TWS: error not-tws, exit 1", async () => {
    const web = await startHttpLike();
    cleanups.push(() => web.close());
    const r = await doctor([web.port]);
    expect(codes(r)).toEqual(["error:not-tws"]);
    expect(r.exitCode).toBe(1);
    expect(toJson(r).data.endpoints[0]).toMatchObject({ listening: true, handshake: { ok: false } });
  });
});

describe("runDoctor against tiny servers (cases the mock does not play)", () => {
  it("a healthy paper gateway: no problems, exit 0", async () => {
    const tws = await fake({
      accounts: ["DU111", "DU222"],
      notices: [[2104, "Market data farm connection is OK:usfarm"]],
    });
    const r = await doctor([tws.port]);
    expect(r.exitCode).toBe(0);
    expect(r.findings.filter((f) => f.level !== "ok")).toEqual([]);
    expect(codes(r)).toContain("ok:clock-skew");
  });

  it("a live account on a port declared paper: error paper-live-mismatch", async () => {
    const live = await fake({ accounts: ["U7654321"] });
    const r = await doctor([live.port], { expect: { [live.port]: "paper" } });
    expect(codes(r)).toContain("error:paper-live-mismatch");
    expect(r.exitCode).toBe(1);
  });

  it("the same account behind two ports: warn multiple-gateways", async () => {
    const a = await fake({ accounts: ["DU1"] });
    const b = await fake({ accounts: ["DU1"] });
    const r = await doctor([a.port, b.port]);
    expect(codes(r)).toContain("warn:multiple-gateways");
    expect(r.exitCode).toBe(0);
  });

  it("a hello answered, then silence: the 'Logged on, then TimeoutError' case", async () => {
    const tws = await fake({ behaviour: "stall-start", serverVersion: 176 });
    const r = await doctor([tws.port]);
    expect(codes(r)).toEqual(["error:handshake-stalled"]);
    expect(r.findings[0]?.message).toContain("Logged on to server version 176");
    expect(r.findings[0]?.message).toContain("32 API clients");
  });

  it("a connection closed without a word: error refused", async () => {
    const tws = await fake({ behaviour: "close-hello" });
    const r = await doctor([tws.port]);
    expect(codes(r)).toEqual(["error:refused"]);
  });

  it("326 on the doctor's own probe id: warn, and a lease holding it is named", async () => {
    const tws = await fake({ takenIds: [207] });
    const r = await doctor([tws.port], {
      random: () => 0.07,
      leases: async () => [
        {
          clientId: 207,
          upstream: `127.0.0.1:${tws.port}`,
          purpose: "checks",
          owner: "cron",
          pid: null,
          expiresAt: 1,
        },
      ],
    });
    // The lease takes 207 out of the candidates: the probe never tries it.
    expect(r.findings.some((f) => f.code === "client-id-in-use")).toBe(false);
    const r2 = await doctor([tws.port], { random: () => 0.07 });
    expect(codes(r2)).toContain("warn:client-id-in-use");
    expect(r2.exitCode).toBe(0);
  });

  it("old server version, broken farms and a skewed clock", async () => {
    const tws = await fake({
      serverVersion: 150,
      clockOffsetMs: 90_000,
      notices: [
        [2103, "Market data farm connection is broken:usfarm"],
        [2106, "HMDS data farm connection is OK:ushmds"],
      ],
    });
    const r = await doctor([tws.port]);
    expect(codes(r)).toEqual(["error:server-version-old", "warn:farm-broken", "warn:clock-skew"]);
  });

  it("reports an unhealthy daemon and stays quiet when none runs", async () => {
    const tws = await fake();
    const daemon = await httpServer((url) =>
      url === "/health"
        ? { status: 503, body: { success: false, data: { status: "down", upstream: "x:1", lines: [] } } }
        : null,
    );
    const bad = await doctor([tws.port], { daemonUrl: `http://127.0.0.1:${daemon.port}` });
    expect(codes(bad)).toContain("error:daemon-unhealthy");
    const none = await doctor([tws.port], { daemonUrl: `http://127.0.0.1:${await freePort()}` });
    expect(none.findings.some((f) => f.code === "daemon-unhealthy")).toBe(false);
  });
});

type Answer = { status: number; body: unknown } | Record<string, unknown> | null;

async function httpServer(route: (url: string) => Answer): Promise<{ port: number }> {
  const { createServer: createHttp } = await import("node:http");
  const server = createHttp((req, res) => {
    const a = route(req.url ?? "");
    const status = a && "status" in a && typeof a.status === "number" ? a.status : a ? 200 : 404;
    const body = a && "status" in a && typeof a.status === "number" ? a.body : a;
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as { port: number }).port };
}
