/**
 * `switchboard doctor` as a process: exit codes and the exact --json shape. Runs the built
 * CLI (`npm test` builds dist/ first), as users run it.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type FakeServer,
  freePort,
  holdClientId,
  startFakeTws,
  startHttpLike,
} from "../../doctor/test-support/fake-tws.js";
import { TEST_NOW } from "../../mock/test-now.test-util.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const CLI = join(ROOT, "bin", "switchboard.js");

const servers: FakeServer[] = [];
const children: ChildProcess[] = [];
const sockets: { destroy(): void }[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
  await Promise.all(
    children.splice(0).map(
      (c) =>
        new Promise<void>((done) => {
          if (c.exitCode !== null) return done();
          c.once("exit", () => done());
          c.kill("SIGTERM");
        }),
    ),
  );
});

interface MockProcess {
  port: number;
  controlPort: number;
}

/** `switchboard mock-gateway` as its own process, as a user would run it; waits for READY. */
function mockProcess(accounts: string): Promise<MockProcess> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "mock-gateway",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--control-port",
      "0",
      "--accounts",
      accounts,
      // A calendar pinned weeks away from this machine's clock: a setting, never clock skew.
      "--now",
      TEST_NOW,
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^READY (.*)$/m.exec(out);
      if (m) resolve(JSON.parse(m[1] ?? "{}") as MockProcess);
    });
    child.once("exit", (code) => reject(new Error(`mock-gateway exited with ${code}`)));
  });
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [CLI, "doctor", "--no-daemon", "--timeout", "400", ...args],
      { timeout: 20_000 },
      (_err, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }),
    );
  });
}

const json = (r: Run) =>
  JSON.parse(r.stdout) as {
    success: boolean;
    data: {
      endpoints: Record<string, unknown>[];
      findings: { level: string; code: string; port?: number; message: string; fix?: string }[];
    };
  };

describe("switchboard doctor (process)", () => {
  it("no listener → no-listener, exit 1, exact JSON shape", async () => {
    const port = await freePort();
    const r = await cli("--port", String(port), "--json");
    expect(r.code).toBe(1);
    const j = json(r);
    expect(j.success).toBe(true);
    expect(j.data.endpoints).toEqual([
      { host: "127.0.0.1", port, listening: false, process: null, handshake: null },
    ]);
    expect(j.data.findings.map((f) => f.code)).toEqual(["no-listener"]);
    expect(Object.keys(j.data.findings[0] ?? {}).sort()).toEqual(["code", "fix", "level", "message", "port"]);
  });

  it("two mock gateways (paper, live-style) on custom ports → exit 0, which is which, both named mocks", async () => {
    const [paper, live] = await Promise.all([mockProcess("DU1234567"), mockProcess("U7654321")]);
    const r = await cli("--port", String(paper.port), "--port", String(live.port), "--json");
    expect(r.code).toBe(0);
    const j = json(r);
    expect(
      j.data.endpoints.map((e) => (e.handshake as { accounts: string[]; paper: boolean }).paper),
    ).toEqual([true, false]);
    expect(Object.keys(j.data.endpoints[0] ?? {}).sort()).toEqual([
      "handshake",
      "host",
      "listening",
      "port",
      "process",
    ]);
    expect(Object.keys(j.data.endpoints[0]?.handshake ?? {}).sort()).toEqual([
      "accounts",
      "ok",
      "paper",
      "serverVersion",
    ]);
    // Found from the listener's command line: the process runs `mock-gateway`.
    expect(j.data.findings.filter((f) => f.code === "mock-gateway").map((f) => f.level)).toEqual([
      "warn",
      "warn",
    ]);
    expect(j.data.findings.find((f) => f.code === "multiple-gateways")?.level).toBe("ok");
    expect(j.data.findings.filter((f) => f.code === "clock-skew").map((f) => f.level)).toEqual(["ok", "ok"]);
    const human = await cli("--port", String(paper.port), "--port", String(live.port));
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`⚠ ${paper.port}  paper DU1234567`);
    expect(human.stdout).toContain(`⚠ ${live.port}  live U7654321`);
  });

  it("--expect declares a port paper: a live account there → paper-live-mismatch, exit 1", async () => {
    const live = await startFakeTws({ accounts: ["U7654321"] });
    servers.push(live);
    const r = await cli("--port", String(live.port), "--expect", `${live.port}=paper`, "--json");
    expect(r.code).toBe(1);
    expect(json(r).data.findings.map((f) => `${f.level}:${f.code}`)).toContain("error:paper-live-mismatch");
  });

  it("a mock that stalls the handshake → handshake-stalled, exit 1", async () => {
    const m = await mockProcess("DU1");
    const res = await fetch(`http://127.0.0.1:${m.controlPort}/faults/stall`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ms: 60_000 }),
    });
    expect(res.status).toBe(200);
    const r = await cli("--port", String(m.port));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✖ ${m.port} handshake-stalled:`);
  });

  it("a mock whose client id is taken (326) → client-id-in-use naming the holder, exit 1", async () => {
    const m = await mockProcess("DU1");
    sockets.push(await holdClientId(m.port, 15));
    const r = await cli("--port", String(m.port), "--client-id", "15", "--json");
    expect(r.code).toBe(1);
    const f = json(r).data.findings.find((x) => x.code === "client-id-in-use");
    expect(f?.level).toBe("error");
    if (process.platform === "linux") expect(f?.message).toContain(`pid ${process.pid}`);
  });

  it("a plain TCP server → not-tws, exit 1", async () => {
    const s = await startHttpLike();
    servers.push(s);
    const r = await cli("--port", String(s.port), "--json");
    expect(r.code).toBe(1);
    expect(json(r).data.findings.map((f) => f.code)).toEqual(["not-tws"]);
  });

  it("bad usage → exit 2 naming the flag", async () => {
    const bad = await cli("--port", "70000");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--port 70000");
    const expectBad = await cli("--port", "4002", "--expect", "4002=demo");
    expect(expectBad.code).toBe(2);
    expect(expectBad.stderr).toContain("--expect");
  });
});
