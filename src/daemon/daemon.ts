/**
 * The daemon: the lines (one per configured upstream), the lease registry, the pacer, the
 * built-in mock when no upstream is configured, the event log, and the HTTP API over all of
 * them. start() brings everything up in order; close() takes it down in reverse (API first so
 * nothing new arrives, then lines, which release their client ids, then the mock and the
 * registry). One #transition writes the state.
 */

import { join } from "node:path";
import type { DataService } from "../api/data-service.js";
import { unavailableDataService } from "../api/data-service.js";
import { ApiServer } from "../api/server.js";
import type { DaemonInfo, DaemonView, FanoutView, TenantView } from "../api/view.js";
import type { Clock, TimerHandle } from "../clock.js";
import { AUTO_PORTS, type DaemonConfig, type LineConfig, upstreamText } from "../config/index.js";
import { ConfigError } from "../config/load.js";
import { ClosedError } from "../errors.js";
import type { BaseEvent } from "../events.js";
import type { Connector } from "../line/connector.js";
import { IdentityGuard, type IdentityView } from "../line/identity-guard.js";
import type { LineIdentity } from "../line/identity.js";
import { Line } from "../line/line.js";
import type { Logger } from "../logger.js";
import { MockGateway } from "../mock/gateway.js";
import { resolveRules } from "../pacing/rules.js";
import { FilePacerMemory, PACER_MEMORY_FILE } from "../pacing/memory.js";
import { Pacer } from "../pacing/scheduler.js";
import type { ProxyServer } from "../proxy/proxy-server.js";
import { FileLeaseStore } from "../registry/file-store.js";
import { lazyRedisLeaseStore } from "../registry/lazy-redis-store.js";
import { Registry } from "../registry/registry.js";
import { defaultStateDir } from "../registry/state-dir.js";
import { FileOrderAudit } from "../orders/audit.js";
import { identityOf, type UpstreamIdentity } from "../history/dataset.js";
import { HistoryJobs } from "../history/jobs.js";
import { isSwitchboardMock } from "../history/mock-detect.js";
import { serviceSource } from "../history/service-source.js";
import { FileOrderJournal } from "../orders/journal.js";
import type { NewOrder } from "../switch/order-map.js";
import type { OrderAudit, OrderJournal } from "../switch/order-journal.js";
import { groupLeaseOwner } from "../ha/keys.js";
import type { StepDownReason } from "../ha/role.js";
import { DaemonHa, type HaView } from "./ha.js";
import { RedisPacerMemory } from "../ha/pacer-memory.js";
import { Switch } from "../switch/switch.js";
import { registryClientIds } from "./client-ids.js";
import { clientDataService } from "./data.js";
import { EventLog } from "./event-log.js";
import { WaitDigest } from "./wait-digest.js";
import { type HealthReport, healthOf, type LineView } from "./health.js";
import { listening } from "./port-in-use.js";
import { startDaemonProxy } from "./proxy.js";
import { autoConnector, hostPortConnector, mockConnector } from "./upstream.js";

/** How long an HA daemon active at start waits for its lines before printing READY anyway. */
export const HA_READY_WAIT_MS = 5_000;

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

/** A line's order journal: the file one, or an HA group's in Redis. */
type LineJournal = OrderJournal & {
  identity(): LineIdentity | undefined;
  recordIdentity(i: LineIdentity): void | Promise<void>;
  close(): void;
  readonly orphaned?: readonly NewOrder[];
};
type LineAudit = OrderAudit & { close(): void | Promise<void> };

export interface ReadyInfo {
  /** With `ha`: this daemon's role when the line is printed (a standby prints a second one on promotion). */
  role?: "active" | "standby";
  http: string;
  proxyPort: number | null;
  upstream: string;
  mockPort?: number;
  mockControlPort?: number | null;
  pid: number;
}

/** The data routes' implementation (it opens its tenant on the primary switch). */
export interface DataAttachment extends DataService {
  close(): Promise<void>;
}

interface ManagedLine {
  readonly config: LineConfig;
  readonly line: Line;
  readonly connector: Connector;
  /** Tenants share the line through its switch. */
  readonly sw: Switch;
  readonly journal: LineJournal;
  readonly audit: LineAudit;
  /** The identity the line holds to; undefined on the built-in mock (it has none). */
  readonly identity: IdentityGuard | undefined;
  /** Client ids the user forced the line off: their orders are orphaned, never held again. */
  readonly forsaken: Set<number>;
}

export class Daemon implements DaemonView, AsyncDisposable {
  readonly events = new EventLog();
  readonly registry: Registry;
  readonly pacer: Pacer;
  readonly #c: DaemonConfig;
  readonly #d: DaemonDeps;
  readonly #log: Logger;
  readonly #lines: ManagedLine[] = [];
  readonly #offs: (() => void)[] = [];
  /** Single pacer waits reach the event ring as one digest per rule per second. */
  readonly #waits: WaitDigest;
  #state: DaemonState = "idle";
  #mock: MockGateway | undefined;
  #proxy: ProxyServer | undefined;
  #api: ApiServer | undefined;
  #attachment: DataAttachment | undefined;
  #historyJobs: HistoryJobs | undefined;
  #startedAt = "";
  #url = "";
  #closing: Promise<void> | undefined;
  /** Lines whose host:port upstream is a Switchboard mock process (found at start). */
  readonly #mockUpstreams = new Set<string>();
  /** With `ha`: the group membership; lines exist only while this daemon is active. */
  #ha: DaemonHa | undefined;
  /** With `ha`: leases the group's line client ids (token = the daemon's group secret). */
  #haRegistry: Registry | undefined;
  /** With `ha`: IB's historical windows, in the group's Redis. */
  readonly #haPacerMemory = new RedisPacerMemory((message) => this.#log.warn(message));
  /** Listeners of the current lines (dropped when an HA daemon steps down). */
  #lineOffs: (() => void)[] = [];

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
    this.pacer = new Pacer({
      clock: deps.clock,
      rules: resolveRules({ profile: config.pacingProfile, override: config.pacingRules }),
      // IB counts the historical windows, not us: a restart (or an HA takeover) must not
      // spend them again.
      memory:
        config.ha === undefined
          ? new FilePacerMemory(
              join(config.stateDir ?? defaultStateDir(deps.env), PACER_MEMORY_FILE),
              (message) => this.#log.warn(message),
            )
          : this.#haPacerMemory,
    });
    this.#waits = new WaitDigest(deps.clock, (e) => this.events.push(e));
  }

  get state(): DaemonState {
    return this.#state;
  }

  get historyJobs(): HistoryJobs | undefined {
    return this.#historyJobs;
  }

  get data(): DataService {
    return this.#attachment ?? unavailableDataService(NOT_STARTED);
  }

  /** The switch of the first configured line: the one the data routes use. */
  get primarySwitch(): Switch {
    const first = this.#lines[0];
    if (!first) throw new ClosedError("daemon (not started)");
    return first.sw;
  }

  switches(): readonly Switch[] {
    return this.#lines.map((l) => l.sw);
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
      if (this.#c.ha !== undefined) this.#ha = await this.#prepareHa();
      else this.#checkStrayJournals();
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
      // proxy open) unless its upstream keeps it waiting; then READY comes first (proxyPort
      // null) and a second READY follows once the proxy is open.
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
    return {
      ...(role === undefined ? {} : { role: role === "active" ? "active" : "standby" }),
      http: this.#url,
      proxyPort: this.#proxy?.port ?? null,
      upstream: this.health().upstream,
      ...(this.#mock ? { mockPort: this.#mock.port, mockControlPort: this.#mock.controlPort } : {}),
      pid: this.#d.pid,
    };
  }

  async #prepareHa(): Promise<DaemonHa> {
    const c = this.#c as DaemonConfig & { ha: { group: string; leaseMs: number }; redis: string };
    const ha = await DaemonHa.prepare({
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
    this.#haPacerMemory.attach(ha.lease, () => ha.keeper.role.token);
    this.#haRegistry = new Registry({
      store: lazyRedisLeaseStore({ url: c.redis }),
      purposes: c.purposes,
      clock: this.#d.clock,
      sweepIntervalMs: 0,
      newToken: () => ha.secret,
    });
    return ha;
  }

  /**
   * Takeover: the lines with the group's orders, identity and client ids; they connect and
   * reconcile before the proxy ports open, so no client sends an order into a line that does
   * not yet know its orders' state.
   */
  async #promote(): Promise<void> {
    if (this.#state === "stopping" || this.#state === "stopped") return;
    // What the old active spent of IB's historical windows at the same TWS.
    await this.#haPacerMemory.refresh();
    this.pacer.restoreMemory();
    await this.#activate();
    // Only a daemon still active with its proxy open says so (it may have stepped down meanwhile).
    if (this.#ha?.role !== "active" || !this.#proxy) return;
    const ready = this.#ready();
    this.#log.info({ ...ready }, "HA: this daemon is now the active one of its group");
    if (this.#state === "running") this.#d.onPromoted?.(ready);
  }

  async #demote(reason: StepDownReason): Promise<void> {
    this.#log.warn({ reason }, "HA: stepping down: closing the proxy ports and every upstream socket");
    await this.#deactivate();
  }

  /** Lines, data service, history jobs and the proxy: what an active daemon runs. */
  async #activate(): Promise<void> {
    for (const cfg of this.#c.lines) this.#lines.push(await this.#makeLine(cfg));
    // Before the lines start: a recognised mock must never record a line's identity.
    await this.#warnOfStandaloneMocks();
    for (const l of this.#lines) l.line.start();
    const primary = this.#lines[0]!;
    this.#attachment = clientDataService({
      sw: primary.sw,
      pacer: this.pacer,
      clock: this.#d.clock,
      version: () => primary.line.serverVersion,
      line: primary.line,
    });
    // Jobs ask through the data service: the same seats, switch and pacer as HTTP callers.
    this.#historyJobs = new HistoryJobs({
      dir: this.#c.historyDir ?? join(this.#c.stateDir ?? defaultStateDir(this.#d.env), "bars"),
      source: serviceSource(
        () => this.data,
        () => this.#upstreamIdentity(primary),
      ),
      clock: this.#d.clock,
      emit: this.#push,
    });
    if (this.#ha) await this.#reconciled();
    // The TWS-protocol proxy serves the primary line's switch (interfaces.md "Proxy port").
    const open = () =>
      listening(
        "proxyPort",
        this.#c.host,
        this.#c.proxyPort,
        startDaemonProxy({
          config: this.#c,
          sw: this.primarySwitch,
          pacer: this.pacer,
          clock: this.#d.clock,
          logger: this.#d.logger,
          push: this.#push,
        }),
      );
    this.#proxy = this.#ha ? await this.#openProxyRetrying(open) : await open();
  }

  /** Until every line is ready and has reconciled its orders (or stepping down ends the wait). */
  async #reconciled(): Promise<void> {
    const done = () =>
      this.#lines.every((l) => {
        const lane = l.sw.orderLane();
        // The switch starts its reconciliation in the same turn the line turns ready.
        return l.line.state === "ready" && !lane.reconciling;
      });
    while (!done() && this.#ha?.role === "active" && this.#state !== "stopping") {
      await new Promise<void>((r) => this.#d.clock.setTimeout(r, 50));
    }
  }

  /**
   * An HA daemon taking over may find its proxy port still held (the old active on the same
   * host, not yet gone): it retries, never exits (reason proxy_port_busy).
   */
  async #openProxyRetrying(open: () => Promise<ProxyServer>): Promise<ProxyServer | undefined> {
    for (let attempt = 0; ; attempt++) {
      if (this.#ha?.role !== "active" || this.#state === "stopping" || this.#state === "stopped")
        return undefined;
      try {
        return await open();
      } catch (err) {
        if (
          (err as { code?: unknown }).code !== "invalid_argument" ||
          (err as { field?: unknown }).field !== "proxyPort"
        )
          throw err;
        if (attempt === 0) {
          this.#log.warn({ port: this.#c.proxyPort, reason: "proxy_port_busy" }, "proxy port busy; retrying");
          this.#push({
            type: "ha.proxy_port_busy",
            ts: this.#d.clock.now(),
            port: this.#c.proxyPort,
            reason: "proxy_port_busy",
          } as BaseEvent);
        }
        await new Promise<void>((r) => this.#d.clock.setTimeout(r, 250));
      }
    }
  }

  /** What an HA daemon stepping down closes: the proxy ports first, then every upstream socket. */
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
    const lines = this.#lines.splice(0);
    const proxy = this.#proxy;
    this.#proxy = undefined;
    const jobs = this.#historyJobs;
    this.#historyJobs = undefined;
    const attachment = this.#attachment;
    this.#attachment = undefined;
    await step("proxy", () => proxy?.close());
    await step("history jobs", () => jobs?.close());
    await step("data", () => attachment?.close());
    await Promise.all(lines.map((l) => step(`switch ${l.config.name}`, () => l.sw.close())));
    await Promise.all(lines.map((l) => step(`line ${l.config.name}`, () => l.line.close())));
    for (const l of lines) {
      await step(`order audit ${l.config.name}`, () => l.audit.close());
      await step(`order journal ${l.config.name}`, () => l.journal.close());
    }
    for (const off of this.#lineOffs.splice(0)) off();
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
      proxyPort: this.#proxy?.port ?? null,
    };
  }

  lines(): LineView[] {
    return this.#lines.map((l) => ({
      ...l.line.snapshot(),
      required: l.config.required,
      upstream: l.connector.target,
      identity: l.identity?.view(l.line.accounts) ?? BUILT_IN_MOCK_IDENTITY(l.line.accounts),
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
    return this.#lines.flatMap((l) => l.sw.snapshot().tenants.map((t) => ({ ...t, line: l.config.name })));
  }

  switchCounters(): Record<string, unknown> {
    return Object.fromEntries(
      this.#lines.map((l) => {
        const { tenants: _t, ...rest } = l.sw.snapshot();
        return [l.config.name, rest];
      }),
    );
  }

  fanout(): FanoutView[] {
    return this.#lines.map((l) => {
      const snap = l.sw.snapshot();
      return {
        line: l.config.name,
        groups: snap.groups.map((g) => ({ ...g, line: l.config.name })),
        linesSaved: snap.linesSaved,
        cacheHits: snap.cacheHits,
      };
    });
  }

  requests(): { kind: string; outcome: string; count: number }[] {
    const sum = new Map<string, { kind: string; outcome: string; count: number }>();
    for (const l of this.#lines) {
      for (const r of l.sw.snapshot().requests) {
        const key = `${r.kind}|${r.outcome}`;
        const row = sum.get(key) ?? { kind: r.kind, outcome: r.outcome, count: 0 };
        row.count += r.count;
        sum.set(key, row);
      }
    }
    return [...sum.values()];
  }

  switchClientId(name: string): { line: string; clientId: number; permIds: number[] } | undefined {
    const l = this.#lines.find((x) => x.config.name === name);
    const done = l?.line.switchClientId();
    if (!l || !done) return undefined;
    l.forsaken.add(done.clientId);
    return { line: name, ...done };
  }

  pace(): ReturnType<DaemonView["pace"]> {
    return { status: this.pacer.snapshot(), stats: this.pacer.stats() };
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────

  /** The client id the group holds on `line` (its lease passed to us with the HA lease), if any. */
  async #groupClientId(line: string): Promise<number | undefined> {
    const reg = this.#haRegistry;
    const ha = this.#ha;
    if (!reg || !ha) return undefined;
    try {
      const leases = await reg.list();
      return leases.find((l) => l.upstream === line && l.owner === groupLeaseOwner(this.#c.ha!.group))
        ?.clientId;
    } catch (err) {
      this.#log.warn({ err, line }, "HA: cannot list the group's client-id leases");
      return undefined;
    }
  }

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
      this.pacer.events.on("pacer.wait", (e) => {
        this.events.observe(e);
        this.#waits.add(e);
      }),
      () => this.#waits.close(),
      this.pacer.events.on("pacer.violation", this.#push),
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

  async #makeLine(cfg: LineConfig): Promise<ManagedLine> {
    const { clock, random } = this.#d;
    const logger = this.#d.logger;
    const stateDir = this.#c.stateDir ?? defaultStateDir(this.#d.env);
    const ha = this.#ha;
    // Opened before the line: a journal in use by another process, or unreadable, is a start
    // error, and the line must know at once which client id holds live orders and which
    // identity it holds to. An HA group's journal is in Redis (loaded at takeover).
    const journal: LineJournal = ha
      ? await ha.journal(cfg.name)
      : FileOrderJournal.open({ stateDir, line: cfg.name, now: () => clock.now() });
    // The group's lease on this line's client id (handed to us with the HA lease), if any.
    const groupId = ha ? await this.#groupClientId(cfg.name) : undefined;
    const pin = {
      ...(cfg.mode === undefined ? {} : { mode: cfg.mode }),
      ...(cfg.accounts === undefined ? {} : { accounts: cfg.accounts }),
    };
    const store = {
      load: () => journal.identity(),
      record: (i: LineIdentity) => {
        try {
          const done = journal.recordIdentity(i);
          if (done instanceof Promise)
            done.catch((err: unknown) =>
              this.#log.error(
                { err, line: cfg.name, identity: i },
                "cannot record the line's identity in Redis",
              ),
            );
        } catch (err) {
          // The line still holds to it for this run; only a restart would not know it.
          this.#log.error(
            { err, line: cfg.name, identity: i },
            "cannot record the line's identity in its journal",
          );
        }
      },
    };
    let connector: Connector;
    let identity: IdentityGuard | undefined;
    if (cfg.upstream.kind === "mock") {
      const mock = this.#mock!;
      connector = mockConnector(() => mock.port);
    } else if (cfg.upstream.kind === "auto") {
      const guard = new IdentityGuard({ pin, store, isMock: () => auto.foundMock });
      const auto = autoConnector({
        ports: this.#d.autoPorts ?? this.#c.autoPorts ?? AUTO_PORTS,
        allowMock: this.#c.allowMock,
        clock,
        random,
        logger,
        identity: guard,
      });
      connector = auto;
      identity = guard;
    } else {
      connector = hostPortConnector(cfg.upstream.host, cfg.upstream.port);
      identity = new IdentityGuard({ pin, store, isMock: () => this.#mockUpstreams.has(cfg.name) });
    }
    if (identity) {
      this.#log.info(
        { line: cfg.name, identity: identity.view([]) },
        `line ${cfg.name} holds to identity ${identity.describe()}`,
      );
    }
    const audit: LineAudit = ha ? ha.audit() : new FileOrderAudit({ stateDir, line: cfg.name });
    if (journal.orphaned && journal.orphaned.length > 0) {
      this.#log.error(
        {
          line: cfg.name,
          orders: journal.orphaned.map((o) => ({ owner: o.owner, upstreamId: o.upstreamId })),
        },
        "imported orders of per-run owners: they are reported as orphaned and never matched to a client",
      );
    }
    const built: { sw?: Switch } = {};
    const forsaken = new Set<number>();
    const line: Line = new Line({
      name: cfg.name,
      connector,
      // Live orders under the line's id keep it: on 326 the line waits, it never switches.
      placedOrders: (): number[] => {
        const clientId = line.clientId;
        const live = built.sw?.liveOrders() ?? [];
        return live
          .filter((o) => clientId === undefined || o.upstreamClientId === clientId)
          .map((o) => o.permId);
      },
      // Leases are scoped by line name: the line called "default" shares the CLI's default scope.
      clientIds: registryClientIds({
        registry: this.#haRegistry ?? this.registry,
        upstream: () => cfg.name,
        // An HA group's line ids belong to the group (TTL only, kept alive by the HA lease) and
        // stay with it when this daemon steps down: the next active connects with the same ids.
        owner: ha ? groupLeaseOwner(this.#c.ha!.group) : `switchboard-daemon/${cfg.name}`,
        pid: ha ? undefined : this.#d.pid,
        ...(ha ? { adoptToken: ha.secret, keepOnRelease: true } : {}),
        random,
        clock,
        logger,
        // The lease of the line's id lost, or held by someone else: on the event stream.
        onConflict: (c) => {
          const event = { type: "lease.conflict", ts: clock.now(), line: cfg.name, ...c };
          this.#push(event);
        },
        // Live orders from the journal: the line comes back on their client id.
        heldId: () =>
          heldClientId(
            (built.sw?.liveOrders() ?? journal.load().orders).filter(
              (o) => !forsaken.has(o.upstreamClientId),
            ),
          ) ?? groupId,
      }),
      ...(identity ? { identity } : {}),
      clock,
      random,
      logger,
    });
    this.#lineOffs.push(
      line.on("line.state", this.#push),
      line.on("line.notice", this.#push),
      line.on("line.resubscribe", this.#push),
      line.on("orders.orphaned", this.#push),
      line.on("line.identity_changed", this.#push),
    );
    const sw = new Switch(line, this.pacer, {
      clock,
      logger: logger.child({ part: "switch", lineId: cfg.name }),
      readOnly: this.#c.readOnly,
      journal,
      audit,
      ...(ha ? { orderGate: () => ha.gate() } : {}),
      ...(this.#c.historyCacheMs === undefined ? {} : { historyCacheMs: this.#c.historyCacheMs }),
      ...(this.#c.contractCacheMs === undefined ? {} : { contractCacheMs: this.#c.contractCacheMs }),
    });
    built.sw = sw;
    this.#lineOffs.push(
      sw.events.on("tenant.open", this.#push),
      sw.events.on("tenant.close", this.#push),
      sw.events.on("switch.replayed", this.#push),
      sw.events.on("order.shared_owner", this.#push),
    );
    this.#log.info(
      { line: cfg.name, upstream: upstreamText(cfg.upstream), required: cfg.required },
      "line configured",
    );
    return { config: cfg, line, connector, sw, journal, audit, identity, forsaken };
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
    // An active HA daemon steps down (closing its proxy and lines) and releases the lease, so a
    // standby takes over at once.
    await step("ha", () => this.#ha?.close());
    // Jobs stop resumably: their requests in flight finish on the still-open line.
    await step("history jobs", () => this.#historyJobs?.close());
    // Downstreams go before the switches, so their subscriptions are cancelled on a live line.
    await step("proxy", () => this.#proxy?.close());
    await step("data", () => this.#attachment?.close());
    await Promise.all(this.#lines.map((l) => step(`switch ${l.config.name}`, () => l.sw.close())));
    await Promise.all(this.#lines.map((l) => step(`line ${l.config.name}`, () => l.line.close())));
    for (const l of this.#lines) {
      await step(`order audit ${l.config.name}`, () => l.audit.close());
      await step(`order journal ${l.config.name}`, () => l.journal.close());
    }
    await step("pacer", () => this.pacer.destroy());
    await step("mock", () => this.#mock?.close());
    for (const off of [...this.#offs.splice(0), ...this.#lineOffs.splice(0)]) off();
    await step("registry", () => this.registry.close());
    await step("ha registry", () => this.#haRegistry?.close());
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

/**
 * The client id a line must hold: the one of its newest live orders (an old forced switch may
 * have left orders under two ids; the others are reported as orphaned).
 */
function heldClientId(
  orders: readonly { upstreamClientId: number; upstreamId: number; state?: string }[],
): number | undefined {
  let newest: { upstreamClientId: number; upstreamId: number } | undefined;
  for (const o of orders) {
    if (o.state === "finished" || o.state === "refused") continue;
    if (!newest || o.upstreamId > newest.upstreamId) newest = o;
  }
  return newest?.upstreamClientId;
}
