/** The examples run as users run them (tsx, package self-import) against the mock gateway. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockGateway } from "../src/mock/gateway.js";
import { TEST_NOW } from "../src/mock/test-now.test-util.js";

const run = promisify(execFile);
let mock: MockGateway;

beforeAll(async () => {
  mock = new MockGateway({ port: 0, controlPort: null, tickIntervalMs: 50, now: TEST_NOW });
  await mock.start();
});
afterAll(async () => {
  await mock.close();
});

const tsx = (file: string, args: string[] = []) =>
  run(process.execPath, ["--import", "tsx", file, ...args], {
    env: { ...process.env, IB_PORT: String(mock.port), QUOTES: "3" },
    timeout: 60_000,
  });

describe("examples", () => {
  it("quotes-stream prints quotes", async () => {
    const { stdout } = await tsx("examples/quotes-stream.ts", ["AAPL"]);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] ?? "{}").symbol).toBe("AAPL");
  });

  it("history-download prints CSV bars", async () => {
    const { stdout } = await tsx("examples/history-download.ts", ["SPY", "1 W", "1 hour"]);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toBe("time,open,high,low,close,volume");
    expect(lines.length).toBeGreaterThan(5);
  });

  it("pool-purposes runs every purpose over one line", async () => {
    const { stdout } = await tsx("examples/pool-purposes.ts");
    expect(stdout).toContain("worker: AAPL → conId");
    expect(stdout).toContain("check: TWS time");
    expect(stdout).toMatch(/line ready as client id 13/);
    expect(mock.snapshot().clients).toHaveLength(0);
  });
});
