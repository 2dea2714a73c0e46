/**
 * Property: random subscribe / cancel / one-shot / drop / up / 1101 / tenant-close / time
 * sequences keep the switch's invariants (core.ts, docs/switch.md):
 *  - after every step with the line up, the market-data lines the pacer holds equal the live
 *    upstream market-data requests, and every upstream request belongs to a live request of
 *    an open tenant;
 *  - in the end, every request of an open tenant has an outcome: its stream ticks, its
 *    answer came, it was cancelled by the tenant, or it got an error under its own id — and a
 *    request that got an error is not live upstream; with the line gone for good, everything
 *    but the streams TWS had (kept in the book for the line's return) hears 504 in time.
 * Only 5 market-data lines exist, so requests wait for lines, replays compete with requests
 * held during the outage, and deadlines fire (the clock is manual). The upstream is a small
 * TWS model behind the switch's UpstreamPort.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { EventHub } from "../events.js";
import type { LineEvent, LineState } from "../line/line-events.js";
import { resolveRules } from "../pacing/rules.js";
import { Pacer } from "../pacing/scheduler.js";
import { toFields } from "../protocol/codec.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { contract } from "../protocol/messages/contract.js";
import { REQ_CONTRACT_DATA } from "../protocol/messages/contracts.js";
import { CANCEL_MKT_DATA, REQ_MKT_DATA } from "../protocol/messages/market-data.js";
import { Switch } from "./switch.js";
import type { Tenant } from "./tenant.js";
import type { UpstreamPort } from "./upstream.js";

const V = 178;
const LINES = 5;
const QUEUE_TIMEOUT_MS = 5_000;

class Tws implements UpstreamPort {
  readonly name = "model";
  state: LineState = "ready";
  generation = 1;
  serverVersion = V;
  accounts = ["DU1"];
  nextValidId = 1;
  clientId = 1;
  /** Live market-data requests: upstream id → tag (tenant:ticker). */
  readonly subs = new Map<number, string>();
  /** Every stream TWS ever had. */
  readonly everLive = new Set<string>();
  /** Contract questions written on the current socket, answered on `answer`. */
  readonly questions: [string, string][] = [];
  readonly #hub = new EventHub<LineEvent>();
  readonly #listeners = new Set<(msgId: number, fields: readonly string[], generation: number) => void>();

  send(fields: readonly string[]): void {
    if (this.state !== "ready") throw new Error("written while the line is down");
    const id = Number(fields[0]);
    if (id === OUT.REQ_MKT_DATA) {
      const upId = Number(fields[2]);
      if (this.subs.has(upId)) throw new Error(`upstream id ${upId} reused`);
      this.subs.set(upId, fields[4] ?? "");
      this.everLive.add(fields[4] ?? "");
    } else if (id === OUT.CANCEL_MKT_DATA) this.subs.delete(Number(fields[2]));
    else if (id === OUT.REQ_CONTRACT_DATA) this.questions.push([fields[2] ?? "", fields[4] ?? ""]);
  }

  tick(): void {
    for (const [upId, tag] of this.subs) this.emit([String(IN.TICK_STRING), "6", String(upId), "45", tag]);
  }

  answer(): void {
    for (const [reqId, tag] of this.questions.splice(0))
      this.emit([String(IN.CONTRACT_DATA_END), "1", reqId, tag]);
  }

  down(): void {
    if (this.state !== "ready") return;
    this.subs.clear(); // TWS forgets everything of a closed socket
    this.questions.length = 0;
    this.#set("reconnecting");
  }

  up(): void {
    if (this.state === "ready") return;
    this.generation++;
    this.#set("connecting");
    this.#set("handshaking");
    this.nextValidId += 100;
    this.#set("ready");
    this.#resubscribe("reconnect");
  }

  dataLost(): void {
    if (this.state !== "ready") return;
    this.subs.clear(); // 1101: market data is gone, the socket stays
    this.#resubscribe("1101");
  }

  onMessage(listener: (msgId: number, fields: readonly string[], generation: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  on<T extends LineEvent["type"]>(type: T, fn: (event: Extract<LineEvent, { type: T }>) => void): () => void {
    return this.#hub.on(type, fn);
  }

  emit(fields: string[]): void {
    for (const l of this.#listeners) l(Number(fields[0]), fields, this.generation);
  }

  #set(to: LineState): void {
    const from = this.state;
    this.state = to;
    this.#hub.emit({
      type: "line.state",
      ts: 0,
      line: this.name,
      from,
      to,
      reason: "model",
      generation: this.generation,
    });
  }

  #resubscribe(cause: "1101" | "reconnect"): void {
    this.#hub.emit({
      type: "line.resubscribe",
      ts: 0,
      line: this.name,
      dataLost: true,
      cause,
      generation: this.generation,
    });
  }
}

type Op =
  | { op: "open" }
  | { op: "close"; t: number }
  | { op: "subscribe"; t: number }
  | { op: "cancel"; t: number; pick: number }
  | { op: "contract"; t: number }
  | { op: "answer" }
  | { op: "down" }
  | { op: "up" }
  | { op: "1101" }
  | { op: "tick" }
  | { op: "time"; ms: number };

const t = fc.nat(4);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.constant({ op: "open" as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("close" as const), t }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("subscribe" as const), t }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant("cancel" as const), t, pick: fc.nat(20) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("contract" as const), t }), weight: 2 },
  { arbitrary: fc.constant({ op: "answer" as const }), weight: 1 },
  { arbitrary: fc.constant({ op: "down" as const }), weight: 1 },
  { arbitrary: fc.constant({ op: "up" as const }), weight: 2 },
  { arbitrary: fc.constant({ op: "1101" as const }), weight: 1 },
  { arbitrary: fc.constant({ op: "tick" as const }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant("time" as const), ms: fc.integer({ min: 100, max: 7_000 }) }),
    weight: 1,
  },
);

interface Model {
  tenant: Tenant;
  name: string;
  nextId: number;
  /** Ticker ids subscribed and not cancelled. */
  subs: Set<number>;
  /** Contract request ids not yet answered. */
  asked: Set<number>;
  ticks: Set<number>;
  answered: Set<number>;
  errors: Map<number, number[]>;
  misrouted: string[];
}

const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
};
const stock = contract({ secType: "STK", exchange: "SMART", currency: "USD" });

const mkt = (tickerId: number, tag: string) =>
  toFields(
    REQ_MKT_DATA,
    {
      tickerId,
      contract: { ...stock, symbol: tag },
      comboLegs: [],
      deltaNeutral: undefined,
      genericTickList: "",
      snapshot: false,
      regulatorySnapshot: false,
      mktDataOptions: "",
    },
    V,
  );
const details = (reqId: number, tag: string) =>
  toFields(
    REQ_CONTRACT_DATA,
    {
      reqId,
      contract: { ...stock, symbol: tag },
      includeExpired: false,
      secIdType: "",
      secId: "",
      issuerId: "",
    },
    V,
  );

async function run(ops: Op[], staysDown: boolean): Promise<void> {
  const clock = new ManualClock();
  const tws = new Tws();
  // Only capacity matters here: the message rate is a separate property (pacing tests).
  const rules = resolveRules({
    override: { rules: { messageRate: { enabled: false }, marketDataLines: { limit: LINES } } },
  });
  const pacer = new Pacer({ clock, rules });
  const sw = new Switch(tws, pacer, { clock, queueTimeoutMs: QUEUE_TIMEOUT_MS });
  const models: Model[] = [];
  const heldLines = () => pacer.snapshot().rules.find((r) => r.ruleId === "marketDataLines")?.used ?? -1;
  const open = () => {
    const name = `t${models.length}`;
    const tenant = sw.openTenant({ kind: "client", name });
    const m: Model = {
      tenant,
      name,
      nextId: 1,
      subs: new Set(),
      asked: new Set(),
      ticks: new Set(),
      answered: new Set(),
      errors: new Map(),
      misrouted: [],
    };
    tenant.onMessage((f) => {
      const id = Number(f[0]);
      const local = Number(f[2]);
      if (id === IN.TICK_STRING) {
        if (f[4] !== `${name}:${local}`) m.misrouted.push(f.join("|"));
        m.ticks.add(local);
      } else if (id === IN.CONTRACT_DATA_END) {
        if (f[3] !== `${name}:${local}`) m.misrouted.push(f.join("|"));
        m.answered.add(local);
      } else if (id === IN.ERR_MSG && local > 0) {
        m.errors.set(local, [...(m.errors.get(local) ?? []), Number(f[3])]);
      }
    });
    models.push(m);
  };
  const pick = (i: number) => {
    const openOnes = models.filter((m) => m.tenant.state === "open");
    return openOnes.length === 0 ? undefined : openOnes[i % openOnes.length];
  };
  const checkLines = (step: string) => {
    if (tws.state !== "ready") return;
    // Every upstream stream is a live request of an open tenant, and each holds one line.
    const liveTags = new Set(
      models
        .filter((m) => m.tenant.state === "open")
        .flatMap((m) => [...m.subs].filter((id) => !m.errors.has(id)).map((id) => `${m.name}:${id}`)),
    );
    for (const tag of tws.subs.values()) expect(liveTags.has(tag), `${step}: ${tag} upstream`).toBe(true);
    expect(heldLines(), `${step}: held lines vs upstream`).toBe(tws.subs.size);
    expect(tws.subs.size).toBeLessThanOrEqual(LINES);
  };

  open();
  for (const [n, o] of ops.entries()) {
    const m = "t" in o ? pick(o.t) : undefined;
    switch (o.op) {
      case "open":
        open();
        break;
      case "close":
        if (m) await m.tenant.close();
        break;
      case "subscribe":
        if (m) {
          const id = m.nextId++;
          m.subs.add(id);
          m.tenant.send(mkt(id, `${m.name}:${id}`));
        }
        break;
      case "cancel":
        if (m && m.subs.size > 0) {
          const id = [...m.subs][o.pick % m.subs.size] as number;
          m.subs.delete(id);
          m.tenant.send(toFields(CANCEL_MKT_DATA, { tickerId: id }, V));
        }
        break;
      case "contract":
        if (m) {
          const id = m.nextId++;
          m.asked.add(id);
          m.tenant.send(details(id, `${m.name}:${id}`));
        }
        break;
      case "answer":
        tws.answer();
        break;
      case "down":
        tws.down();
        break;
      case "up":
        tws.up();
        break;
      case "1101":
        tws.dataLost();
        break;
      case "tick":
        tws.tick();
        break;
      case "time":
        clock.advance(o.ms);
        break;
    }
    await flush();
    checkLines(`step ${n} (${o.op})`);
  }

  if (staysDown) {
    // The line gone for good: requests that never reached TWS (and one-shots waiting for a
    // resend) hear 504 within the queue timeout; streams TWS had stay in the book, to be
    // restored when the line is back, as the 1100 / 1102 notices tell the tenant.
    tws.down();
    // At most the queue timeout in the pacer, then at most the queue timeout for the line.
    for (let i = 0; i < (2 * QUEUE_TIMEOUT_MS) / 1_000 + 2; i++) {
      clock.advance(1_000);
      await flush();
    }
    for (const m of models) {
      if (m.tenant.state !== "open") continue;
      for (const id of m.subs)
        expect(
          m.errors.has(id) || tws.everLive.has(`${m.name}:${id}`),
          `${m.name} sub ${id} while down`,
        ).toBe(true);
      for (const id of m.asked)
        expect(m.errors.has(id) || m.answered.has(id), `${m.name} contract ${id} while down`).toBe(true);
    }
  }
  // Let everything settle: the line back, answers given, every deadline passed.
  tws.up();
  await flush();
  tws.answer();
  for (let i = 0; i < 8; i++) {
    clock.advance(1_000);
    await flush();
  }
  tws.answer();
  tws.tick();
  await flush();
  checkLines("end");
  for (const m of models) {
    expect(m.misrouted).toEqual([]);
    if (m.tenant.state !== "open") continue;
    for (const id of m.subs) {
      const errs = m.errors.get(id) ?? [];
      const live = [...tws.subs.values()].includes(`${m.name}:${id}`);
      expect(live || errs.length > 0, `${m.name} subscription ${id}: no outcome`).toBe(true);
      expect(live && errs.length > 0, `${m.name} subscription ${id}: error but live upstream`).toBe(false);
      if (live) expect(m.ticks.has(id)).toBe(true);
      expect(errs.length).toBeLessThanOrEqual(1);
    }
    for (const id of m.asked) {
      const errs = m.errors.get(id) ?? [];
      expect(m.answered.has(id) || errs.length > 0, `${m.name} contract ${id}: no outcome`).toBe(true);
    }
  }
  await sw.close();
  await flush();
  expect(tws.subs.size).toBe(0);
  expect(heldLines()).toBe(0);
  pacer.destroy();
}

describe("every request has an outcome (property)", () => {
  it("held lines equal live upstream requests after every step; every request is answered or refused", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.boolean(), (ops, staysDown) =>
        run(ops, staysDown),
      ),
      { numRuns: 200 },
    );
  }, 120_000);
});

describe("a departing tenant with more streams than the pacer queues", () => {
  it("has every one of them cancelled upstream", async () => {
    const clock = new ManualClock();
    const tws = new Tws();
    // This gateway never speaks (no ticks): the hold on unheard messages would pace it at 45
    // per 5 s; that hold has its own tests.
    const rules = resolveRules({
      override: { rules: { marketDataLines: { limit: 5_000 }, messageRate: { holdUnheardMs: 0 } } },
    });
    const pacer = new Pacer({ clock, rules });
    const sw = new Switch(tws, pacer, { clock });
    const tenant = sw.openTenant({ kind: "client", name: "big" });
    const n = 1_500;
    // In batches below the tenant's own pacer queue bound.
    for (let id = 1; id <= n; id++) {
      tenant.send(mkt(id, `big:${id}`));
      if (id % 500 !== 0) continue;
      for (let i = 0; i < 30 && tws.subs.size < id; i++) {
        clock.advance(1_000);
        await flush();
      }
    }
    expect(tws.subs.size).toBe(n);
    await tenant.close();
    // At 45 messages a second: about 34 s of cancels, more than the pacer's 1,000-item queue.
    for (let i = 0; i < 80 && tws.subs.size > 0; i++) {
      clock.advance(1_000);
      await flush();
    }
    expect(tws.subs.size).toBe(0);
    await sw.close();
    pacer.destroy();
  });
});

type FanOp =
  | { op: "open" }
  | { op: "close"; t: number }
  | { op: "join"; t: number; sym: number }
  | { op: "leave"; t: number; pick: number }
  | { op: "error"; pick: number }
  | { op: "down" }
  | { op: "up" }
  | { op: "1101" }
  | { op: "tick" }
  | { op: "time"; ms: number };

const SHARED_SYMBOLS = 7;
const fanOpArb: fc.Arbitrary<FanOp> = fc.oneof(
  { arbitrary: fc.constant({ op: "open" as const }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant("close" as const), t }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant("join" as const), t, sym: fc.nat(SHARED_SYMBOLS - 1) }),
    weight: 6,
  },
  { arbitrary: fc.record({ op: fc.constant("leave" as const), t, pick: fc.nat(20) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant("error" as const), pick: fc.nat(20) }), weight: 1 },
  { arbitrary: fc.constant({ op: "down" as const }), weight: 1 },
  { arbitrary: fc.constant({ op: "up" as const }), weight: 2 },
  { arbitrary: fc.constant({ op: "1101" as const }), weight: 1 },
  { arbitrary: fc.constant({ op: "tick" as const }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant("time" as const), ms: fc.integer({ min: 100, max: 7_000 }) }),
    weight: 1,
  },
);

interface FanModel {
  tenant: Tenant;
  nextId: number;
  /** Ticker id → symbol, subscribed and not cancelled. */
  subs: Map<number, string>;
  ticks: Set<number>;
  errors: Map<number, number[]>;
  misrouted: string[];
}

/**
 * Tenants subscribe to a few symbols they share: one upstream request per symbol. After
 * every step with the line up: held market-data lines == live upstream requests, no symbol
 * is live upstream twice, every upstream stream has a group with a member, and there are no
 * more upstream requests than groups. In the end (line up, deadlines passed): lines ==
 * upstream requests == groups, and every open tenant's stream ticks under its own id or got
 * an error; after the switch closes nothing is left upstream.
 */
async function runShared(ops: FanOp[]): Promise<void> {
  const clock = new ManualClock();
  const tws = new Tws();
  const rules = resolveRules({
    override: { rules: { messageRate: { enabled: false }, marketDataLines: { limit: LINES } } },
  });
  const pacer = new Pacer({ clock, rules });
  const sw = new Switch(tws, pacer, { clock, queueTimeoutMs: QUEUE_TIMEOUT_MS });
  const models: FanModel[] = [];
  const heldLines = () => pacer.snapshot().rules.find((r) => r.ruleId === "marketDataLines")?.used ?? -1;
  const groups = () => sw.snapshot().groups.filter((g) => g.request === "REQ_MKT_DATA");
  const open = () => {
    const tenant = sw.openTenant({ kind: "client" });
    const m: FanModel = {
      tenant,
      nextId: 1,
      subs: new Map(),
      ticks: new Set(),
      errors: new Map(),
      misrouted: [],
    };
    tenant.onMessage((f) => {
      const id = Number(f[0]);
      const local = Number(f[2]);
      if (id === IN.TICK_STRING) {
        if (f[4] !== m.subs.get(local)) m.misrouted.push(f.join("|"));
        m.ticks.add(local);
      } else if (id === IN.ERR_MSG && local > 0) {
        m.errors.set(local, [...(m.errors.get(local) ?? []), Number(f[3])]);
      }
    });
    models.push(m);
  };
  const pick = (i: number) => {
    const openOnes = models.filter((m) => m.tenant.state === "open");
    return openOnes.length === 0 ? undefined : openOnes[i % openOnes.length];
  };
  const check = (step: string) => {
    if (tws.state !== "ready") return;
    const upstream = [...tws.subs.values()];
    expect(new Set(upstream).size, `${step}: a symbol live upstream twice`).toBe(upstream.length);
    expect(heldLines(), `${step}: held lines vs upstream`).toBe(tws.subs.size);
    const live = groups();
    expect(live.length, `${step}: more upstream requests than groups`).toBeGreaterThanOrEqual(tws.subs.size);
    expect(
      live.every((g) => g.members > 0),
      `${step}: a group without members`,
    ).toBe(true);
    for (const upId of tws.subs.keys())
      expect(
        live.some((g) => g.upstreamId === upId),
        `${step}: upstream ${upId} has no group`,
      ).toBe(true);
  };

  open();
  for (const [n, o] of ops.entries()) {
    const m = "t" in o ? pick(o.t) : undefined;
    switch (o.op) {
      case "open":
        open();
        break;
      case "close":
        if (m) await m.tenant.close();
        break;
      case "join":
        if (m) {
          const id = m.nextId++;
          const symbol = `S${o.sym}`;
          m.subs.set(id, symbol);
          m.tenant.send(mkt(id, symbol));
        }
        break;
      case "leave":
        if (m && m.subs.size > 0) {
          const id = [...m.subs.keys()][o.pick % m.subs.size] as number;
          m.subs.delete(id);
          m.tenant.send(toFields(CANCEL_MKT_DATA, { tickerId: id }, V));
        }
        break;
      case "error": {
        // TWS ends one stream with an error: every member hears it.
        const ids = [...tws.subs.keys()];
        const upId = ids[o.pick % Math.max(1, ids.length)];
        if (upId !== undefined && tws.state === "ready") {
          tws.subs.delete(upId);
          tws.emit([String(IN.ERR_MSG), "2", String(upId), "200", "No security definition", ""]);
        }
        break;
      }
      case "down":
        tws.down();
        break;
      case "up":
        tws.up();
        break;
      case "1101":
        tws.dataLost();
        break;
      case "tick":
        tws.tick();
        break;
      case "time":
        clock.advance(o.ms);
        break;
    }
    await flush();
    check(`step ${n} (${o.op})`);
  }
  tws.up();
  await flush();
  for (let i = 0; i < 2 * (QUEUE_TIMEOUT_MS / 1_000) + 2; i++) {
    clock.advance(1_000);
    await flush();
  }
  tws.tick();
  await flush();
  check("end");
  expect(groups().length, "end: groups vs upstream").toBe(tws.subs.size);
  for (const m of models) {
    expect(m.misrouted).toEqual([]);
    if (m.tenant.state !== "open") continue;
    for (const [id, symbol] of m.subs) {
      const live = [...tws.subs.values()].includes(symbol);
      const errs = m.errors.get(id) ?? [];
      expect(live || errs.length > 0, `subscription ${id} (${symbol}): no outcome`).toBe(true);
      if (live && errs.length === 0)
        expect(m.ticks.has(id), `subscription ${id} (${symbol}) ticks`).toBe(true);
    }
  }
  await sw.close();
  await flush();
  expect(tws.subs.size).toBe(0);
  expect(heldLines()).toBe(0);
  pacer.destroy();
}

describe("shared subscriptions (property)", () => {
  it("held lines == live upstream requests == groups through joins, leaves, closes, errors, drops and 1101", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fanOpArb, { minLength: 1, maxLength: 60 }), (ops) => runShared(ops)),
      { numRuns: 200 },
    );
  }, 120_000);
});

describe("a tenant with more streams than the pacer queues", () => {
  async function withStreams(n: number) {
    const clock = new ManualClock();
    const tws = new Tws();
    // A gateway that never speaks: without its answers the hold on unheard messages would
    // pace these thousands of messages at 45 per 5 s (that hold has its own tests).
    const rules = resolveRules({
      override: { rules: { marketDataLines: { limit: 5_000 }, messageRate: { holdUnheardMs: 0 } } },
    });
    const pacer = new Pacer({ clock, rules });
    const sw = new Switch(tws, pacer, { clock, queueTimeoutMs: 60_000 });
    const tenant = sw.openTenant({ kind: "client", name: "big" });
    const errors: number[] = [];
    tenant.onMessage((f) => {
      if (Number(f[0]) === IN.ERR_MSG) errors.push(Number(f[3]));
    });
    const settle = async (done: () => boolean) => {
      for (let i = 0; i < 80 && !done(); i++) {
        clock.advance(1_000);
        await flush();
      }
    };
    // In batches below the tenant's own pacer queue bound (1,000).
    for (let id = 1; id <= n; id++) {
      tenant.send(mkt(id, `big:${id}`));
      if (id % 500 === 0) await settle(() => tws.subs.size >= id);
    }
    await settle(() => tws.subs.size >= n);
    expect(tws.subs.size).toBe(n);
    const heldLines = () => pacer.snapshot().rules.find((r) => r.ruleId === "marketDataLines")?.used ?? -1;
    return { clock, tws, pacer, sw, tenant, errors, settle, heldLines };
  }

  it("has every one restored after a 1101, none refused by the queue bound", async () => {
    const n = 1_500;
    const { tws, pacer, sw, errors, settle, heldLines } = await withStreams(n);
    tws.dataLost();
    await flush();
    await settle(() => tws.subs.size >= n);
    expect(errors).toEqual([]);
    expect(tws.subs.size).toBe(n);
    expect(heldLines()).toBe(n);
    await sw.close();
    pacer.destroy();
  });

  it("has every one cancelled upstream when it cancels them all at once, and no line freed early", async () => {
    const n = 1_500;
    const { tws, pacer, sw, tenant, settle, heldLines } = await withStreams(n);
    for (let id = 1; id <= n; id++) tenant.send(toFields(CANCEL_MKT_DATA, { tickerId: id }, V));
    await settle(() => tws.subs.size === 0);
    expect(tws.subs.size).toBe(0);
    expect(heldLines()).toBe(0);
    await sw.close();
    pacer.destroy();
  });
});

describe("a tenant closing while another waits for a line", () => {
  it("gives its lines back only after its cancels: TWS never holds more streams than the lines", async () => {
    const clock = new ManualClock();
    const tws = new Tws();
    let peak = 0;
    const send = tws.send.bind(tws);
    tws.send = (fields) => {
      send(fields);
      peak = Math.max(peak, tws.subs.size);
    };
    const rules = resolveRules({
      override: { rules: { messageRate: { enabled: false }, marketDataLines: { limit: LINES } } },
    });
    const pacer = new Pacer({ clock, rules });
    const sw = new Switch(tws, pacer, { clock, queueTimeoutMs: QUEUE_TIMEOUT_MS });
    const a = sw.openTenant({ kind: "client", name: "a" });
    const b = sw.openTenant({ kind: "client", name: "b" });
    for (let id = 1; id <= LINES; id++) a.send(mkt(id, `a:${id}`));
    await flush();
    expect(tws.subs.size).toBe(LINES);
    b.send(mkt(1, "b:1"));
    await flush();
    expect(tws.subs.size).toBe(LINES);
    await a.close();
    await flush();
    expect([...tws.subs.values()]).toEqual(["b:1"]);
    expect(peak).toBe(LINES);
    await sw.close();
    pacer.destroy();
  });
});
