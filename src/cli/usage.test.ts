/**
 * The command line as a new user meets it: every usage error exits 2 (also inside `start`),
 * a busy port names the port, the flag / key / env var that sets it and the process holding
 * it, logs follow `--log-format`, and `status --json` answers on stdout even with no daemon.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, startProcess } from "../daemon/test-support/process.test-util.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-usage-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("every usage error exits 2", () => {
  const cases: [string, string[], string][] = [
    ["start with a misspelt flag", ["start", "--htp-port", "5000"], "--htp-port"],
    ["start with a stray argument", ["start", "now"], "too many arguments"],
    ["mock-gateway with a misspelt flag", ["mock-gateway", "--prot", "1"], "--prot"],
    ["ids lease without a purpose", ["ids", "lease"], "purpose"],
    ["doctor with an unknown flag", ["doctor", "--bogus"], "--bogus"],
    ["status with an unknown flag", ["status", "--bogus"], "--bogus"],
    ["an unknown command", ["nonsense"], "nonsense"],
    ["no command at all", [], "Usage: switchboard"],
    ["a bad --log-format", ["start", "--log-format", "xml", "--state-dir", "STATE"], "logFormat"],
  ];
  for (const [name, args, says] of cases) {
    it(name, async () => {
      const r = await run(args.map((a) => (a === "STATE" ? dir : a)));
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(says);
      expect(r.stdout).not.toContain("READY");
    });
  }
});

describe("a busy port names the port, the flag, the key and the holder", () => {
  let holder: Server;
  let port: number;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    port = (holder.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => holder.close(resolve));
  });

  for (const [flag, key, env] of [
    ["--http-port", "httpPort", "SWITCHBOARD_HTTP_PORT"],
    ["--proxy-port", "proxyPort", "SWITCHBOARD_PROXY_PORT"],
  ] as const) {
    it(flag, async () => {
      const ports = { "--http-port": "0", "--proxy-port": "0", [flag]: String(port) };
      const r = await run([
        "start",
        ...Object.entries(ports).flat(),
        "--state-dir",
        dir,
        "--log-level",
        "error",
      ]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).not.toContain("READY");
      for (const s of [`port ${port}`, flag, key, env, `pid ${process.pid}`]) expect(r.stderr).toContain(s);
    });
  }
});

describe("--log-format", () => {
  it("json gives one JSON object per line, pretty gives readable lines", async () => {
    const args = ["start", "--http-port", "0", "--proxy-port", "0", "--state-dir", dir];
    const json = await startProcess([...args, "--log-format", "json"]);
    const jsonErr = json.stderr();
    expect(await json.stop()).toBe(0);
    const lines = jsonErr.split("\n").filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();

    const pretty = await startProcess([...args, "--log-format", "pretty"]);
    const prettyErr = pretty.stderr();
    expect(await pretty.stop()).toBe(0);
    expect(prettyErr).toMatch(/\bWARN\b.*BUILT-IN MOCK/);
    expect(prettyErr.split("\n").some((l) => l.startsWith('{"level"'))).toBe(false);
  });
});

describe("status --json with no daemon", () => {
  it("prints the failure as JSON on stdout and exits 1", async () => {
    const r = await run(["status", "--url", "http://127.0.0.1:9", "--json"]);
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout) as { success: boolean; error: { code: string; message: string } };
    expect(body.success).toBe(false);
    expect(body.error.code).toBe("unreachable");
    expect(body.error.message).toContain("no daemon answering");
  });
});

describe("start --upstream at a standalone mock gateway", () => {
  it("warns that the upstream is a mock", async () => {
    const mock = await startProcess(["mock-gateway", "--port", "0", "--control-port", "0"]);
    try {
      const daemon = await startProcess([
        "start",
        "--upstream",
        `127.0.0.1:${String(mock.ready.port)}`,
        "--http-port",
        "0",
        "--proxy-port",
        "0",
        "--state-dir",
        dir,
        "--log-format",
        "json",
      ]);
      const err = daemon.stderr();
      expect(await daemon.stop()).toBe(0);
      expect(err).toContain("is a Switchboard MOCK gateway");
    } finally {
      await mock.stop();
    }
  });
});
