/**
 * `--upstream auto` in-process with the probed ports pointed at test ports: it keeps
 * searching (503, upstream "auto:searching") when nothing answers, skips a Switchboard mock
 * unless allowed, and settles on the mock with --allow-mock.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock.js";
import { loadConfig } from "../config/index.js";
import { silentLogger } from "../logger.js";
import { Daemon } from "./daemon.js";
import { type Proc, until, startMockGateway } from "./test-support/process.test-util.js";

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("auto upstream", () => {
  let dir: string;
  let mock: Proc;
  let daemon: Daemon | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sb-auto-"));
    mock = await startMockGateway();
  });
  afterEach(async () => {
    await daemon?.close();
    daemon = undefined;
  });
  afterAll(async () => {
    await mock?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (allowMock: boolean, ports: number[]) => {
    const config = loadConfig({
      flags: {
        upstream: "auto",
        httpPort: "0",
        proxyPort: "0",
        stateDir: dir,
        ...(allowMock ? { allowMock: true } : {}),
      },
    });
    daemon = new Daemon(config, {
      clock: systemClock,
      logger: silentLogger,
      random: () => 0.5,
      env: {},
      version: "test",
      pid: process.pid,
      autoPorts: ports,
    });
    const ready = await daemon.start();
    return (path: string) => fetch(ready.http + path);
  };

  it("keeps searching with 503 and upstream auto:searching, skipping a Switchboard mock", async () => {
    const get = await start(false, [await closedPort(), Number(mock.ready.port)]);
    // Two searches over both ports, so the mock has been seen and skipped at least once.
    await until(
      async () => ((daemon?.lines()[0]?.attempts ?? 0) >= 2 ? true : undefined),
      "two auto searches",
      400,
    );
    const r = await get("/health");
    expect(r.status).toBe(503);
    const body = (await r.json()) as { error: { code: string }; data: { upstream: string; status: string } };
    expect(body.error.code).toBe("unhealthy");
    expect(body.data).toMatchObject({ upstream: "auto:searching", status: "down" });
  });

  it("uses the mock when --allow-mock is given", async () => {
    const get = await start(true, [await closedPort(), Number(mock.ready.port)]);
    const h = await until(async () => {
      const r = await get("/health");
      return r.status === 200 ? ((await r.json()) as { data: { upstream: string } }) : undefined;
    }, "/health 200");
    expect(h.data.upstream).toBe(`auto:127.0.0.1:${mock.ready.port}`);
  });
});
