/**
 * The proxy driven by an independent client: our own codec over a raw socket (the same
 * bytes any IB library writes). Handshake, isolation of ids between downstreams, client-id
 * policy, read-only, version refusal, allow-list and the handshake deadlines.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MockGateway } from "../mock/gateway.js";
import { RawClient } from "../mock/raw-client.test-util.js";
import { Pacer } from "../pacing/scheduler.js";
import { toFields } from "../protocol/codec.js";
import { IN } from "../protocol/message-ids.js";
import { CANCEL_MKT_DATA } from "../protocol/messages/market-data.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { Switch } from "../switch/switch.js";
import { ProxyServer } from "./proxy-server.js";
import {
  AAPL,
  contractReq,
  isErr,
  isTick,
  MSFT,
  makeLine,
  mktData,
  type ProxyStack,
  startProxyStack,
  until,
  V,
} from "./test-stack.test-util.js";
import { TEST_NOW } from "../mock/test-now.test-util.js";

const cleanup: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c.close();
});

async function stack(o: Parameters<typeof startProxyStack>[0] = {}): Promise<ProxyStack> {
  const s = await startProxyStack(o);
  cleanup.push(s);
  return s;
}

async function client(
  port: number,
  clientId: number,
  o: { min?: number; max?: number } = {},
): Promise<RawClient> {
  const c = await RawClient.connect(port, { clientId, ...o });
  cleanup.push(c);
  return c;
}

describe("proxy handshake and START_API", () => {
  it("serves the upstream's version and answers START_API itself, as TWS does", async () => {
    const s = await stack();
    const c = await client(s.port, 42);
    expect(c.serverVersion).toBe(s.line.serverVersion);
    await c.waitFor(isErr(2158));
    const kinds = c.messages.map((m) => (m[0] === "4" ? `4:${m[3]}` : m[0]));
    expect(kinds.slice(0, 5)).toEqual(["15", "9", "4:2104", "4:2106", "4:2158"]);
    expect(c.messages[0]?.[2]).toBe("DU1234567");
    const snap = s.proxy.snapshot();
    expect(snap.downstreams).toHaveLength(1);
    expect(snap.downstreams[0]).toMatchObject({ clientId: 42, state: "open", version: 178 });
    // The switch lists the downstream as a tenant with its virtual client id.
    expect(s.sw.snapshot().tenants.map((t) => [t.kind, t.clientId])).toEqual([["proxy", 42]]);
    // The mock sees only the line's own connection.
    expect(s.mock.snapshot().clients.map((x) => x.clientId)).toEqual([1]);
  });

  it("refuses a client whose version range excludes the upstream's, with a clear error", async () => {
    const s = await stack();
    const c = await RawClient.open(s.port);
    cleanup.push(c);
    await c.hello(100, 150);
    const err = await c.waitFor(isErr(506));
    expect(err[4]).toMatch(/serves TWS API version 178.*offers 100\.\.150/);
    await c.closed;
    expect(s.proxy.snapshot().counters.versionRefused).toBe(1);
  });

  it("keeps a new downstream in the handshake until the upstream has been ready once", async () => {
    const mock = new MockGateway({ port: 0, controlPort: null, now: TEST_NOW });
    await mock.start();
    cleanup.push(mock);
    const line = makeLine(mock.port);
    cleanup.push(line);
    const pacer = new Pacer();
    cleanup.push(pacer);
    const sw = new Switch(line, pacer);
    cleanup.push(sw);
    const proxy = new ProxyServer(sw, { port: 0 });
    cleanup.push(proxy);
    const { port } = await proxy.start();
    const c = await RawClient.open(port);
    cleanup.push(c);
    const hello = c.hello(157, 178);
    await until(() => proxy.snapshot().downstreams[0]?.state === "waiting", "a waiting downstream");
    line.start();
    await hello;
    expect(c.serverVersion).toBe(178);
  });

  it("closes a downstream whose upstream never comes, and one that never finishes its handshake", async () => {
    const mock = new MockGateway({ port: 0, controlPort: null, now: TEST_NOW });
    await mock.start();
    cleanup.push(mock);
    const line = makeLine(mock.port); // never started
    cleanup.push(line);
    const pacer = new Pacer();
    cleanup.push(pacer);
    const sw = new Switch(line, pacer);
    cleanup.push(sw);
    const proxy = new ProxyServer(sw, { port: 0, upstreamWaitMs: 100, handshakeTimeoutMs: 300 });
    cleanup.push(proxy);
    const { port } = await proxy.start();
    const waiting = await RawClient.open(port);
    cleanup.push(waiting);
    await expect(waiting.hello(157, 178)).rejects.toThrow(/closed before hello/);
    const silent = await RawClient.open(port);
    cleanup.push(silent);
    await silent.closed;
    expect(proxy.snapshot().counters).toMatchObject({ upstreamWaitTimeouts: 1, handshakeTimeouts: 1 });
  });
});

describe("proxy start-up traffic of real clients", () => {
  it("answers ib_async's connect() requests with every end message, for two clients at once", async () => {
    const s = await stack();
    const run = async (clientId: number) => {
      const c = await client(s.port, clientId);
      // docs/protocol.md: positions, open orders, completed orders, account updates,
      // account updates multi, executions; ib_async waits for each end.
      c.sendFields(["61", "1"]);
      c.sendFields(["5", "1"]);
      c.sendFields(["99", "0"]);
      c.sendFields(["6", "2", "1", "DU1234567"]);
      c.sendFields(["76", "1", "9001", "DU1234567", "", "0"]);
      c.sendFields(["7", "3", "9002", "0", "", "", "", "", "", ""]);
      for (const end of [IN.POSITION_END, IN.OPEN_ORDER_END, IN.COMPLETED_ORDERS_END, IN.ACCT_DOWNLOAD_END]) {
        await c.waitFor((f) => Number(f[0]) === end);
      }
      await c.waitFor((f) => Number(f[0]) === IN.ACCOUNT_UPDATE_MULTI_END && f[2] === "9001");
      await c.waitFor((f) => Number(f[0]) === IN.EXECUTION_DATA_END && f[2] === "9002");
      expect(c.errors().filter((e) => !["2104", "2106", "2158"].includes(e[3] ?? ""))).toEqual([]);
    };
    await Promise.all([run(0), run(1)]);
  });
});

describe("proxy routing between downstreams", () => {
  it("gives two downstreams using the same request ids only their own data", async () => {
    const s = await stack();
    const a = await client(s.port, 1);
    const b = await client(s.port, 2);
    a.sendFields(contractReq(1, AAPL));
    b.sendFields(contractReq(1, MSFT));
    a.sendFields(mktData(5, AAPL));
    b.sendFields(mktData(5, MSFT));
    const da = await a.waitFor((f) => Number(f[0]) === IN.CONTRACT_DATA && f[1] === "1");
    const db = await b.waitFor((f) => Number(f[0]) === IN.CONTRACT_DATA && f[1] === "1");
    expect(da[2]).toBe("AAPL");
    expect(db[2]).toBe("MSFT");
    await a.waitFor(isTick(5));
    await b.waitFor(isTick(5));
    // After a cancels its ticker 5, b's ticker 5 keeps streaming.
    a.sendFields(toFields(CANCEL_MKT_DATA, { tickerId: 5 }, V));
    await until(() => s.mock.snapshot().subscriptionList.length === 1, "one subscription left upstream");
    await b.next(isTick(5));
    expect(a.messages.some((m) => m[2] === "MSFT")).toBe(false);
    expect(b.messages.some((m) => m[2] === "AAPL")).toBe(false);
    // No upstream id (they count from 1e9) leaks into the id field of any answer.
    for (const m of [...a.messages, ...b.messages])
      expect([m[0], m[1], m[2]].some((f) => Number(f) >= 1_000_000_000)).toBe(false);
  });

  it("cancels a closed downstream's subscriptions upstream and leaves the others", async () => {
    const s = await stack();
    const a = await client(s.port, 1);
    const b = await client(s.port, 2);
    a.sendFields(mktData(1, AAPL));
    b.sendFields(mktData(1, MSFT));
    await a.waitFor(isTick(1));
    await b.waitFor(isTick(1));
    expect(s.proxy.snapshot().downstreams.map((d) => d.subscriptions)).toEqual([1, 1]);
    await a.close();
    await until(() => s.mock.snapshot().subscriptionList.length === 1, "a's subscription cancelled upstream");
    await b.next(isTick(1));
    const snap = s.proxy.snapshot();
    expect(snap.downstreams).toHaveLength(1);
    expect(snap.downstreams[0]?.messagesIn).toBeGreaterThan(0);
    expect(snap.downstreams[0]?.bytesOut).toBeGreaterThan(0);
  });

  it("allows duplicate virtual client ids by default", async () => {
    const s = await stack();
    const a = await client(s.port, 7);
    const b = await client(s.port, 7);
    a.sendFields(contractReq(1));
    b.sendFields(contractReq(1));
    await a.waitFor((f) => Number(f[0]) === IN.CONTRACT_DATA_END);
    await b.waitFor((f) => Number(f[0]) === IN.CONTRACT_DATA_END);
    expect(b.errors(326)).toEqual([]);
  });

  it("answers a duplicate client id with 326 and closes it when strict", async () => {
    const s = await stack({ proxy: { strictClientIds: true } });
    const a = await client(s.port, 7);
    const b = await RawClient.connect(s.port, { clientId: 7, waitReady: false });
    cleanup.push(b);
    const err = await b.waitFor(isErr(326));
    expect(err[2]).toBe("-1");
    await b.closed;
    a.sendFields(contractReq(1));
    await a.waitFor((f) => Number(f[0]) === IN.CONTRACT_DATA_END);
    // The id is free again once its holder leaves.
    await a.close();
    await until(() => s.proxy.snapshot().downstreams.length === 0, "a gone");
    await client(s.port, 7);
  });

  it("refuses PLACE_ORDER with 201 in read-only mode and places nothing", async () => {
    const s = await stack({ readOnly: true });
    const c = await client(s.port, 3);
    const order = placeOrder({
      orderId: 1,
      contract: AAPL,
      action: "BUY",
      totalQuantity: "1",
      orderType: "MKT",
    });
    c.sendFields(toFields(PLACE_ORDER, order, V));
    const err = await c.waitFor(isErr(201));
    expect(err[2]).toBe("1");
    expect(s.mock.snapshot().orders).toEqual([]);
  });
});

describe("proxy access", () => {
  it("refuses peers outside --allow and accepts those inside", async () => {
    const s = await stack({ proxy: { allow: ["10.0.0.0/8"] } });
    const c = await RawClient.open(s.port);
    cleanup.push(c);
    await c.closed;
    expect(s.proxy.snapshot().counters.refused).toBe(1);
    const ok = await stack({ proxy: { allow: ["::1", "127.0.0.0/8"] } });
    await client(ok.port, 1);
  });

  it("will not bind a non-loopback address without an allow-list", async () => {
    const s = await stack();
    expect(() => new ProxyServer(s.sw, { host: "0.0.0.0", port: 0 })).toThrow(/--allow/);
  });
});
