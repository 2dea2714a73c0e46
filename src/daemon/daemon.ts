/**
 * The daemon: the lines (one per configured upstream, each with its switch, pacer and proxy:
 * line-set.ts), the lease registry, the built-in mock when no upstream is configured, the
 * event log, and the HTTP API over all of them. start() brings everything up in order; close() takes it down in reverse (API first so
 * nothing new arrives, then lines, which release their client ids, then the mock and the
 * registry). One #transition writes the state.
 */

import { join } from "node:path";
import type { DataService } from "../api/data-service.js";
import { unavailableDataService } from "../api/data-service.js";
import { ApiServer } from "../api/server.js";
import type { DaemonInfo, DaemonView, FanoutView, TenantView } from "../api/view.js";
import type { Clock, TimerHandle } from "../clock.js";
import { type DaemonConfig, upstreamText } from "../config/index.js";
import { ConfigError } from "../config/load.js";
import { ClosedError, SwitchboardError } from "../errors.js";
import type { BaseEvent } from "../events.js";
import type { IdentityView } from "../line/identity-guard.js";
import type { Logger } from "../logger.js";
import { MockGateway } from "../mock/gateway.js";
import { Pacer } from "../pacing/scheduler.js";
import { FileLeaseStore } from "../registry/file-store.js";
import { lazyRedisLeaseStore } from "../registry/lazy-redis-store.js";
import { Registry } from "../registry/registry.js";
import { defaultStateDir } from "../registry/state-dir.js";
import { identityOf, type UpstreamIdentity } from "../history/dataset.js";
import { HistoryJobs } from "../history/jobs.js";
import { isSwitchboardMock } from "../history/mock-detect.js";
import { serviceSource } from "../history/service-source.js";
import { FileOrderJournal } from "../orders/journal.js";
import type { StepDownReason } from "../ha/role.js";
import { Switch } from "../switch/switch.js";
import { DaemonHa, type HaView } from "./ha.js";
import { EventLog } from "./event-log.js";
import { type HealthReport, healthOf, type LineView } from "./health.js";
import { listening } from "./port-in-use.js";
import { gatewayKey, LineSet } from "./line-set.js";
import type { ManagedLine } from "./managed-line.js";

/** How long an HA daemon active at start waits for its lines before printing READY anyway. */
export const HA_READY_WAIT_MS = 5_000;
/** How often an HA daemon taking over retries a busy proxy port. */
const PROXY_BUSY_RETRY_MS = 250;

/** Expired leases are noticed (and announced as lease.expired) at least this often. */
export const DEFAULT_LEASE_SWEEP_INTERVAL_MS = 30_000;

export type DaemonState = "idle" | "starting" | "running" | "stopping" | "stopped";

export interface DaemonDeps {
  clock: Clock;
  logger: Logger;
  random: () => number;
  env: Readonly<Record<string, string | undefined>>;
  version: string;
  pid: number;
  /** Ports `auto` probes; overrides the config's `autoPorts` (default 4002, 7497, 4001, 7496). */
  autoPorts?: readonly number[];
  /** With `ha`: a standby became active and serves (the CLI prints a second READY line). */
  onPromoted?: (ready: ReadyInfo) => void;
}

export interface ReadyInfo {
  /** With `ha`: this daemon's role when the line is printed (a standby prints a second one on promotion). */
  role?: "active" | "standby";
  http: string;
  /** The first line's proxy port. */
  proxyPort: number | null;
  /** Every line's proxy port, by line name. */
  proxyPorts: Record<string, number>;
  upstream: string;
  mockPort?: number;
  mockControlPort?: number | null;
  pid: number;
}

export class Daemon implements DaemonView, AsyncDisposable {
  readonly events = new EventLog();
  readonly registry: Registry;
  readonly #c: DaemonConfig;
  readonly #d: DaemonDeps;
  readonly #log: Logger;
  #lineSet: LineSet | undefined;
  readonly #offs: (() => void)[] = [];
  #state: DaemonState = "idle";
  #mock: MockGateway | undefined;
  #api: ApiServer | undefined;
  #historyJobs: HistoryJobs | undefined;
  #startedAt = "";
  #url = "";
  /** With `ha`: the group membership; lines exist only while this daemon is active. */
  #ha: DaemonHa | undefined;
  #closing: Promise<void> | undefined;
  /** Lines whose host:port upstream is a Switchboard mock process (found at start). */
  readonly #mockUpstreams = new Set<string>();

  constructor(config: DaemonConfig, deps: DaemonDeps) {
    this.#c = config;
    this.#d = deps;
    this.#log = deps.logger.child({ part: "daemon" });
    const store =
      config.redis === undefined
        ? new FileLeaseStore({ stateDir: config.stateDir ?? defaultStateDir(deps.env) })
        : lazyRedisLeaseStore({ url: config.redis });
    this.registry = new Registry({
      store,
      purposes: config.purposes,
      clock: deps.clock,
      sweepIntervalMs: DEFAULT_LEASE_SWEEP_INTERVAL_MS,
    });
  }

  /** The lines, once start() has built them. */
  get #set(): LineSet {
    // A standby runs no line: its pace and line routes answer 503 standby.
    if (!this.#lineSet && this.#ha && this.#ha.role !== "active")
      throw new SwitchboardError("standby", `this daemon is a standby of HA group ${this.#c.ha!.group}`);
    if (!this.#lineSet) throw new ClosedError("daemon (not started)");
    return this.#lineSet;
  }

  /** The lines built so far (none before start()). */
  get #built(): readonly ManagedLine[] {
    return this.#lineSet?.all ?? [];
  }

  /** The first line's pacer (each line has its own: pace()). */
  get pacer(): Pacer {
    return this.#set.primary.pacer;
  }

  get state(): DaemonState {
    return this.#state;
  }

  get historyJobs(): HistoryJobs | undefined {
    return this.#historyJobs;
  }

  get data(): DataService {
    return this.#lineSet?.primary.data ?? unavailableDataService(NOT_STARTED);
  }

  /** The data service of line `name` (undefined: the first); 400 for a line not configured. */
  dataOf(name?: string): DataService {
    if (name === undefined) return this.data;
    // A standby has no lines: a configured name is answered as not started, never another line.
    if (!this.#lineSet && this.#c.lines.some((l) => l.name === name)) return this.data;
    return this.#set.get(name).data ?? unavailableDataService(NOT_STARTED);
  }

  lineNames(): string[] {
    return this.#c.lines.map((l) => l.name);
  }

  /** The switch of the first configured line: the default of `line=`. */
  get primarySwitch(): Switch {
    return this.#set.primary.sw;
  }

  switches(): readonly Switch[] {
    return this.#built.map((l) => l.sw);
  }

  async start(): Promise<ReadyInfo> {
    if (this.#state !== "idle") throw new ClosedError("daemon (already started)");
    this.#transition("starting");
    this.#startedAt = new Date(this.#d.clock.now()).toISOString();
    this.#wireEvents();
    try {
      if (this.#c.lines.some((l) => l.upstream.kind === "mock")) {
        await listening("mockPort", "127.0.0.1", this.#c.mockPort, this.#startMock());
      }
      // An HA group's Redis must persist and our lines must be the group's: checked before
      // anything listens (a start error, exit 2).
      if (this.#c.ha !== undefined) {
        this.#checkFileJournalsForHa();
        this.#ha = await this.#prepareHa();
      } else this.#checkStrayJournals();
      this.#api = new ApiServer(this, {
        host: this.#c.host,
        port: this.#c.httpPort,
        token: this.#c.token,
        allow: this.#c.allow,
        clock: this.#d.clock,
        logger: this.#d.logger.child({ part: "api" }),
        version: this.#d.version,
      });
      if (this.#ha === undefined) await this.#activate();
      const { url } = await listening("httpPort", this.#c.host, this.#c.httpPort, this.#api.listen());
      this.#url = url;
      // The first lease call: an active daemon serves before READY (its lines reconciled, its
      // proxy ports open) unless its upstream keeps it waiting; then READY comes first (proxy
      // ports null) and a second READY follows once they are open.
      if (this.#ha) {
        await this.#ha.start();
        if (this.#ha.role === "active") {
          let timer: TimerHandle | undefined;
          await Promise.race([
            this.#ha.idle(),
            new Promise<void>((r) => (timer = this.#d.clock.setTimeout(r, HA_READY_WAIT_MS))),
          ]);
          this.#d.clock.clearTimeout(timer);
        }
      }
      this.#transition("running");
      const ready = this.#ready();
      this.#log.info(
        { ...ready, lines: this.#c.lines.map((l) => l.name) },
        `API at ${url} (dashboard ${url}/)`,
      );
      return ready;
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  #ready(): ReadyInfo {
    const role = this.#ha?.role;
    const built = this.#built;
    return {
      ...(role === undefined ? {} : { role: role === "active" ? "active" : "standby" }),
      http: this.#url,
      proxyPort: built[0]?.proxy?.port ?? null,
      proxyPorts: Object.fromEntries(
        built.flatMap((l): [string, number][] => {
          const port = l.proxy?.port;
          return port === undefined ? [] : [[l.config.name, port]];
        }),
      ),
      upstream: this.health().upstream,
      ...(this.#mock ? { mockPort: this.#mock.port, mockControlPort: this.#mock.controlPort } : {}),
      pid: this.#d.pid,
    };
  }

  /**
   * The lines (each with its switch, pacer, data service and proxy port) and history jobs: what
   * an active daemon runs. With `ha` the lines carry the group's orders, identity and client
   * ids, and every required line connects and reconciles before the proxy ports open, so no
   * client sends an order into a line that does not yet know its orders' state (an optional
   * line's order gate refuses until it has reconciled).
   */
  async #activate(): Promise<void> {
    const ha = this.#ha;
    // Opens each line's journal (a journal in use by another process is a start error).
    const set = new LineSet({
      config: this.#c,
      stateDir: this.#c.stateDir ?? defaultStateDir(this.#d.env),
      clock: this.#d.clock,
      random: this.#d.random,
      logger: this.#d.logger,
      pid: this.#d.pid,
      autoPorts: this.#d.autoPorts,
      registry: this.registry,
      mock: () => this.#mock,
      isStandaloneMock: (line) => this.#mockUpstreams.has(line),
      events: this.events,
      push: this.#push,
      ...(ha ? { ha: await ha.lineSetHa(gatewayKey) } : {}),
    });
    this.#lineSet = set;
    // Before the lines start: a recognised mock must never record a line's identity.
    await this.#warnOfStandaloneMocks();
    set.startLines();
    set.startData();
    // Jobs ask through their line's data service: the same seats, switch and pacer as HTTP callers.
    const sourceOf = (name: string | undefined) => {
      const l = set.get(name);
      return serviceSource(
        () => this.dataOf(l.config.name),
        () => this.#upstreamIdentity(l),
      );
    };
    this.#historyJobs = new HistoryJobs({
      dir: this.#c.historyDir ?? join(this.#c.stateDir ?? defaultStateDir(this.#d.env), "bars"),
      source: sourceOf(undefined),
      sourceOf,
      clock: this.#d.clock,
      emit: this.#push,
    });
    if (!ha) {
      // Each line's TWS-protocol proxy on its own port (interfaces.md "Several lines").
      await set.startProxies();
      return;
    }
    await this.#reconciled(set);
    // A taking-over daemon may find a proxy port still held (the old active on the same host,
    // not yet gone): it retries while active, never exits (reason proxy_port_busy).
    await set.startProxies(async (line, port, attempt) => {
      if (this.#ha?.role !== "active" || this.#state === "stopping" || this.#state === "stopped")
        return false;
      if (attempt === 0) {
        this.#log.warn({ line, port, reason: "proxy_port_busy" }, "proxy port busy; retrying");
        const event = {
          type: "ha.proxy_port_busy",
          ts: this.#d.clock.now(),
          line,
          port,
          reason: "proxy_port_busy",
        };
        this.#push(event);
      }
      await new Promise<void>((r) => this.#d.clock.setTimeout(r, PROXY_BUSY_RETRY_MS));
      return true;
    });
  }

  /**
   * Until every required line is ready and has reconciled its orders (or stepping down ends the
   * wait). An optional line whose gateway is down must not keep the others' proxy ports shut;
   * its own order gate refuses orders until it has reconciled.
   */
  async #reconciled(set: LineSet): Promise<void> {
    // The switch starts its reconciliation in the same turn the line turns ready.
    const done = () =>
      set.all.every((l) => !l.config.required || (l.line.state === "ready" && !l.sw.orderLane().reconciling));
    while (!done() && this.#ha?.role === "active" && this.#state !== "stopping") {
      await new Promise<void>((r) => this.#d.clock.setTimeout(r, 50));
    }
  }

  /** What an HA daemon stepping down closes: every proxy port first, then every upstream socket. */
  async #deactivate(): Promise<void> {
    const step = async (what: string, fn: () => Promise<void> | void) => {
      try {
        await fn();
      } catch (err) {
        this.#log.warn({ err }, `step-down: ${what} failed`);
      }
    };
    // One turn of the event loop first: order messages already waiting in the downstream
    // sockets (a daemon resumed after a pause) are read and refused by the closed order gate,
    // so their clients hear 201 / 399 and the refusals reach this daemon's audit stream.
    await new Promise<void>((r) => setImmediate(r));
    const set = this.#lineSet;
    this.#lineSet = undefined;
    const jobs = this.#historyJobs;
    this.#historyJobs = undefined;
    await set?.closeFrontDoors(step);
    await step("history jobs", () => jobs?.close());
    await set?.close(step);
  }

  async #prepareHa(): Promise<DaemonHa> {
    const c = this.#c as DaemonConfig & { ha: { group: string; leaseMs: number }; redis: string };
    return DaemonHa.prepare({
      config: c,
      clock: this.#d.clock,
      logger: this.#d.logger.child({ part: "ha", group: c.ha.group }),
      pid: this.#d.pid,
      push: this.#push,
      promote: () => this.#promote(),
      demote: (reason) => this.#demote(reason),
      fatal: (err) => {
        this.#log.fatal({ err }, err.message);
        void this.close().finally(() => process.exit(2));
      },
    });
  }

  /** Takeover (DaemonHa runs it when this daemon becomes its group's active one). */
  async #promote(): Promise<void> {
    if (this.#state === "stopping" || this.#state === "stopped") return;
    await this.#activate();
    // Only a daemon still active with every proxy port open says so (it may have stepped down meanwhile).
    if (this.#ha?.role !== "active" || !this.#lineSet?.proxiesOpen) return;
    const ready = this.#ready();
    this.#log.info({ ...ready }, "HA: this daemon is now the active one of its group");
    if (this.#state === "running") this.#d.onPromoted?.(ready);
  }

  async #demote(reason: StepDownReason): Promise<void> {
    this.#log.warn({ reason }, "HA: stepping down: closing every proxy port and every upstream socket");
    await this.#deactivate();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ── DaemonView ──────────────────────────────────────────────────────────────────────────

  info(): DaemonInfo {
    return {
      version: this.#d.version,
      pid: this.#d.pid,
      startedAt: this.#startedAt,
      readOnly: this.#c.readOnly,
      upstream: this.health().upstream,
      mockPort: this.#mock?.port ?? null,
      mockControlPort: this.#mock?.controlPort ?? null,
      proxyPort: this.#lineSet?.primary.proxy?.port ?? null,
      proxyPorts: Object.fromEntries(this.#built.map((l) => [l.config.name, l.proxy?.port ?? null])),
    };
  }

  lines(): LineView[] {
    return this.#built.map((l) => ({
      ...l.line.snapshot(),
      required: l.config.required,
      upstream: l.connector.target,
      identity: l.identity?.view(l.line.accounts) ?? BUILT_IN_MOCK_IDENTITY(l.line.accounts),
      proxyPort: l.proxy?.port ?? null,
      readOnly: l.config.readOnly,
      tenants: l.sw.tenants().length,
      tenantIds: l.sw.tenants().map((t) => t.id),
    }));
  }

  health(): HealthReport {
    // A standby has no lines: it is neither healthy nor down, it waits for the lease.
    if (this.#ha && this.#ha.role !== "active") return { status: "standby", upstream: "none", lines: [] };
    return healthOf(this.lines());
  }

  /** The daemon's place in its HA group (undefined without `ha`). */
  ha(): HaView | undefined {
    return this.#ha?.view();
  }

  tenants(): TenantView[] {
    return this.#built.flatMap((l) => l.sw.snapshot().tenants.map((t) => ({ ...t, line: l.config.name })));
  }

  switchCounters(): Record<string, unknown> {
    return Object.fromEntries(
      this.#built.map((l) => {
        const { tenants: _t, ...rest } = l.sw.snapshot();
        return [l.config.name, rest];
      }),
    );
  }

  fanout(): FanoutView[] {
    return this.#built.map((l) => {
      const snap = l.sw.snapshot();
      return {
        line: l.config.name,
        groups: snap.groups.map((g) => ({ ...g, line: l.config.name })),
        linesSaved: snap.linesSaved,
        cacheHits: snap.cacheHits,
      };
    });
  }

  requests(): { line: string; kind: string; outcome: string; count: number }[] {
    return this.#built.flatMap((l) => l.sw.snapshot().requests.map((r) => ({ line: l.config.name, ...r })));
  }

  switchClientId(name: string): { line: string; clientId: number; permIds: number[] } | undefined {
    const l = this.#lineSet?.find(name);
    const done = l?.line.switchClientId();
    if (!l || !done) return undefined;
    l.forsaken.add(done.clientId);
    return { line: name, ...done };
  }

  pace(line?: string): ReturnType<DaemonView["pace"]> {
    const l = this.#set.get(line);
    return {
      status: l.pacer.snapshot(),
      stats: l.pacer.stats(),
      lines: Object.fromEntries(
        this.#built.map((x) => [x.config.name, { status: x.pacer.snapshot(), stats: x.pacer.stats() }]),
      ),
    };
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────

  #transition(to: DaemonState): void {
    this.#log.debug({ from: this.#state, to }, "daemon state");
    this.#state = to;
  }

  #push = (e: BaseEvent): void => {
    this.events.push(e);
  };

  #wireEvents(): void {
    const r = this.registry;
    this.#offs.push(
      r.on("lease.granted", this.#push),
      r.on("lease.renewed", this.#push),
      r.on("lease.released", this.#push),
      r.on("lease.expired", this.#push),
    );
  }

  async #startMock(): Promise<void> {
    const mock = new MockGateway({
      host: "127.0.0.1",
      port: this.#c.mockPort,
      controlPort: 0,
      ...(this.#c.mockNow === undefined ? {} : { now: this.#c.mockNow }),
      // The built-in mock enforces the same profile the pacer schedules by.
      pacingProfile: this.#c.pacingProfile,
      pacingRules: this.#c.pacingRules,
      logger: this.#d.logger.child({ part: "mock" }),
    });
    // Set before start: a failed start (port in use) still closes what it opened.
    this.#mock = mock;
    const info = await mock.start();
    this.#log.warn(
      { mockPort: info.port, mockControlPort: info.controlPort },
      this.#c.implicitMock
        ? "NO UPSTREAM CONFIGURED: running the BUILT-IN MOCK gateway (synthetic data, no real orders). " +
            "Give --upstream host:port or --upstream auto for a real TWS / IB Gateway."
        : "upstream is the BUILT-IN MOCK gateway (synthetic data, no real orders)",
    );
  }

  /**
   * Who a line's bars come from, for a history job's dataset: the built-in mock and any
   * Switchboard mock gateway say `mock` (their bars are made up), else IB's paper or live
   * accounts of the line.
   */
  async #upstreamIdentity(l: ManagedLine): Promise<UpstreamIdentity> {
    const u = l.config.upstream;
    let endpoint: { host: string; port: number } | undefined;
    if (u.kind === "tcp") endpoint = { host: u.host, port: u.port };
    else if (u.kind === "auto") {
      const m = /^auto:(.+):(\d+)$/.exec(l.connector.target);
      if (m) endpoint = { host: m[1] as string, port: Number(m[2]) };
    }
    const mock =
      u.kind === "mock" ||
      (endpoint !== undefined && (await isSwitchboardMock(endpoint.host, endpoint.port).catch(() => false)));
    return identityOf(l.line.accounts, mock);
  }

  /**
   * `--upstream host:port` pointing at a Switchboard mock gateway (a separate process) says
   * so as loudly as the built-in mock does: synthetic data must never pass for IB's.
   */
  async #warnOfStandaloneMocks(): Promise<void> {
    const { detectMock } = await import("../doctor/checks.js");
    const { systemInspector } = await import("../doctor/owner.js");
    await Promise.all(
      this.#c.lines.map(async (cfg) => {
        const u = cfg.upstream;
        if (u.kind !== "tcp") return;
        const owner = await systemInspector()
          .inspect([u.port], new Set())
          .then((i) => i.owners.get(u.port) ?? null)
          .catch(() => null);
        const evidence = await detectMock(
          u.host,
          owner,
          [u.port + MOCK_CONTROL_OFFSET],
          MOCK_CHECK_TIMEOUT_MS,
          this.#d.clock,
        ).catch(() => null);
        if (evidence === null) return;
        this.#mockUpstreams.add(cfg.name);
        this.#log.warn(
          { line: cfg.name, upstream: upstreamText(u), evidence },
          `upstream ${upstreamText(u)} of line ${cfg.name} is a Switchboard MOCK gateway ` +
            "(synthetic data, no real orders), not TWS / IB Gateway",
        );
      }),
    );
  }

  /**
   * A journal of a line that is no longer configured: a start error if it still holds live
   * orders (they would be forgotten while TWS works them), else a warning.
   */
  #checkStrayJournals(): void {
    const stateDir = this.#c.stateDir ?? defaultStateDir(this.#d.env);
    const names = this.#c.lines.map((l) => l.name);
    for (const stray of FileOrderJournal.strays(stateDir, names)) {
      if (stray.live > 0) {
        throw new ConfigError(
          "lines",
          `${stray.path} holds ${stray.live} live order(s) of line "${stray.line}", which is not in the config: ` +
            `configure that line again so its orders are reconciled, or if you renamed it, move its journal to the new name ` +
            `with \`switchboard lines rename ${stray.line} <new>\` (\`switchboard lines forget ${stray.line}\`, which clears a line's identity, is refused while they are live)`,
        );
      }
      this.#log.warn(
        { line: stray.line, path: stray.path },
        "order journal of a line not in the config (no live orders)",
      );
    }
  }

  /**
   * An HA group keeps its orders in Redis: a file journal in the state dir that still holds
   * live orders (the daemon ran without `ha` before) would be ignored, and a client's modify of
   * such an order would reach TWS as a new order. A start error until those orders are done.
   */
  #checkFileJournalsForHa(): void {
    const stateDir = this.#c.stateDir ?? defaultStateDir(this.#d.env);
    for (const journal of FileOrderJournal.strays(stateDir, [])) {
      if (journal.live === 0) continue;
      throw new ConfigError(
        "ha",
        `${journal.path} holds ${journal.live} live order(s) of line "${journal.line}" in a file journal, which an HA group does not read ` +
          `(its orders live in Redis): start this daemon without \`ha\` until those orders are filled or cancelled, then start it with \`ha\``,
      );
    }
  }

  async #shutdown(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#transition("stopping");
    const step = async (what: string, fn: () => Promise<void> | void) => {
      try {
        await fn();
      } catch (err) {
        this.#log.warn({ err }, `shutdown: ${what} failed`);
      }
    };
    await step("api", () => this.#api?.close());
    // An active HA daemon steps down (closing its proxy ports and lines) and releases the
    // lease, so a standby takes over at once.
    await step("ha", () => this.#ha?.close());
    // Jobs stop resumably: their requests in flight finish on the still-open line.
    await step("history jobs", () => this.#historyJobs?.close());
    // Downstreams go before the switches, so their subscriptions are cancelled on a live line.
    await this.#lineSet?.closeFrontDoors(step);
    await this.#lineSet?.close(step);
    await step("mock", () => this.#mock?.close());
    for (const off of this.#offs.splice(0)) off();
    await step("registry", () => this.registry.close());
    this.#transition("stopped");
    this.#log.info("stopped");
  }
}

/** The mock's control API sits 100 above its API port by convention (4002 → 4102). */
const MOCK_CONTROL_OFFSET = 100;
/** The built-in mock line has no identity to hold: it says "mock". */
const BUILT_IN_MOCK_IDENTITY = (accounts: readonly string[]): IdentityView => ({
  mode: "mock",
  accounts: [...accounts].sort(),
  source: "mock",
  pinned: null,
});
const MOCK_CHECK_TIMEOUT_MS = 1_000;
const NOT_STARTED = "the daemon has not started its data service";

export type { LineView };
