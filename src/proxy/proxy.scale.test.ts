/**
 * More clients than TWS allows: 40 downstreams with ids 1..40 through the proxy, every one
 * served, while the mock (32 clients at most, as TWS) sees only the line's one connection.
 */
import { type Contract, EventName, IBApi, SecType } from "@stoqey/ib";
import { afterAll, describe, expect, it } from "vitest";
import { type ProxyStack, startProxyStack } from "./test-stack.test-util.js";

const AAPL: Contract = { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" };
const N = 40;

let s: ProxyStack | undefined;
const apis: IBApi[] = [];
afterAll(async () => {
  for (const api of apis) api.disconnect();
  await s?.close();
});

function serve(api: IBApi, clientId: number): Promise<{ conId: number; ticked: boolean }> {
  return new Promise((resolve, reject) => {
    let conId = 0;
    let ticked = false;
    let ended = false;
    const done = () => ended && ticked && resolve({ conId, ticked });
    api.on(EventName.error, (err: Error, code: number) => {
      if (code === 505 || code === 326) reject(new Error(`client ${clientId}: ${code} ${err.message}`));
    });
    api.on(EventName.contractDetails, (_id, d) => {
      conId = d.contract.conId ?? 0;
    });
    api.once(EventName.contractDetailsEnd, () => {
      ended = true;
      done();
    });
    api.on(EventName.tickPrice, (id: number) => {
      if (id !== 1 || ticked) return;
      ticked = true;
      done();
    });
    api.once(EventName.nextValidId, () => {
      // Every client uses the same request ids: the switch keeps them apart.
      api.reqContractDetails(1, AAPL);
      api.reqMktData(1, AAPL, "", false, false);
    });
    api.connect(clientId);
  });
}

describe("proxy fan-in", () => {
  it(`serves ${N} downstreams (ids 1..${N}) over one upstream connection`, async () => {
    s = await startProxyStack({ mock: { maxClients: 32, tickIntervalMs: 50 } });
    const stack = s;
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const api = new IBApi({ host: "127.0.0.1", port: stack.port });
        apis.push(api);
        return serve(api, i + 1);
      }),
    );
    expect(results.every((r) => r.conId === 265598 && r.ticked)).toBe(true);
    const snap = stack.proxy.snapshot();
    expect(snap.downstreams.map((d) => d.clientId).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: N }, (_, i) => i + 1),
    );
    expect(snap.downstreams.every((d) => d.state === "open" && d.subscriptions === 1)).toBe(true);
    const mock = stack.mock.snapshot();
    expect(mock.clients.map((c) => c.clientId)).toEqual([1]);
    // The same stream for everyone: one upstream request serves all 40 (fan-out).
    expect(mock.subscriptionList).toHaveLength(1);
  });
});
