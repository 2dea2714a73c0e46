/**
 * The mock IB Gateway: a TCP server speaking the server side of our codec, IB's rules
 * enforced, faults on command. Usable in-process (the daemon embeds it) and from the CLI.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { Clock } from "../clock.js";
import { ClosedError, ProtocolError } from "../errors.js";
import { EventHub } from "../events.js";
import { formatConnectionTime, negotiateVersion, type VersionRange } from "../protocol/handshake.js";
import { outMessageName } from "../protocol/message-ids.js";
import { ERR_MSG, MANAGED_ACCTS, NEXT_VALID_ID } from "../protocol/messages/connection.js";
import { fieldIndex, outRoute } from "../protocol/routing.js";
import { MIN_SERVER_VERSION } from "../protocol/versions.js";
import { AccountBook } from "./accounts.js";
import { Catalogue } from "./catalogue.js";
import type { Handler, MockContext } from "./context.js";
import { ControlServer } from "./control.js";
import { RuleEnforcer } from "./enforcement.js";
import { FaultState, noticeText } from "./faults.js";
import { HANDLERS } from "./handlers/index.js";
import { HistoryLog } from "./history-log.js";
import { HmdsLoad } from "./hmds.js";
import { type MockGatewayOptions, type ResolvedMockOptions, resolveMockOptions } from "./options.js";
import { OrderBook } from "./orders.js";
import { MockSession, type SessionHost } from "./session.js";
import { emptyCounters, type MockCounters, type MockState } from "./state.js";
import { Streamer } from "./streams.js";
import { MARKET_DATA_KINDS, SubscriptionBook } from "./subscriptions.js";
import type { WallClock } from "./wall-clock.js";

export type MockGatewayState = "idle" | "starting" | "listening" | "down" | "closing" | "closed";

export type MockEvent =
  | { type: "state"; ts: number; state: MockGatewayState; reason: string }
  | { type: "client.started"; ts: number; clientId: number; sessionId: number }
  | { type: "client.closed"; ts: number; clientId: number | undefined; sessionId: number; reason: string }
  | { type: "client.refused"; ts: number; reason: string };

export interface MockStartInfo {
  port: number;
  controlPort: number | null;
  serverVersion: number;
}

export interface ErrorFault {
  code: number;
  message?: string;
  reqId?: number;
  clientId?: number;
}

/** Gateway extensions (control API, streams, orders) attach through this. */
export interface MockPlugin {
  start?(gw: MockGateway): void | Promise<void>;
  close?(): void | Promise<void>;
}

export class MockGateway implements SessionHost, MockContext {
  readonly opts: ResolvedMockOptions;
  readonly clock: Clock;
  readonly wall: WallClock;
  readonly history = new HistoryLog();
  readonly hmds: HmdsLoad;
  readonly subs = new SubscriptionBook();
  readonly catalogue: Catalogue;
  readonly accounts: AccountBook;
  readonly orders = new OrderBook();
  readonly faults: FaultState;
  readonly events = new EventHub<MockEvent>();
  readonly counters: MockCounters = emptyCounters();
  readonly streamer = new Streamer();
  readonly #handlers = new Map<number, Handler>(HANDLERS);
  readonly #enforcer: RuleEnforcer;
  readonly #sessions = new Map<number, MockSession>();
  /** clientId → session id of the live client holding it. */
  readonly #clientIds = new Map<number, number>();
  /** clientId → time until which a departed client's id stays taken (--id-hold-ms). */
  readonly #heldIds = new Map<number, number>();
  readonly #nextOrderIds = new Map<number, number>();
  readonly #plugins: MockPlugin[] = [];
  #state: MockGatewayState = "idle";
  #server: Server | undefined;
  #port = 0;
  #nextSessionId = 1;
  #reopenTimer: ReturnType<Clock["setTimeout"]> | undefined;
  #stallTimer: ReturnType<Clock["setTimeout"]> | undefined;

  constructor(options: MockGatewayOptions = {}) {
    this.opts = resolveMockOptions(options);
    this.clock = this.opts.clock;
    this.wall = this.opts.wall;
    this.hmds = new HmdsLoad({
      latencyMs: this.opts.historyLatencyMs,
      barCostUs: this.opts.historyBarCostUs,
      softLimit: this.opts.historySoftLimit,
      timeScale: this.opts.timeScale,
    });
    this.faults = new FaultState(this.clock);
    this.catalogue = new Catalogue(this.wall.now());
    this.accounts = new AccountBook(this.opts.accounts, this.catalogue, this.opts.seed);
    this.#enforcer = new RuleEnforcer(this.opts);
    this.use(this.streamer);
    // The control API listens on loopback only, whatever --host says.
    if (this.opts.controlPort !== null) this.use(new ControlServer("127.0.0.1", this.opts.controlPort));
  }

  get state(): MockGatewayState {
    return this.#state;
  }
  get port(): number {
    return this.#port;
  }
  get serverVersion(): number {
    return this.opts.serverVersion;
  }

  #transition(to: MockGatewayState, reason: string): void {
    if (this.#state === to) return;
    this.#state = to;
    this.opts.logger.info({ state: to, reason }, "mock gateway state");
    this.events.emit({ type: "state", ts: this.clock.now(), state: to, reason });
  }

  /** Add request handlers (by outgoing message id) or lifecycle plugins before start(). */
  register(handlers: ReadonlyMap<number, Handler>): void {
    for (const [id, h] of handlers) this.#handlers.set(id, h);
  }
  use(plugin: MockPlugin): void {
    this.#plugins.push(plugin);
  }

  async start(): Promise<MockStartInfo> {
    if (this.#state !== "idle") throw new ClosedError("mock gateway (already started)");
    this.#transition("starting", "start");
    this.#port = await this.#listen(this.opts.port);
    for (const p of this.#plugins) await p.start?.(this);
    this.#transition("listening", "started");
    return { port: this.#port, controlPort: this.controlPort, serverVersion: this.opts.serverVersion };
  }

  /** Set by the control plugin when it listens. */
  controlPort: number | null = null;

  async close(): Promise<void> {
    if (this.#state === "closed" || this.#state === "closing") return;
    this.#transition("closing", "close");
    this.clock.clearTimeout(this.#reopenTimer);
    this.clock.clearTimeout(this.#stallTimer);
    for (const s of [...this.#sessions.values()]) s.destroy("gateway closing");
    await this.#closeListener();
    for (const p of [...this.#plugins].reverse()) await p.close?.();
    this.#transition("closed", "closed");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.#onConnection(socket));
      server.once("error", reject);
      server.listen({ host: this.opts.host, port }, () => {
        server.off("error", reject);
        server.on("error", (err) => this.opts.logger.error({ err }, "mock listener error"));
        this.#server = server;
        const addr = server.address();
        resolve(typeof addr === "object" && addr ? addr.port : port);
      });
    });
  }

  #closeListener(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  #onConnection(socket: Socket): void {
    if (this.#state !== "listening" || this.#sessions.size >= this.opts.maxClients) {
      // TWS refuses the socket outright; the clients already connected are unaffected.
      this.counters.refused++;
      const reason = this.#state === "listening" ? `over max clients (${this.opts.maxClients})` : this.#state;
      this.events.emit({ type: "client.refused", ts: this.clock.now(), reason });
      socket.destroy();
      return;
    }
    const id = this.#nextSessionId++;
    const session = new MockSession(id, socket, this, {
      maxFrameBytes: this.opts.maxFrameBytes,
      maxWriteBufferBytes: this.opts.maxWriteBufferBytes,
      clock: this.clock,
      wallNow: () => this.wall.now(),
    });
    this.#sessions.set(id, session);
  }

  // ---- SessionHost ----

  negotiate(range: VersionRange): number | undefined {
    const v = negotiateVersion(range, { min: MIN_SERVER_VERSION, max: this.opts.serverVersion });
    if (v === undefined) this.counters.refused++;
    return v;
  }

  stalled(): boolean {
    return this.faults.stalled();
  }

  latencyMs(): number {
    return this.faults.latencyMs();
  }

  connectionTime(): string {
    return formatConnectionTime(this.wall.now(), "UTC");
  }

  startApi(session: MockSession, clientId: number): void {
    if (this.#idTaken(clientId)) {
      // Error 326 under id -1, then a gentle close so the error frame arrives first.
      this.error(session, -1, 326, noticeText(326));
      this.counters.refused++;
      session.end(`client id ${clientId} in use`);
      return;
    }
    this.#clientIds.set(clientId, session.id);
    this.#heldIds.delete(clientId);
    session.accept(clientId);
    session.send(MANAGED_ACCTS, { accounts: [...this.opts.accounts] });
    session.send(NEXT_VALID_ID, { orderId: this.nextOrderId(clientId) });
    for (const code of [2104, 2106, 2158]) this.error(session, -1, code, noticeText(code));
    this.opts.logger.debug({ clientId, session: session.id }, "client started");
    this.events.emit({ type: "client.started", ts: this.clock.now(), clientId, sessionId: session.id });
  }

  #idTaken(clientId: number): boolean {
    if (this.#clientIds.has(clientId)) return true;
    const until = this.#heldIds.get(clientId);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.#heldIds.delete(clientId);
    return false;
  }

  message(session: MockSession, fields: string[]): void {
    if (session.resuming) this.counters.stalledRequests++;
    this.counters.requests++;
    this.history.open(session.id, session.clientId ?? 0, fields, session.version, this.wall.now());
    const verdict = this.#enforcer.admit(session.id, fields, session.version, this.clock.now());
    if (verdict.type === "rate") {
      this.counters.pacingViolations++;
      this.history.answer(
        session.id,
        this.#requestId(Number(fields[0]), fields, session.version),
        verdict.violation.ibCode,
      );
      this.error(session, -1, verdict.violation.ibCode, verdict.violation.ibMessage);
      if (verdict.disconnect) {
        this.counters.dropped++;
        session.end("message rate violated too often");
      }
      return;
    }
    if (verdict.type === "rule") {
      this.counters.pacingViolations++;
      this.error(session, verdict.reqId, verdict.violation.ibCode, verdict.violation.ibMessage);
      return;
    }
    const id = Number(fields[0]);
    const handler = this.#handlers.get(id);
    if (!handler) {
      this.#release(session, verdict.request.hold);
      const name = outMessageName(id);
      const what = name ? `${name} is not supported by the mock gateway` : `unknown message id ${fields[0]}`;
      this.error(
        session,
        this.#requestId(id, fields, session.version),
        321,
        `Error validating request.-'${fields[0]}' : cause - ${what}`,
      );
      return;
    }
    try {
      handler(this, session, fields, verdict.request.hold);
    } catch (err) {
      this.#release(session, verdict.request.hold);
      // A message we cannot read: TWS answers 320 and keeps the client.
      const text = err instanceof ProtocolError ? err.message : String(err);
      if (!(err instanceof ProtocolError)) this.opts.logger.error({ err, id }, "mock handler failed");
      this.error(
        session,
        this.#requestId(id, fields, session.version),
        320,
        `Error reading request.-'${fields[0]}' : ${text}`,
      );
    }
  }

  #requestId(id: number, fields: readonly string[], version: number): number {
    const route = outRoute(id);
    if (!route?.idIndex) return -1;
    const n = Number(fields[fieldIndex(route.idIndex, version)]);
    return Number.isInteger(n) ? n : -1;
  }

  closed(session: MockSession, reason: string): void {
    this.#sessions.delete(session.id);
    this.#enforcer.forget(session.id);
    this.history.forgetSession(session.id);
    this.subs.removeSession(session.id);
    const clientId = session.clientId;
    if (clientId !== undefined && this.#clientIds.get(clientId) === session.id) {
      this.#clientIds.delete(clientId);
      if (this.opts.idHoldMs > 0) this.#heldIds.set(clientId, this.clock.now() + this.opts.idHoldMs);
    }
    this.events.emit({
      type: "client.closed",
      ts: this.clock.now(),
      clientId,
      sessionId: session.id,
      reason,
    });
  }

  badInput(session: MockSession, reason: string): void {
    this.counters.dropped++;
    this.opts.logger.warn({ session: session.id, reason }, "bad input; closing that client");
  }

  dropped(_session: MockSession, what: "stall" | "backpressure" | "handshake" | "held"): void {
    if (what === "held") this.counters.stalledReads++;
    if (what === "backpressure") this.counters.backpressureDrops++;
    if (what === "handshake") this.counters.stalledHandshakes++;
  }

  // ---- MockContext ----

  error(session: MockSession, id: number, code: number, message: string): void {
    this.counters.errorsSent++;
    if (id >= 0)
      this.history.answer(session.id, id, code === 162 && /returned no data/.test(message) ? "noData" : code);
    session.send(ERR_MSG, { id, code, message, advancedOrderRejectJson: "" });
  }

  release(session: MockSession, hold: string | undefined): void {
    this.#release(session, hold);
  }

  #release(session: MockSession, hold: string | undefined): void {
    this.#enforcer.release(session.id, hold);
  }

  nextOrderId(clientId: number): number {
    return this.#nextOrderIds.get(clientId) ?? this.opts.firstOrderId;
  }

  useOrderId(clientId: number, orderId: number): void {
    if (orderId >= this.nextOrderId(clientId)) this.#nextOrderIds.set(clientId, orderId + 1);
  }

  // ---- sessions, for plugins ----

  *readySessions(): IterableIterator<MockSession> {
    for (const s of this.#sessions.values()) if (s.state === "ready") yield s;
  }

  session(id: number): MockSession | undefined {
    return this.#sessions.get(id);
  }

  sessionOf(id: number): MockSession | undefined {
    const s = this.#sessions.get(id);
    return s?.state === "ready" ? s : undefined;
  }

  // ---- faults (the control API calls these) ----

  /** Close client sockets at once: all, or those of one client id. */
  drop(clientId?: number): number {
    let n = 0;
    for (const s of [...this.#sessions.values()]) {
      if (clientId !== undefined && s.clientId !== clientId) continue;
      this.counters.dropped++;
      s.destroy("dropped by fault");
      n++;
    }
    return n;
  }

  /** Close everything and refuse connections for `ms`, then listen on the same port again. */
  async down(ms: number): Promise<void> {
    if (this.#state !== "listening" && this.#state !== "down") return;
    this.faults.down(ms);
    this.drop();
    if (this.#state === "listening") {
      this.#transition("down", `down for ${ms} ms`);
      await this.#closeListener();
    }
    this.clock.clearTimeout(this.#reopenTimer);
    this.#reopenTimer = this.clock.setTimeout(() => void this.#reopen(), this.faults.downRemainingMs());
  }

  async #reopen(): Promise<void> {
    if (this.#state !== "down") return;
    try {
      await this.#listen(this.#port);
      this.#transition("listening", "back up");
    } catch (err) {
      // The port may be taken for a moment (TIME_WAIT on some systems): try again shortly.
      this.opts.logger.warn({ err }, "mock could not reopen its port; retrying");
      this.#reopenTimer = this.clock.setTimeout(() => void this.#reopen(), 100);
    }
  }

  /** A frozen TWS for `ms`: sockets stay open, nothing is answered; what was read is applied after. */
  stall(ms: number): void {
    this.faults.stall(ms);
    this.#scheduleResume();
  }

  #scheduleResume(): void {
    this.clock.clearTimeout(this.#stallTimer);
    const remaining = this.faults.stallRemainingMs();
    if (remaining > 0) {
      this.#stallTimer = this.clock.setTimeout(() => this.#scheduleResume(), remaining);
      return;
    }
    this.#stallTimer = undefined;
    for (const s of [...this.#sessions.values()]) s.resume();
  }

  latency(ms: number): void {
    this.faults.setLatency(ms);
  }

  /** Send an error or notice to every started client (or one); 1101 also drops market data. */
  injectError(fault: ErrorFault): number {
    let n = 0;
    for (const s of [...this.readySessions()]) {
      if (fault.clientId !== undefined && s.clientId !== fault.clientId) continue;
      this.error(s, fault.reqId ?? -1, fault.code, fault.message ?? noticeText(fault.code));
      if (fault.code === 1101) {
        // "Data lost": TWS forgets the market-data subscriptions; the client must resubscribe.
        for (const sub of this.subs.removeSession(s.id, MARKET_DATA_KINDS)) this.#release(s, sub.hold);
      }
      n++;
    }
    return n;
  }

  /** End every fault; a gateway that is down comes back now. */
  async clearFaults(): Promise<void> {
    this.faults.clear();
    this.#scheduleResume();
    if (this.#state === "down") {
      this.clock.clearTimeout(this.#reopenTimer);
      await this.#reopen();
    }
  }

  /** IB's nightly restart: 1100 and 2103 notices, every socket dropped, down for `ms`, back. */
  async restart(ms: number): Promise<void> {
    this.injectError({ code: 1100 });
    this.injectError({ code: 2103 });
    // Let the notices reach the clients before the sockets go.
    for (const s of [...this.readySessions()]) s.end("nightly restart");
    await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 20 + this.faults.latencyMs()));
    await this.down(ms);
  }

  snapshot(): MockState {
    const orders = this.orders.all().map((o) => ({
      clientId: o.clientId,
      orderId: o.orderId,
      orderRef: o.orderRef,
      permId: o.permId,
      placeCount: o.placeCount,
      modifyCount: o.modifyCount,
      status: o.status,
    }));
    const clients = [...this.#sessions.values()]
      .filter((s) => s.clientId !== undefined && s.open && s.state === "ready")
      .map((s) => ({
        clientId: s.clientId as number,
        remote: s.remote,
        connectedAt: new Date(s.connectedAt).toISOString(),
        requests: s.requests,
        serverVersion: s.version,
      }));
    return {
      clients,
      subscriptions: this.subs.size,
      counters: { ...this.counters },
      orders,
      subscriptionList: this.subs.list(),
      historyRequests: this.history.list(),
      now: new Date(this.wall.now()).toISOString(),
      port: this.#port,
      serverVersion: this.opts.serverVersion,
      listening: this.#state === "listening",
      faults: this.faults.snapshot(),
    };
  }
}
