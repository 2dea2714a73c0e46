import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fromFields } from "../protocol/codec.js";
import { CURRENT_TIME, REQ_CURRENT_TIME, START_API } from "../protocol/messages/connection.js";
import { contract } from "../protocol/messages/contract.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { MockGateway } from "./gateway.js";
import type { MockGatewayOptions } from "./options.js";
import { RawClient, waitUntil } from "./raw-client.test-util.js";
import { TEST_NOW } from "./test-now.test-util.js";
import { frozenClock } from "./wall-clock.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function mock(options: MockGatewayOptions = {}) {
  const gw = new MockGateway({ port: 0, controlPort: 0, now: TEST_NOW, ...options });
  open.push(gw);
  const info = await gw.start();
  return { gw, ...info };
}

async function client(port: number, options: Parameters<typeof RawClient.connect>[1] = {}) {
  const c = await RawClient.connect(port, options);
  open.push(c);
  return c;
}

async function control(port: number, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as { success: boolean; data: Record<string, unknown> };
}

function refusedOrClosed(port: number): Promise<"refused" | "open"> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.on("connect", () => {
      s.destroy();
      resolve("open");
    });
    s.on("error", () => resolve("refused"));
  });
}

describe("handshake and start", () => {
  it("negotiates the highest common version and sends the start-up burst", async () => {
    const { port } = await mock();
    const c = await client(port, { min: 100, max: 193 });
    expect(c.serverVersion).toBe(178);
    expect(c.connectionTime).toMatch(/^\d{8} \d\d:\d\d:\d\d UTC$/);
    await c.waitFor((f) => f[0] === "4" && f[3] === "2158");
    expect(c.messages.find((f) => f[0] === "15")).toEqual(["15", "1", "DU1234567"]);
    expect(c.messages.find((f) => f[0] === "9")).toEqual(["9", "1", "1"]);
    expect(c.errors(2104)[0]?.slice(0, 4)).toEqual(["4", "2", "-1", "2104"]);
    expect(c.errors(2106)).toHaveLength(1);
    expect(c.errors(2104)[0]).toHaveLength(6);
  });

  it("caps at --server-version and refuses a range it cannot serve", async () => {
    const { port } = await mock({ serverVersion: 170 });
    const c = await client(port, { min: 157, max: 178 });
    expect(c.serverVersion).toBe(170);
    const tooNew = await RawClient.open(port);
    open.push(tooNew);
    await expect(tooNew.hello(179, 190)).rejects.toThrow();
    const tooOld = await RawClient.open(port);
    open.push(tooOld);
    await expect(tooOld.hello(100, 150)).rejects.toThrow();
  });

  it("answers current time from its calendar (--now), which then runs", async () => {
    const { port } = await mock();
    const c = await client(port);
    c.send(REQ_CURRENT_TIME, {});
    const f = await c.waitFor((m) => m[0] === "49");
    const { time } = fromFields(CURRENT_TIME, f, 178);
    const pinned = Date.parse(TEST_NOW) / 1000;
    expect(time).toBeGreaterThanOrEqual(pinned);
    expect(time).toBeLessThan(pinned + 60);
    const frozen = await mock({ wallClock: frozenClock("2026-12-06T15:00:00Z") });
    const d = await client(frozen.port);
    d.send(REQ_CURRENT_TIME, {});
    const g = await d.waitFor((m) => m[0] === "49");
    expect(fromFields(CURRENT_TIME, g, 178).time).toBe(Date.parse("2026-12-06T15:00:00Z") / 1000);
  });

  it("answers a duplicate client id with 326 and closes only the newcomer", async () => {
    const { port } = await mock();
    const first = await client(port, { clientId: 7 });
    const second = await client(port, { clientId: 7, waitReady: false });
    const err = await second.waitFor((f) => f[0] === "4");
    expect(err.slice(0, 4)).toEqual(["4", "2", "-1", "326"]);
    await second.closed;
    first.send(REQ_CURRENT_TIME, {});
    await first.waitFor((f) => f[0] === "49");
    expect(first.isClosed).toBe(false);
  });

  it("keeps a departed client's id for --id-hold-ms", async () => {
    const { port } = await mock({ idHoldMs: 60_000 });
    const first = await client(port, { clientId: 3 });
    await first.close();
    const again = await client(port, { clientId: 3, waitReady: false });
    await again.waitFor((f) => f[0] === "4" && f[3] === "326");
    await again.closed;
  });

  it("refuses clients over --max-clients and keeps the others", async () => {
    const { port, gw } = await mock({ maxClients: 2 });
    const a = await client(port, { clientId: 1 });
    await client(port, { clientId: 2 });
    const third = await RawClient.open(port);
    open.push(third);
    await third.closed;
    expect(gw.counters.refused).toBe(1);
    a.send(REQ_CURRENT_TIME, {});
    await a.waitFor((f) => f[0] === "49");
  });
});

describe("bad input", () => {
  it("closes a socket that sends garbage, and serves the others", async () => {
    const { port } = await mock();
    const good = await client(port);
    const bad = await RawClient.open(port);
    open.push(bad);
    bad.socket.write(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
    await bad.closed;
    good.send(REQ_CURRENT_TIME, {});
    await good.waitFor((f) => f[0] === "49");
  });

  it("closes a socket that announces a frame over the limit", async () => {
    const { port } = await mock({ maxFrameBytes: 1024 });
    const good = await client(port, { clientId: 1 });
    const bad = await client(port, { clientId: 2 });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(4096);
    bad.socket.write(header);
    await bad.closed;
    good.send(REQ_CURRENT_TIME, {});
    await good.waitFor((f) => f[0] === "49");
  });

  it("answers an unknown message id with 321 and keeps the client", async () => {
    const { port } = await mock();
    const c = await client(port);
    c.sendFields(["999", "1", "2"]);
    const err = await c.waitFor((f) => f[0] === "4" && f[3] === "321");
    expect(err[2]).toBe("-1");
    c.send(REQ_CURRENT_TIME, {});
    await c.waitFor((f) => f[0] === "49");
  });
});

describe("faults", () => {
  it("drop closes client sockets (all, or one client id)", async () => {
    const { port, controlPort } = await mock();
    const a = await client(port, { clientId: 1 });
    const b = await client(port, { clientId: 2 });
    const res = await control(controlPort as number, "/faults/drop", { clientId: 2 });
    expect(res).toEqual({ success: true, data: { dropped: 1 } });
    await b.closed;
    expect(a.isClosed).toBe(false);
    await control(controlPort as number, "/faults/drop", {});
    await a.closed;
  });

  it("down refuses connections for ms, then accepts again on the same port", async () => {
    const { port, controlPort, gw } = await mock();
    const a = await client(port);
    await control(controlPort as number, "/faults/down", { ms: 300 });
    await a.closed;
    expect(await refusedOrClosed(port)).toBe("refused");
    await waitUntil(() => gw.state === "listening");
    const b = await client(port);
    b.send(REQ_CURRENT_TIME, {});
    await b.waitFor((f) => f[0] === "49");
  });

  it("stall is a frozen TWS: sockets stay open, nothing is answered, what was read is answered after", async () => {
    const { port, controlPort, gw } = await mock();
    const a = await client(port);
    await control(controlPort as number, "/faults/stall", { ms: 60_000 });
    a.send(REQ_CURRENT_TIME, {});
    const late = await RawClient.open(port);
    open.push(late);
    const hello = late.hello(157, 178).then(() => "hello");
    await waitUntil(() => gw.counters.stalledHandshakes === 1);
    const during = await Promise.race([hello, new Promise((r) => setTimeout(() => r("silent"), 200))]);
    expect(during).toBe("silent");
    expect(a.messages.filter((f) => f[0] === "49")).toHaveLength(0);
    await control(controlPort as number, "/faults/clear", {});
    // The request read during the stall is answered now, once; the handshake completes.
    await a.waitFor((f) => f[0] === "49");
    expect(await hello).toBe("hello");
    late.send(START_API, { clientId: 9, optionalCapabilities: "" });
    await late.waitFor((f) => f[0] === "9");
    a.send(REQ_CURRENT_TIME, {});
    await waitUntil(() => a.messages.filter((f) => f[0] === "49").length === 2);
    expect(gw.counters.stalledRequests).toBe(1);
    expect(a.isClosed).toBe(false);
  });

  it("a stall that ends by itself applies what a departed socket sent, and frees its id only then", async () => {
    const { port, controlPort, gw } = await mock();
    const a = await client(port, { clientId: 5 });
    await control(controlPort as number, "/faults/stall", { ms: 500 });
    a.send(
      PLACE_ORDER,
      placeOrder({
        orderId: 1,
        contract: contract({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" }),
        action: "BUY",
        totalQuantity: "1",
        orderType: "LMT",
        lmtPrice: 1,
        orderRef: "stall-1",
      }),
    );
    await waitUntil(() => gw.counters.stalledReads >= 1);
    await a.close();
    // TWS read the order before the socket went: the id stays taken and nothing is placed yet.
    await new Promise((r) => setTimeout(r, 50));
    expect(gw.snapshot().clients.map((c) => c.clientId)).toEqual([5]);
    expect(gw.snapshot().orders).toEqual([]);
    await waitUntil(() => gw.snapshot().orders.length === 1);
    expect(gw.snapshot().orders[0]).toMatchObject({
      clientId: 5,
      orderId: 1,
      orderRef: "stall-1",
      placeCount: 1,
    });
    expect(gw.snapshot().clients).toEqual([]);
    expect(gw.counters.stalledRequests).toBe(1);
  });

  it("error injects notices; 1100/1101/1102/2110 arrive under id -1", async () => {
    const { port, controlPort } = await mock();
    const c = await client(port);
    for (const code of [1100, 2110, 1101, 1102]) {
      const res = await control(controlPort as number, "/faults/error", { code });
      expect(res.data).toEqual({ sent: 1 });
      const f = await c.waitFor((m) => m[0] === "4" && m[3] === String(code));
      expect(f[2]).toBe("-1");
    }
    await control(controlPort as number, "/faults/error", { code: 2104, message: "custom", clientId: 99 });
    expect(c.errors(2104)).toHaveLength(1);
  });

  it("latency delays answers and clear removes it", async () => {
    const { port, controlPort } = await mock();
    const c = await client(port);
    await control(controlPort as number, "/faults/latency", { ms: 150 });
    const t0 = Date.now();
    c.send(REQ_CURRENT_TIME, {});
    await c.waitFor((f) => f[0] === "49");
    const res = await control(controlPort as number, "/state");
    expect((res.data.faults as { latencyMs: number }).latencyMs).toBe(150);
    // Not a timing assertion on speed: only that the answer was held at least the latency.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    await control(controlPort as number, "/faults/clear", {});
    expect(
      ((await control(controlPort as number, "/state")).data.faults as { latencyMs: number }).latencyMs,
    ).toBe(0);
  });

  it("restart sends 1100 and 2103, drops, is down, then comes back", async () => {
    const { port, controlPort, gw } = await mock();
    const c = await client(port);
    await control(controlPort as number, "/faults/restart", { ms: 200 });
    await c.closed;
    expect(c.errors(1100)).toHaveLength(1);
    expect(c.errors(2103)).toHaveLength(1);
    await waitUntil(() => gw.state === "listening");
    await client(port);
  });

  it("/state lists clients and counters; bad bodies get 400", async () => {
    const { port, controlPort } = await mock();
    const c = await client(port, { clientId: 5 });
    c.send(REQ_CURRENT_TIME, {});
    await c.waitFor((f) => f[0] === "49");
    const res = await control(controlPort as number, "/state");
    expect(res.success).toBe(true);
    const clients = res.data.clients as { clientId: number; requests: number }[];
    expect(clients).toHaveLength(1);
    expect(clients[0]?.clientId).toBe(5);
    expect(clients[0]?.requests).toBe(1);
    expect(res.data.counters).toMatchObject({ requests: 1, pacingViolations: 0, dropped: 0 });
    expect(res.data.subscriptions).toBe(0);
    expect(res.data.orders).toEqual([]);
    const bad = await control(controlPort as number, "/faults/down", { ms: "soon" });
    expect(bad.success).toBe(false);
  });
});
