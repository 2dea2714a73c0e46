/** The CLI as a process: READY on stdout, serves, exits 0 on SIGINT; bad flags exit 2. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { RawClient } from "../../mock/raw-client.test-util.js";
import { REQ_CURRENT_TIME } from "../../protocol/messages/connection.js";

const BIN = fileURLToPath(new URL("../../../bin/switchboard.js", import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ready = new Promise<Record<string, number>>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("READY "));
      if (line) resolve(JSON.parse(line.slice(6)));
    });
    child.on("exit", () => reject(new Error(`exited before READY: ${out}`)));
  });
  return { child, exit, ready };
}

describe("switchboard mock-gateway", () => {
  it("prints READY, serves the API and stops with exit 0 on SIGINT", async () => {
    const p = run(["mock-gateway", "--port", "0", "--control-port", "0", "--accounts", "DU111,DU222"]);
    const info = await p.ready;
    expect(info.serverVersion).toBe(178);
    const c = await RawClient.connect(info.port as number);
    expect(c.messages.find((f) => f[0] === "15")?.[2]).toBe("DU111,DU222");
    c.send(REQ_CURRENT_TIME, {});
    await c.waitFor((f) => f[0] === "49");
    const state = (await (await fetch(`http://127.0.0.1:${info.controlPort}/state`)).json()) as {
      success: boolean;
    };
    expect(state.success).toBe(true);
    await c.close();
    p.child.kill("SIGINT");
    expect(await p.exit).toBe(0);
  });

  it("--now sets the calendar: current time and /state say so", async () => {
    const p = run(["mock-gateway", "--port", "0", "--control-port", "0", "--now", "2026-12-06T15:00:00Z"]);
    const info = await p.ready;
    const c = await RawClient.connect(info.port as number);
    c.send(REQ_CURRENT_TIME, {});
    const t = Number((await c.waitFor((f) => f[0] === "49"))[2]);
    expect(t).toBeGreaterThanOrEqual(Date.parse("2026-12-06T15:00:00Z") / 1000);
    expect(t).toBeLessThan(Date.parse("2026-12-06T15:01:00Z") / 1000);
    const state = (await (await fetch(`http://127.0.0.1:${info.controlPort}/state`)).json()) as {
      data: { now: string };
    };
    expect(state.data.now.slice(0, 15)).toBe("2026-12-06T15:0");
    await c.close();
    p.child.kill("SIGINT");
    expect(await p.exit).toBe(0);
  });

  it("exits 2 for a --now without a zone, naming the flag", async () => {
    const p = run(["mock-gateway", "--port", "0", "--control-port", "0", "--now", "2026-12-06 15:00"]);
    p.ready.catch(() => {});
    let err = "";
    p.child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    expect(await p.exit).toBe(2);
    expect(err).toContain("--now");
  });

  it("exits 2 for a server version outside 157..178", async () => {
    const p = run(["mock-gateway", "--port", "0", "--control-port", "0", "--server-version", "150"]);
    p.ready.catch(() => {});
    expect(await p.exit).toBe(2);
  });
});
