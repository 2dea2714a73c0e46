/**
 * The TWS-protocol proxy: a TCP server that any IB API client connects to as if it were TWS.
 * Each downstream socket becomes one tenant of the switch, so every client shares the one
 * paced, self-healing upstream line; ids are virtual and rewritten by the switch. This file
 * owns the listener, the allow-list, client-id policy, the upstream's view (version and
 * connectivity notices for every downstream) and the snapshot; sessions do the rest.
 */
import { createServer, type Server, type Socket } from "node:net";
import { ClosedError } from "../errors.js";
import { EventHub } from "../events.js";
import type { Logger } from "../logger.js";
import type { Switch } from "../switch/switch.js";
import type { Tenant } from "../switch/tenant.js";
import { isUp } from "../switch/upstream.js";
import { type ProxyOptions, type ResolvedProxyOptions, resolveProxyOptions } from "./options.js";
import type { ProxyCounters, ProxyEvent, ProxySnapshot, ProxyState } from "./proxy-events.js";
import { DownstreamSession, type SessionHost, type SessionTrouble } from "./session.js";

const TROUBLE_COUNTER: Readonly<Record<SessionTrouble, keyof ProxyCounters>> = {
  bad_input: "badInput",
  slow_consumer: "slowConsumers",
  handshake_timeout: "handshakeTimeouts",
  upstream_wait_timeout: "upstreamWaitTimeouts",
  version_refused: "versionRefused",
  client_id_in_use: "clientIdInUse",
  version_changed: "versionChanged",
};

export interface ProxyStartInfo {
  host: string;
  port: number;
}

export class ProxyServer implements AsyncDisposable {
  readonly events = new EventHub<ProxyEvent>();
  readonly #sw: Switch;
  readonly #o: ResolvedProxyOptions;
  readonly #log: Logger;
  readonly #sessions = new Map<number, DownstreamSession>();
  readonly #byTenant = new Map<string, DownstreamSession>();
  /** Strict mode only: which session holds each virtual client id. */
  readonly #ids = new Map<number, DownstreamSession>();
  readonly #offs: (() => void)[] = [];
  readonly #host: SessionHost;
  readonly counters: ProxyCounters = {
    accepted: 0,
    refused: 0,
    closed: 0,
    badInput: 0,
    slowConsumers: 0,
    handshakeTimeouts: 0,
    upstreamWaitTimeouts: 0,
    versionRefused: 0,
    clientIdInUse: 0,
    versionChanged: 0,
  };
  #state: ProxyState = "idle";
  #server: Server | undefined;
  #port: number | undefined;
  #nextId = 1;
  /** interfaces.md "Versions": downstreams are served only once the upstream was ready. */
  #everReady: boolean;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;

  constructor(sw: Switch, options: ProxyOptions = {}) {
    this.#sw = sw;
    this.#o = resolveProxyOptions(options);
    this.#log = this.#o.logger.child({ part: "proxy" });
    this.#everReady = isUp(sw.line.state);
    this.#host = this.#sessionHost();
  }

  get state(): ProxyState {
    return this.#state;
  }

  /** The port listened on (the real one when 0 was asked); undefined before start(). */
  get port(): number | undefined {
    return this.#port;
  }

  async start(): Promise<ProxyStartInfo> {
    if (this.#state !== "idle") throw new ClosedError("proxy (already started)");
    const line = this.#sw.line;
    this.#offs.push(line.on("line.state", (e) => this.#onLineState(e.from, e.to)));
    const pacer = this.#o.pacer;
    if (pacer) {
      this.#offs.push(
        pacer.events.on("pacer.wait", (e) => this.#byTenant.get(e.tenant)?.pacerWait(e.waitedMs)),
      );
    }
    const server = createServer((socket) => this.#onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: this.#o.host, port: this.#o.port }, () => {
        server.off("error", reject);
        resolve();
      });
    }).catch((err: unknown) => {
      for (const off of this.#offs.splice(0)) off();
      throw err;
    });
    server.on("error", (err) => this.#log.error({ err }, "proxy listener error"));
    this.#server = server;
    const addr = server.address();
    this.#port = typeof addr === "object" && addr ? addr.port : this.#o.port;
    this.#transition("listening", "started");
    this.#log.info({ host: this.#o.host, port: this.#port, readOnly: this.#sw.readOnly }, "proxy listening");
    return { host: this.#o.host, port: this.#port };
  }

  /** Stop accepting, let every downstream go (tenants cancel their subscriptions), then stop. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown(true);
    return this.#closing;
  }

  /** Cut every downstream socket now. */
  destroy(): void {
    this.#closing ??= this.#shutdown(false);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  snapshot(): ProxySnapshot {
    return {
      state: this.#state,
      host: this.#o.host,
      port: this.#port ?? null,
      strictClientIds: this.#o.strictClientIds,
      readOnly: this.#sw.readOnly,
      allow: [...this.#o.allow.entries],
      serverVersion: this.#servedVersion() ?? null,
      downstreams: [...this.#sessions.values()].map((s) => s.snapshot()),
      counters: { ...this.counters },
    };
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────

  #transition(to: ProxyState, reason: string): void {
    const from = this.#state;
    if (from === to || from === "closed") return;
    this.#state = to;
    this.events.emit({ type: "proxy.state", ts: this.#o.clock.now(), from, to, reason });
  }

  #servedVersion(): number | undefined {
    return this.#everReady ? this.#sw.line.serverVersion : undefined;
  }

  #onConnection(socket: Socket): void {
    const remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`;
    let reason: string | undefined;
    if (this.#state !== "listening") reason = `proxy is ${this.#state}`;
    else if (!this.#o.allow.allows(socket.remoteAddress))
      reason = `${socket.remoteAddress ?? "?"} is not in --allow`;
    else if (this.#sessions.size >= this.#o.maxDownstreams)
      reason = `over ${this.#o.maxDownstreams} downstreams`;
    if (reason !== undefined) {
      this.counters.refused++;
      this.#log.warn({ remote, reason }, "downstream refused");
      this.events.emit({ type: "downstream.refused", ts: this.#o.clock.now(), remote, reason });
      socket.on("error", () => {});
      socket.destroy();
      return;
    }
    this.counters.accepted++;
    const id = this.#nextId++;
    this.#sessions.set(id, new DownstreamSession(id, socket, this.#host, this.#o));
  }

  #onLineState(from: string, to: string): void {
    const wasUp = from === "ready" || from === "degraded";
    const nowUp = to === "ready" || to === "degraded";
    if (wasUp && !nowUp) for (const s of [...this.#sessions.values()]) s.upstreamLost();
    if (to !== "ready" || from !== "handshaking") return;
    const version = this.#sw.line.serverVersion;
    if (version === undefined) return;
    if (!this.#everReady) {
      this.#everReady = true;
      this.#log.info({ version }, "upstream ready: serving downstreams");
      for (const s of [...this.#sessions.values()]) s.upstreamReady();
      return;
    }
    for (const s of [...this.#sessions.values()]) s.upstreamRestored(version);
  }

  #sessionHost(): SessionHost {
    return {
      upstreamVersion: () => this.#servedVersion(),
      upstreamUp: () => isUp(this.#sw.line.state),
      accounts: () => this.#sw.line.accounts,
      claimClientId: (session, clientId) => {
        if (!this.#o.strictClientIds) return true;
        const holder = this.#ids.get(clientId);
        if (holder && holder !== session && holder.state !== "closed") return false;
        this.#ids.set(clientId, session);
        return true;
      },
      openTenant: (session, clientId) => this.#openTenant(session, clientId),
      nextOrderId: (tenant: Tenant) => this.#sw.nextOrderId(tenant),
      closed: (session, reason) => {
        this.#sessions.delete(session.id);
        const tenant = session.tenant;
        if (tenant) this.#byTenant.delete(tenant.id);
        const clientId = session.clientId;
        if (clientId !== undefined && this.#ids.get(clientId) === session) this.#ids.delete(clientId);
        this.counters.closed++;
        if (tenant) {
          this.#log.info({ remote: session.remote, clientId, reason }, "downstream closed");
          this.events.emit({
            type: "downstream.close",
            ts: this.#o.clock.now(),
            id: session.id,
            remote: session.remote,
            clientId: clientId ?? null,
            tenant: tenant.id,
            reason,
          });
        } else {
          this.#log.debug({ remote: session.remote, reason }, "downstream closed before START_API");
        }
        if (this.#sessions.size === 0) this.#drained?.();
      },
      trouble: (session, kind, detail) => {
        this.counters[TROUBLE_COUNTER[kind]]++;
        this.#log.warn(
          { remote: session.remote, clientId: session.clientId, kind, detail },
          "downstream trouble",
        );
      },
    };
  }

  #openTenant(session: DownstreamSession, clientId: number): Tenant {
    const tenant = this.#sw.openTenant({
      kind: "proxy",
      name: `proxy ${session.remote} #${clientId}`,
      clientId,
    });
    this.#byTenant.set(tenant.id, session);
    this.#log.info({ remote: session.remote, clientId, tenant: tenant.id }, "downstream open");
    this.events.emit({
      type: "downstream.open",
      ts: this.#o.clock.now(),
      id: session.id,
      remote: session.remote,
      clientId,
      tenant: tenant.id,
    });
    return tenant;
  }

  async #shutdown(graceful: boolean): Promise<void> {
    if (this.#state === "closed") return;
    this.#transition("closing", graceful ? "close" : "destroy");
    const server = this.#server;
    this.#server = undefined;
    const listenerClosed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    const drained =
      this.#sessions.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#drained = resolve;
          });
    for (const s of [...this.#sessions.values()]) {
      if (graceful) s.end("proxy closing");
      else s.destroy("proxy destroyed");
    }
    await Promise.all([listenerClosed, drained]);
    for (const off of this.#offs.splice(0)) off();
    this.#transition("closed", graceful ? "closed" : "destroyed");
    this.#log.info("proxy closed");
  }
}
