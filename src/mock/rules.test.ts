import { afterEach, describe, expect, it } from "vitest";
import { REQ_CURRENT_TIME } from "../protocol/messages/connection.js";
import { contract } from "../protocol/messages/contract.js";
import { REQ_HISTORICAL_DATA, type ReqHistoricalData } from "../protocol/messages/history.js";
import { MockGateway } from "./gateway.js";
import type { MockGatewayOptions } from "./options.js";
import { RawClient } from "./raw-client.test-util.js";
import { TEST_NOW } from "./test-now.test-util.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function setup(options: MockGatewayOptions = {}) {
  const gw = new MockGateway({ port: 0, controlPort: null, now: TEST_NOW, ...options });
  open.push(gw);
  const { port } = await gw.start();
  const c = await RawClient.connect(port);
  open.push(c);
  return { gw, c, port };
}

const hist = (reqId: number, p: Partial<ReqHistoricalData> = {}): ReqHistoricalData => ({
  reqId,
  contract: contract({ symbol: "MSFT", secType: "STK", exchange: "SMART", currency: "USD" }),
  includeExpired: false,
  endDateTime: "",
  barSize: "5 secs",
  duration: "60 S",
  useRTH: false,
  whatToShow: "TRADES",
  formatDate: 1,
  comboLegs: [],
  keepUpToDate: false,
  chartOptions: "",
  ...p,
});

describe("message rate (50/s)", () => {
  it("answers error 100 past 50 messages and disconnects after --max-rate-violations", async () => {
    const { c, gw, port } = await setup({ maxRateViolations: 3 });
    const other = await RawClient.connect(port, { clientId: 2 });
    open.push(other);
    for (let i = 0; i < 53; i++) c.send(REQ_CURRENT_TIME, {});
    await c.closed;
    expect(c.errors(100)).toHaveLength(3);
    expect(c.messages.filter((f) => f[0] === "49")).toHaveLength(50);
    expect(gw.counters.pacingViolations).toBe(3);
    other.send(REQ_CURRENT_TIME, {});
    await other.waitFor((f) => f[0] === "49");
  });

  it("keeps a client that violates fewer times than the limit", async () => {
    const { c } = await setup({ maxRateViolations: 3 });
    for (let i = 0; i < 52; i++) c.send(REQ_CURRENT_TIME, {});
    await c.waitFor((f) => f[0] === "4" && f[3] === "100" && c.errors(100).length === 2);
    expect(c.isClosed).toBe(false);
  });
});

describe("historical pacing (162)", () => {
  it("answers an identical request within 15 s with a pacing violation", async () => {
    const { c } = await setup();
    c.send(REQ_HISTORICAL_DATA, hist(1));
    await c.waitFor((f) => f[0] === "17" && f[1] === "1");
    c.send(REQ_HISTORICAL_DATA, hist(2));
    const e = await c.waitFor((f) => f[0] === "4" && f[2] === "2");
    expect(e[3]).toBe("162");
    expect(e[4]).toContain("pacing violation");
  });

  it("answers the 6th request per contract/exchange/type within 2 s; BID_ASK counts 2", async () => {
    const { c } = await setup();
    for (let i = 1; i <= 6; i++) c.send(REQ_HISTORICAL_DATA, hist(10 + i, { duration: `${60 + i} S` }));
    const e = await c.waitFor((f) => f[0] === "4" && f[2] === "16");
    expect(e[3]).toBe("162");
    expect(c.messages.filter((f) => f[0] === "17")).toHaveLength(5);
    const fresh = await setup();
    for (let i = 1; i <= 3; i++)
      fresh.c.send(REQ_HISTORICAL_DATA, hist(20 + i, { duration: `${60 + i} S`, whatToShow: "BID_ASK" }));
    const e2 = await fresh.c.waitFor((f) => f[0] === "4" && f[2] === "23");
    expect(e2[3]).toBe("162");
  });

  it("shrinks the windows with --time-scale", async () => {
    const { c } = await setup({ timeScale: 50 });
    c.send(REQ_HISTORICAL_DATA, hist(1));
    await c.waitFor((f) => f[0] === "17" && f[1] === "1");
    // 15 s / 50 = 300 ms: after it, the identical request is fine again.
    await new Promise((r) => setTimeout(r, 350));
    c.send(REQ_HISTORICAL_DATA, hist(2));
    await c.waitFor((f) => (f[0] === "17" && f[1] === "2") || (f[0] === "4" && f[2] === "2"));
    expect(c.messages.some((f) => f[0] === "17" && f[1] === "2")).toBe(true);
  });
});
