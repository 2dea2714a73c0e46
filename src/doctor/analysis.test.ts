import { describe, expect, it } from "vitest";
import { analyze } from "./analysis.js";
import { farmStates } from "./facts.js";
import { formatHuman } from "./report.js";
import type { ConnectOutcome, DoctorFacts, EndpointFacts, HandshakeAttempt, Notice } from "./types.js";

function attempt(over: Partial<HandshakeAttempt> = {}): HandshakeAttempt {
  return {
    clientId: 250,
    outcome: { kind: "ok" },
    serverVersion: 178,
    connectionTime: "20250102 09:30:00 EST",
    accounts: ["DU1"],
    nextValidId: 1,
    notices: [],
    serverTime: null,
    ...over,
  };
}

function endpoint(
  port: number,
  connect: ConnectOutcome,
  attempts: HandshakeAttempt[] = [],
  over: Partial<EndpointFacts> = {},
): EndpointFacts {
  return {
    probe: { host: "127.0.0.1", port, connect, attempts, localPorts: [] },
    owner: null,
    peers: [],
    mock: null,
    expected: null,
    leases: [],
    ...over,
  };
}

function facts(endpoints: EndpointFacts[], over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    host: "127.0.0.1",
    explicitPorts: false,
    endpoints,
    gatewayProcesses: [],
    daemon: { kind: "absent", url: "http://127.0.0.1:4300" },
    requestedClientId: null,
    ...over,
  };
}

const refused: ConnectOutcome = { kind: "refused", ms: 0 };
const connected: ConnectOutcome = { kind: "connected", ms: 1 };
const OPTS = { clockSkewWarnMs: 3_000 };
const summary = (f: DoctorFacts) =>
  analyze(f, OPTS).map((x) => `${x.level}:${x.code}${x.port ? `@${x.port}` : ""}`);

describe("analyze", () => {
  it("default ports, nothing anywhere: one no-listener naming a Gateway that runs without listening", () => {
    const f = facts(
      [7496, 7497, 4001, 4002].map((p) => endpoint(p, refused)),
      {
        gatewayProcesses: [{ pid: 99, command: "java ibgateway.GWClient", kind: "gateway", listenPorts: [] }],
      },
    );
    const out = analyze(f, OPTS);
    expect(out.map((x) => x.code)).toEqual(["no-listener"]);
    expect(out[0]?.message).toContain("pid 99");
    expect(out[0]?.message).toContain("on no TCP port");
  });

  it("default ports: silent ones are not findings when another answers", () => {
    const f = facts([endpoint(7496, refused), endpoint(4002, connected, [attempt()], { expected: "paper" })]);
    expect(summary(f)).toEqual([]);
  });

  it("connect timeout and other connect errors", () => {
    const f = facts(
      [
        endpoint(4001, { kind: "timeout", ms: 2000 }),
        endpoint(4002, { kind: "error", ms: 1, errno: "EHOSTUNREACH", message: "x" }),
      ],
      {
        explicitPorts: true,
      },
    );
    expect(summary(f)).toEqual(["error:connect-timeout@4001", "error:connect-timeout@4002"]);
  });

  it("paper accounts on a live port warn; live on a paper port is an error", () => {
    expect(summary(facts([endpoint(4001, connected, [attempt()], { expected: "live" })]))).toEqual([
      "warn:paper-live-mismatch@4001",
    ]);
    expect(
      summary(
        facts([endpoint(4002, connected, [attempt({ accounts: ["U1", "DU2"] })], { expected: "paper" })]),
      ),
    ).toEqual(["error:paper-live-mismatch@4002"]);
  });

  it("leftover Gateway processes: warn multiple-gateways with their pids", () => {
    const f = facts([endpoint(4002, connected, [attempt()])], {
      gatewayProcesses: [
        { pid: 10, command: "java ibgateway", kind: "gateway", listenPorts: [4002] },
        { pid: 11, command: "java ibgateway", kind: "gateway", listenPorts: [] },
        { pid: 12, command: "java ibgateway", kind: "gateway", listenPorts: [] },
      ],
    });
    const out = analyze(f, OPTS);
    expect(out.map((x) => `${x.level}:${x.code}`)).toEqual(["warn:multiple-gateways"]);
    expect(out[0]?.fix).toContain("kill 11 12");
  });

  it("326 with a registry lease and an unknown holder", () => {
    const f = facts(
      [
        endpoint(
          4002,
          connected,
          [
            attempt({ outcome: { kind: "client-id-in-use", clientId: 15 }, clientId: 15, accounts: [] }),
            attempt(),
          ],
          {
            peers: [{ localPort: 50000, process: null }],
            leases: [
              {
                clientId: 15,
                upstream: "default",
                purpose: "workers",
                owner: "spy-trader",
                pid: 4711,
                expiresAt: 0,
              },
            ],
          },
        ),
      ],
      { requestedClientId: 15 },
    );
    const [f326] = analyze(f, OPTS);
    expect(f326?.level).toBe("error");
    expect(f326?.message).toContain('lease of id 15 by "spy-trader" (pid 4711)');
    expect(f326?.message).toContain("unknown process (local port 50000)");
  });

  it("daemon: healthy is ok, healthy on the mock warns, degraded warns, down and silent are errors", () => {
    const d = (daemon: DoctorFacts["daemon"]) =>
      summary(facts([endpoint(4002, connected, [attempt()])], { daemon }));
    expect(d({ kind: "healthy", url: "u", upstream: "127.0.0.1:4002", lines: [] })).toEqual([
      "ok:daemon-healthy",
    ]);
    expect(d({ kind: "healthy", url: "u", upstream: "mock", lines: [] })).toEqual(["warn:mock-gateway"]);
    expect(d({ kind: "unhealthy", url: "u", status: 503, detail: "status degraded", lines: [] })).toEqual([
      "warn:daemon-unhealthy",
    ]);
    expect(d({ kind: "unhealthy", url: "u", status: 503, detail: "status down", lines: [] })).toEqual([
      "error:daemon-unhealthy",
    ]);
    expect(d({ kind: "error", url: "u", detail: "did not answer" })).toEqual(["error:daemon-unhealthy"]);
  });

  it("daemon lines: reports each line's identity, and a refused gateway of another identity as an error", () => {
    const line = (reason: string, mode: "paper" | "live" | "mock" | null, accounts: string[]) => ({
      name: "default",
      state: reason.startsWith("identity_changed") ? "disconnected" : "ready",
      reason,
      upstream: "auto:127.0.0.1:4002",
      identity: { mode, accounts },
    });
    const run = (daemon: DoctorFacts["daemon"]) =>
      analyze(facts([endpoint(4002, connected, [attempt()])], { daemon }), OPTS).filter(
        (f) => f.code === "line-identity",
      );
    const ok = run({
      kind: "healthy",
      url: "u",
      upstream: "auto:127.0.0.1:4002",
      lines: [line("handshake complete", "paper", ["DU111"])],
    });
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ level: "ok" });
    expect(ok[0]?.message).toContain("PAPER DU111");
    const refused = run({
      kind: "unhealthy",
      url: "u",
      status: 503,
      detail: "status down",
      lines: [line("identity_changed: expected paper DU111, got live U222", "paper", ["DU111"])],
    });
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: "error" });
    expect(refused[0]?.message).toContain("expected paper DU111, got live U222");
    expect(refused[0]?.fix).toContain("switchboard lines forget default");
    // The built-in mock has no identity to report.
    expect(
      run({ kind: "healthy", url: "u", upstream: "mock", lines: [line("ok", "mock", ["DU1"])] }),
    ).toEqual([]);
  });

  it("clock skew is measured against the middle of the round trip", () => {
    const serverTime = {
      epochSeconds: 1_700_000_010,
      sentAtMs: 1_700_000_000_000,
      receivedAtMs: 1_700_000_000_200,
    };
    const out = analyze(facts([endpoint(4002, connected, [attempt({ serverTime })])]), OPTS);
    expect(out[0]).toMatchObject({ level: "warn", code: "clock-skew" });
    expect(out[0]?.message).toContain("10.4 s behind");
  });

  it("the human report marks each line", () => {
    const f = facts([
      endpoint(7496, refused),
      endpoint(4002, connected, [attempt()], { mock: "control-port" }),
    ]);
    const findings = analyze(f, OPTS);
    const text = formatHuman({ facts: f, findings, exitCode: 0 });
    expect(text).toContain("· 7496  nothing listening");
    expect(text).toContain("⚠ 4002  paper DU1 · server version 178");
    expect(text).toContain("⚠ 4002 mock-gateway:");
    expect(text).toContain("0 errors, 1 warning (exit 0: warnings only)");
  });
});

describe("farmStates", () => {
  const n = (code: number, message: string): Notice => ({ id: -1, code, message });
  it("keeps the last word per farm", () => {
    const s = farmStates([
      n(2103, "Market data farm connection is broken:usfarm"),
      n(2104, "Market data farm connection is OK:usfarm"),
      n(2105, "HMDS data farm connection is broken:ushmds"),
      n(2158, "Sec-def data farm connection is OK:secdefil"),
    ]);
    expect(s.filter((x) => x.state === "broken").map((x) => x.farm)).toEqual(["HMDS farm ushmds"]);
  });
});
