/**
 * The daemon serves the proxy: READY carries its port, a downstream connects through it to
 * the built-in mock, shows up as a `proxy` tenant in /api/ib/pool/status, and its open and
 * close land in the event log. --strict-client-ids reaches the proxy.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../clock.js";
import { loadConfig } from "../config/index.js";
import { silentLogger } from "../logger.js";
import { RawClient } from "../mock/raw-client.test-util.js";
import { until } from "../proxy/test-stack.test-util.js";
import { Daemon, type ReadyInfo } from "./daemon.js";

let dir: string;
let daemon: Daemon | undefined;
const clients: RawClient[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-proxy-"));
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await daemon?.close();
  daemon = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(flags: Record<string, unknown> = {}): Promise<{ d: Daemon; ready: ReadyInfo }> {
  const config = loadConfig({
    flags: { httpPort: "0", proxyPort: "0", mockPort: "0", stateDir: dir, ...flags },
  });
  const d = new Daemon(config, {
    clock: systemClock,
    logger: silentLogger,
    random: () => 0.5,
    env: {},
    version: "test",
    pid: process.pid,
  });
  daemon = d;
  return { d, ready: await d.start() };
}

async function connect(port: number, clientId: number, waitReady = true): Promise<RawClient> {
  const c = await RawClient.connect(port, { clientId, waitReady });
  clients.push(c);
  return c;
}

describe("daemon with the proxy", () => {
  it("puts the proxy port in READY and lists downstreams as proxy tenants", async () => {
    const { d, ready } = await start();
    expect(typeof ready.proxyPort).toBe("number");
    expect(d.info().proxyPort).toBe(ready.proxyPort);
    const c = await connect(ready.proxyPort as number, 31);
    c.sendFields(["49", "1"]);
    await c.waitFor((f) => f[0] === "49");
    const res = await fetch(`${ready.http}/api/ib/pool/status`);
    const body = (await res.json()) as { data: { tenants: { kind: string; clientId: number }[] } };
    expect(body.data.tenants).toEqual(
      expect.arrayContaining([expect.objectContaining({ kind: "proxy", clientId: 31 })]),
    );
    await c.close();
    await until(() => d.events.counts()["downstream.close"] === 1, "downstream.close in the event log");
    expect(d.events.counts()["downstream.open"]).toBe(1);
    expect(d.tenants().some((t) => t.kind === "proxy")).toBe(false);
  });

  it("shows a second open socket of a client id as a shared order owner; only the newest has order rights", async () => {
    const { ready } = await start();
    const port = ready.proxyPort as number;
    const old = await connect(port, 41);
    const fresh = await connect(port, 41);
    const alone = await connect(port, 42);
    for (const c of [old, fresh, alone]) {
      c.sendFields(["49", "1"]);
      await c.waitFor((f) => f[0] === "49");
    }
    const res = await fetch(`${ready.http}/api/ib/pool/status`);
    type T = {
      kind: string;
      clientId: number;
      openedAt: string;
      orderOwner: string;
      sharedOwner: boolean;
      orderRights: boolean;
    };
    const body = (await res.json()) as { data: { tenants: T[] } };
    const of = (id: number) => body.data.tenants.filter((t) => t.kind === "proxy" && t.clientId === id);
    expect(of(41).map((t) => [t.orderOwner, t.sharedOwner, t.orderRights])).toEqual([
      ["proxy:41", true, false],
      ["proxy:41", true, true],
    ]);
    expect(of(42).map((t) => [t.sharedOwner, t.orderRights])).toEqual([[false, true]]);
  });

  it("passes --strict-client-ids to the proxy", async () => {
    const { ready } = await start({ strictClientIds: true });
    const port = ready.proxyPort as number;
    await connect(port, 5);
    const second = await connect(port, 5, false);
    await second.waitFor((f) => f[0] === "4" && f[3] === "326");
    await second.closed;
  });
});
