/** Mock gateway + line + pacer + switch + proxy, all real, on 127.0.0.1 ephemeral ports. */
import { Line } from "../line/line.js";
import { MockGateway } from "../mock/gateway.js";
import type { MockGatewayOptions } from "../mock/options.js";
import { Pacer, type PacerOptions } from "../pacing/scheduler.js";
import type { SwitchOptions } from "../switch/options.js";
import { Switch } from "../switch/switch.js";
import type { ProxyOptions } from "./options.js";
import { ProxyServer } from "./proxy-server.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

export interface ProxyStack {
  mock: MockGateway;
  line: Line;
  pacer: Pacer;
  sw: Switch;
  proxy: ProxyServer;
  port: number;
  close(): Promise<void>;
}

export interface ProxyStackOptions {
  mock?: MockGatewayOptions;
  proxy?: ProxyOptions;
  readOnly?: boolean;
  /** Do not wait for the line to be ready before starting the proxy. */
  lineReady?: boolean;
  pacer?: PacerOptions;
  switch?: SwitchOptions;
}

export function makeLine(port: number): Line {
  return new Line({
    host: "127.0.0.1",
    port,
    clientId: 1,
    backoffInitialMs: 50,
    backoffMaxMs: 500,
    fastProbeIntervalMs: 100,
  });
}

export async function startProxyStack(o: ProxyStackOptions = {}): Promise<ProxyStack> {
  const mock = new MockGateway({ port: 0, controlPort: null, tickIntervalMs: 50, now: TEST_NOW, ...o.mock });
  await mock.start();
  const line = makeLine(mock.port);
  line.start();
  if (o.lineReady ?? true) await line.ready({ timeoutMs: 10_000 });
  const pacer = new Pacer(o.pacer);
  const sw = new Switch(line, pacer, { readOnly: o.readOnly ?? false, ...o.switch });
  const proxy = new ProxyServer(sw, { port: 0, pacer, ...o.proxy });
  const { port } = await proxy.start();
  return {
    mock,
    line,
    pacer,
    sw,
    proxy,
    port,
    async close() {
      await proxy.close();
      await sw.close();
      await line.close();
      await pacer.close();
      await mock.close();
    },
  };
}

/** Poll a condition with a bound (no timing is asserted; this only keeps tests finite). */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ── messages the tests send, at the version the proxy serves ───────────────────────────

export { AAPL, contractReq, isTick, MSFT, mktData, V } from "../switch/test-harness.test-util.js";
export const isErr = (code: number) => (f: string[]) => f[0] === "4" && f[3] === String(code);
