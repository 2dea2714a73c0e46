/**
 * `switchboard start` and `switchboard status` as processes: bad config exits 2 naming the
 * key, the built-in mock runs when no upstream is configured (and says so), and `status`
 * prints the daemon's lines, tenants, leases and pacing.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, run, startProcess, until } from "../../daemon/test-support/process.test-util.js";
import { TEST_NOW } from "../../mock/test-now.test-util.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-start-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("switchboard start: config errors exit 2 naming the key", () => {
  const cases: {
    name: string;
    args: string[];
    env?: Record<string, string>;
    file?: string;
    says: string[];
  }[] = [
    {
      name: "bad flag value",
      args: ["--http-port", "http"],
      says: ['"httpPort"', "--http-port", "0..65535"],
    },
    {
      name: "bad upstream",
      args: ["--upstream", "nowhere"],
      says: ["--upstream", '"mock", "auto" or host:port'],
    },
    {
      name: "unknown env key",
      args: [],
      env: { SWITCHBOARD_HTTP_PROT: "1" },
      says: ["SWITCHBOARD_HTTP_PROT", "SWITCHBOARD_HTTP_PORT"],
    },
    {
      name: "bad env value",
      args: [],
      env: { SWITCHBOARD_LOG_LEVEL: "loud" },
      says: ["SWITCHBOARD_LOG_LEVEL", "debug"],
    },
    {
      name: "unknown file key",
      args: [],
      file: "httpPort: 0\nproxyPrt: 1\n",
      says: ['"proxyPrt"', "proxyPort"],
    },
    {
      name: "bad line in file",
      args: [],
      file: "lines:\n  - {name: a, upstream: 'x:y'}\n",
      says: ["lines.0.upstream"],
    },
    { name: "non-loopback bind without token", args: ["--host", "0.0.0.0"], says: ["--token", "--allow"] },
    {
      name: "unknown pacing profile",
      args: ["--pacing-profile", "fast"],
      says: ["--pacing-profile", "current or legacy"],
    },
    {
      name: "a pacing rules file that cannot be read",
      args: [],
      file: `pacingRules: ${JSON.stringify(join(tmpdir(), "sb-no-such-rules.json"))}\n`,
      says: ['"pacingRules"', "cannot read"],
    },
    {
      name: "unreadable config file",
      args: ["--config", "/nonexistent/switchboard.yaml"],
      says: ["--config"],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const args = ["start", "--http-port", "0", "--state-dir", dir];
      if (c.file !== undefined) {
        const f = join(dir, `${c.name.replace(/\W+/g, "-")}.yaml`);
        writeFileSync(f, c.file);
        args.push("--config", f);
      }
      // The case's own flags come last so they override the test's defaults.
      const r = await run([...args, ...c.args], c.env ?? {});
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).not.toContain("READY");
      for (const s of c.says) expect(r.stderr).toContain(s);
    });
  }
});

describe("switchboard start with nothing configured", () => {
  let daemon: Proc;
  beforeAll(async () => {
    daemon = await startProcess(
      ["start", "--http-port", "0", "--proxy-port", "0", "--state-dir", dir, "--mock-now", TEST_NOW],
      {
        SWITCHBOARD_LOG_LEVEL: "info",
      },
    );
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it("runs the built-in mock, says so loudly, and turns healthy", async () => {
    expect(daemon.ready).toMatchObject({ upstream: "mock" });
    expect(daemon.ready.proxyPort).toEqual(expect.any(Number));
    expect(daemon.ready.mockPort).toEqual(expect.any(Number));
    expect(daemon.ready.mockControlPort).toEqual(expect.any(Number));
    expect(daemon.stderr()).toContain("BUILT-IN MOCK");
    const base = String(daemon.ready.http);
    const h = await until(async () => {
      const r = await fetch(`${base}/health`);
      return r.status === 200 ? ((await r.json()) as { data: { upstream: string } }) : undefined;
    }, "/health 200");
    expect(h.data.upstream).toBe("mock");
    // The built-in mock has its control API too (faults on command).
    const state = await fetch(`http://127.0.0.1:${daemon.ready.mockControlPort}/state`);
    expect(state.status).toBe(200);
  });

  it("--mock-now pins the built-in mock's calendar: history ends at its now, counted in sessions", async () => {
    const base = String(daemon.ready.http);
    await until(
      async () => ((await fetch(`${base}/health`)).status === 200 ? true : undefined),
      "/health 200",
    );
    const r = await fetch(`${base}/api/history?symbol=AAPL&bar=1min&duration=1%20D`);
    expect(r.status).toBe(200);
    const { data } = (await r.json()) as { data: { bars: { time: string }[] } };
    // TEST_NOW is 11:00 New York: the session so far, 09:30–10:59.
    expect(data.bars).toHaveLength(90);
    expect(data.bars[0]?.time).toBe("2026-11-17T14:30:00.000Z");
    expect(data.bars[89]?.time).toBe("2026-11-17T15:59:00.000Z");
  });

  it("switchboard status prints lines, tenants, leases and pacing (and --json)", async () => {
    const url = String(daemon.ready.http);
    const table = await run(["status", "--url", url]);
    expect(table.code, table.stderr).toBe(0);
    for (const s of [
      "HEALTHY",
      "Lines",
      "default",
      "ready",
      "Tenants",
      "Leases",
      "proxy",
      "Pacing",
      "messageRate",
    ]) {
      expect(table.stdout).toContain(s);
    }
    const json = await run(["status", "--url", url, "--json"]);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout) as { success: boolean; data: Record<string, unknown> };
    expect(body.success).toBe(true);
    expect(Object.keys(body.data).sort()).toEqual(["health", "leases", "pace", "pool", "url"]);
  });

  it("switchboard status exits 1 when no daemon answers", async () => {
    const r = await run(["status", "--url", "http://127.0.0.1:9"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no daemon answering");
  });

  it("stops on SIGINT with exit 0", async () => {
    expect(await daemon.stop("SIGINT")).toBe(0);
  });
});
