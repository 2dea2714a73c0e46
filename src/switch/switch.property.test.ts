/**
 * Property: random interleavings of tenants opening and closing, requests, subscriptions,
 * cancels, orders and line drops keep the switch's invariants:
 *  - no tenant ever sees an answer to another tenant's request;
 *  - no upstream subscription outlives the tenants that asked for it;
 *  - after a drop, every live subscription is back upstream exactly once;
 *  - no order reaches TWS twice.
 * The upstream is a small in-memory TWS model behind the switch's UpstreamPort.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventHub } from "../events.js";
import type { LineEvent, LineState } from "../line/line-events.js";
import { applyRulesOverride, DEFAULT_RULES } from "../pacing/rules.js";
import { Pacer } from "../pacing/scheduler.js";
import { toFields } from "../protocol/codec.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { contract } from "../protocol/messages/contract.js";
import { REQ_CONTRACT_DATA } from "../protocol/messages/contracts.js";
import { CANCEL_MKT_DATA, REQ_MKT_DATA } from "../protocol/messages/market-data.js";
import { PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import { Switch } from "./switch.js";
import type { Tenant } from "./tenant.js";
import type { UpstreamPort } from "./upstream.js";

const V = 178;

const UNSPREAD = applyRulesOverride(DEFAULT_RULES, {
  rules: { messageRate: { spreadMs: 0, holdUnheardMs: 0 } },
});

class FakeTws implements UpstreamPort {
  readonly name = "fake";
  state: LineState = "ready";
  generation = 1;
  serverVersion = V;
  accounts = ["DU1"];
  nextValidId = 1;
  clientId = 1;
  readonly subs = new Map<number, string>();
  readonly orders = new Map<number, number>();
  readonly #hub = new EventHub<LineEvent>();
  readonly #listeners = new Set<(msgId: number, fields: readonly string[], generation: number) => void>();

  send(fields: readonly string[]): void {
    const id = Number(fields[0]);
    if (id === OUT.REQ_MKT_DATA) this.subs.set(Number(fields[2]), fields[4] ?? "");
    else if (id === OUT.CANCEL_MKT_DATA) this.subs.delete(Number(fields[2]));
    else if (id === OUT.PLACE_ORDER)
      this.orders.set(Number(fields[1]), (this.orders.get(Number(fields[1])) ?? 0) + 1);
    else if (id === OUT.REQ_CONTRACT_DATA) {
      const reqId = fields[2] ?? "";
      const symbol = fields[4] ?? "";
      queueMicrotask(() => {
        this.#emit([String(IN.CONTRACT_DATA_END), "1", reqId, symbol]);
      });
    }
  }

  tick(): void {
    for (const [upId, symbol] of this.subs)
      this.#emit([String(IN.TICK_STRING), "6", String(upId), "45", symbol]);
  }

  drop(): void {
    const was = this.state;
    this.state = "reconnecting";
    this.subs.clear(); // TWS forgets everything of a closed socket
    this.#state(was, "reconnecting");
    this.generation++;
    this.state = "connecting";
    this.#state("reconnecting", "connecting");
    this.state = "handshaking";
    this.#state("connecting", "handshaking");
    this.nextValidId += 100;
    this.state = "ready";
    this.#state("handshaking", "ready");
    this.#hub.emit({
      type: "line.resubscribe",
      ts: 0,
      line: this.name,
      dataLost: true,
      cause: "reconnect",
      generation: this.generation,
    });
  }

  onMessage(listener: (msgId: number, fields: readonly string[], generation: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  on<T extends LineEvent["type"]>(type: T, fn: (event: Extract<LineEvent, { type: T }>) => void): () => void {
    return this.#hub.on(type, fn);
  }

  #state(from: LineState, to: LineState): void {
    this.#hub.emit({
      type: "line.state",
      ts: 0,
      line: this.name,
      from,
      to,
      reason: "test",
      generation: this.generation,
    });
  }

  #emit(fields: string[]): void {
    for (const l of this.#listeners) l(Number(fields[0]), fields, this.generation);
  }
}

type Op =
  | { op: "open" }
  | { op: "close"; t: number }
  | { op: "contract"; t: number }
  | { op: "subscribe"; t: number }
  | { op: "cancel"; t: number; pick: number }
  | { op: "order"; t: number }
  | { op: "drop" }
  | { op: "tick" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ op: "open" as const }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("close" as const), t: fc.nat(5) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("contract" as const), t: fc.nat(5) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("subscribe" as const), t: fc.nat(5) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("cancel" as const), t: fc.nat(5), pick: fc.nat(10) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant("order" as const), t: fc.nat(5) }), weight: 1 },
  { arbitrary: fc.constant({ op: "drop" as const }), weight: 1 },
  { arbitrary: fc.constant({ op: "tick" as const }), weight: 2 },
);

interface Model {
  tenant: Tenant;
  name: string;
  nextId: number;
  live: Set<number>;
  wrong: string[];
}

const flush = () => new Promise<void>((r) => setImmediate(r));
const aapl = contract({ secType: "STK", exchange: "SMART", currency: "USD" });

describe("switch invariants under random interleavings", () => {
  it("never misroutes, never leaks a subscription, never sends an order twice", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const tws = new FakeTws();
        // Switch logic under test, not pacing: no smoothing, so a flush sees every write.
        const pacer = new Pacer({ rules: UNSPREAD });
        const sw = new Switch(tws, pacer);
        const models: Model[] = [];
        const open = () => {
          const name = `t${models.length}`;
          const tenant = sw.openTenant({ kind: "proxy", name, clientId: models.length + 1 });
          const m: Model = { tenant, name, nextId: 1, live: new Set(), wrong: [] };
          tenant.onMessage((f) => {
            const id = Number(f[0]);
            if (id === IN.TICK_STRING && f[4] !== `${name}:${f[2]}`) m.wrong.push(f.join("|"));
            if (id === IN.CONTRACT_DATA_END && f[3] !== `${name}:${f[2]}`) m.wrong.push(f.join("|"));
          });
          models.push(m);
        };
        const pick = (t: number) => {
          const openOnes = models.filter((m) => m.tenant.state === "open");
          return openOnes.length === 0 ? undefined : openOnes[t % openOnes.length];
        };
        open();
        for (const o of ops) {
          const m = "t" in o ? pick(o.t) : undefined;
          switch (o.op) {
            case "open":
              open();
              break;
            case "close":
              if (m) await m.tenant.close();
              break;
            case "contract":
              if (m) {
                const reqId = m.nextId++;
                m.tenant.send(
                  toFields(
                    REQ_CONTRACT_DATA,
                    {
                      reqId,
                      contract: { ...aapl, symbol: `${m.name}:${reqId}` },
                      includeExpired: false,
                      secIdType: "",
                      secId: "",
                      issuerId: "",
                    },
                    V,
                  ),
                );
              }
              break;
            case "subscribe":
              if (m) {
                const tickerId = m.nextId++;
                m.live.add(tickerId);
                m.tenant.send(
                  toFields(
                    REQ_MKT_DATA,
                    {
                      tickerId,
                      contract: { ...aapl, symbol: `${m.name}:${tickerId}` },
                      comboLegs: [],
                      deltaNeutral: undefined,
                      genericTickList: "",
                      snapshot: false,
                      regulatorySnapshot: false,
                      mktDataOptions: "",
                    },
                    V,
                  ),
                );
              }
              break;
            case "cancel":
              if (m && m.live.size > 0) {
                const tickerId = [...m.live][o.pick % m.live.size] as number;
                m.live.delete(tickerId);
                m.tenant.send(toFields(CANCEL_MKT_DATA, { tickerId }, V));
              }
              break;
            case "order":
              if (m) {
                const orderId = m.nextId++;
                m.tenant.send(
                  toFields(
                    PLACE_ORDER,
                    placeOrder({
                      orderId,
                      contract: aapl,
                      action: "BUY",
                      totalQuantity: "1",
                      orderType: "MKT",
                    }),
                    V,
                  ),
                );
              }
              break;
            case "drop":
              tws.drop();
              break;
            case "tick":
              tws.tick();
              break;
          }
          await flush();
        }
        await flush();
        tws.tick();
        await flush();
        for (const m of models) expect(m.wrong).toEqual([]);
        const liveSubs = models.filter((m) => m.tenant.state === "open").reduce((n, m) => n + m.live.size, 0);
        expect(tws.subs.size).toBe(liveSubs);
        for (const [, count] of tws.orders) expect(count).toBe(1);
        await sw.close();
        await flush();
        expect(tws.subs.size).toBe(0);
        await pacer.close();
      }),
      { numRuns: 60 },
    );
  });
});
