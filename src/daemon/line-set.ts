/**
 * The daemon's lines, side by side (paper and live, a second account): each configured line
 * with its own switch, its own pacer and its own proxy port, and the data service the HTTP
 * routes use on it. Lines on one TWS (same host:port, or the built-in mock) share one
 * GatewayBudget: the rules IB counts per TWS; the 50 messages/s is each connection's own.
 *
 * Invariants:
 * - every line has a proxy of its own once started; a tenant of a line's proxy reaches only
 *   that line's switch (its accounts, orders and data);
 * - tenant ids are unique in the daemon (one counter for every switch);
 * - a line is looked up by name; an unknown name is a 400 naming the configured lines, never
 *   a silent fall back to another line (paper is never served as live, nor the reverse);
 * - the first configured line is the default of every route that takes `line=`.
 */
import { join } from "node:path";
import type { Clock } from "../clock.js";
import type { DaemonConfig, LineConfig } from "../config/index.js";
import { SwitchboardError } from "../errors.js";
import type { BaseEvent } from "../events.js";
import type { Logger } from "../logger.js";
import type { MockGateway } from "../mock/gateway.js";
import { GatewayBudget } from "../pacing/gateway-budget.js";
import { FilePacerMemory, PACER_MEMORY_FILE } from "../pacing/memory.js";
import { type PacingRules, resolveRules } from "../pacing/rules.js";
import { DEFAULT_GUARD_FRACTION, DEFAULT_GUARD_MIN_MS, Pacer } from "../pacing/scheduler.js";
import type { Registry } from "../registry/registry.js";
import { clientDataService } from "./data.js";
import type { LineSetHa } from "./ha.js";
import { type ManagedLine, makeManagedLine } from "./managed-line.js";
import { listening } from "./port-in-use.js";
import { startDaemonProxy } from "./proxy.js";
import { WaitDigest } from "./wait-digest.js";
import type { EventLog } from "./event-log.js";

export interface LineSetDeps {
  config: DaemonConfig;
  stateDir: string;
  clock: Clock;
  random: () => number;
  logger: Logger;
  pid: number;
  autoPorts: readonly number[] | undefined;
  registry: Registry;
  mock: () => MockGateway | undefined;
  isStandaloneMock: (line: string) => boolean;
  events: EventLog;
  push: (e: BaseEvent) => void;
  /**
   * With `ha` (built by the group's active daemon only): each line's group state, and the
   * pacer memory of each TWS in the group's Redis instead of a file.
   */
  ha?: LineSetHa;
}

/** A `line=` that names no configured line: 400, naming the lines there are. */
export class UnknownLineError extends SwitchboardError {
  constructor(name: string, known: readonly string[]) {
    super("invalid_argument", `no line "${name}"; configured lines: ${known.join(", ")}`, { field: "line" });
  }
}

/** Names of this host's loopback interface: one TWS however the config spells it. */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "0:0:0:0:0:0:0:1"]);

/** Which TWS a line talks to, for the rules IB counts per TWS. `auto` lines count alone. */
export function gatewayKey(cfg: LineConfig): string {
  const u = cfg.upstream;
  if (u.kind === "tcp") {
    const host = u.host.toLowerCase();
    return `${LOOPBACK.has(host) ? "127.0.0.1" : host}:${u.port}`;
  }
  if (u.kind === "mock") return "mock";
  // Where `auto` lands is known only once it finds a gateway: counted as a TWS of its own.
  return `auto:${cfg.name}`;
}

export class LineSet {
  readonly #lines: ManagedLine[] = [];
  readonly #budgets = new Map<string, GatewayBudget>();
  readonly #offs: (() => void)[] = [];
  readonly #d: LineSetDeps;
  /** Front doors closing: no proxy port opens any more. */
  #closed = false;

  constructor(d: LineSetDeps) {
    this.#d = d;
    const { config, clock } = d;
    const rules = resolveRules({ profile: config.pacingProfile, override: config.pacingRules });
    // One tenant counter for every switch: a tenant id names one tenant in the whole daemon.
    let tenants = 1;
    const nextTenantNumber = () => tenants++;
    // Single waits reach the event ring as one digest per line and rule per second.
    const waits = new WaitDigest(clock, (e) => d.events.push(e));
    this.#offs.push(() => waits.close());
    try {
      for (const cfg of config.lines) this.#lines.push(this.#build(cfg, rules, waits, nextTenantNumber));
    } catch (err) {
      // A journal that cannot be opened is a start error: close what the earlier lines opened.
      for (const l of this.#lines) {
        l.journal.close();
        l.audit.close();
        l.pacer.destroy();
      }
      for (const off of this.#offs.splice(0)) off();
      throw err;
    }
  }

  #build(
    cfg: LineConfig,
    rules: PacingRules,
    waits: WaitDigest,
    nextTenantNumber: () => number,
  ): ManagedLine {
    const d = this.#d;
    const { config, clock } = d;
    const key = gatewayKey(cfg);
    const onOneGateway = new Set(config.lines.map(gatewayKey)).size === 1;
    let budget = this.#budgets.get(key);
    if (!budget) {
      // A daemon with one TWS keeps the file it always used; with several, each TWS's file is
      // named after it, so the windows stay with their TWS whatever order the lines are in.
      const file = onOneGateway
        ? PACER_MEMORY_FILE
        : `pacer-memory-${key.replace(/[^A-Za-z0-9.-]/g, "_")}.json`;
      budget = new GatewayBudget({
        rules,
        // The pacer's own mode (targets, the default guard): the budget schedules, never enforces.
        mode: {
          useTarget: true,
          guardMs: (w) => Math.ceil(Math.max(DEFAULT_GUARD_MIN_MS, w * DEFAULT_GUARD_FRACTION)),
        },
        // IB counts the historical windows, not us: a restart must not spend them again.
        memory:
          d.ha?.pacerMemory(key) ??
          new FilePacerMemory(join(d.stateDir, file), (message) =>
            d.logger.child({ part: "daemon" }).warn(message),
          ),
        now: clock.now(),
        name: key,
      });
      this.#budgets.set(key, budget);
    }
    const pacer = new Pacer({ clock, rules, gateway: budget, line: cfg.name });
    this.#offs.push(
      pacer.events.on("pacer.wait", (e) => {
        d.events.observe(e);
        waits.add(e);
      }),
      pacer.events.on("pacer.violation", d.push),
    );
    return makeManagedLine(cfg, {
      config,
      stateDir: d.stateDir,
      clock,
      random: d.random,
      logger: d.logger,
      pid: d.pid,
      autoPorts: d.autoPorts,
      registry: d.registry,
      mock: d.mock,
      isStandaloneMock: d.isStandaloneMock,
      pacer,
      nextTenantNumber,
      push: d.push,
      offs: this.#offs,
      ...(d.ha?.lines.get(cfg.name) ? { ha: d.ha.lines.get(cfg.name)! } : {}),
    });
  }

  /** The first configured line: the default of every `line=`. */
  get primary(): ManagedLine {
    return this.#lines[0]!;
  }

  get all(): readonly ManagedLine[] {
    return this.#lines;
  }

  get names(): string[] {
    return this.#lines.map((l) => l.config.name);
  }

  /** The line called `name` (undefined: the first); UnknownLineError for a name not configured. */
  get(name?: string): ManagedLine {
    if (name === undefined) return this.primary;
    const l = this.#lines.find((x) => x.config.name === name);
    if (!l) throw new UnknownLineError(name, this.names);
    return l;
  }

  find(name: string): ManagedLine | undefined {
    return this.#lines.find((x) => x.config.name === name);
  }

  startLines(): void {
    for (const l of this.#lines) l.line.start();
  }

  /** Each line's data service (the HTTP data routes and history jobs ask through it). */
  startData(): void {
    for (const l of this.#lines) {
      l.data ??= clientDataService({
        sw: l.sw,
        pacer: l.pacer,
        clock: this.#d.clock,
        version: () => l.line.serverVersion,
        line: l.line,
      });
    }
  }

  /**
   * Every line's proxy on its own port; a port in use names that line's config key. With
   * `whileBusy` (an HA daemon taking over, the old active maybe not yet gone) a busy port is
   * retried for as long as it answers true; false stops opening ports.
   */
  async startProxies(
    whileBusy?: (line: string, port: number, attempt: number) => Promise<boolean>,
  ): Promise<Record<string, number>> {
    for (const l of this.#lines) {
      for (let attempt = 0; ; attempt++) {
        if (this.#closed) break;
        try {
          const proxy = await this.#openProxy(l);
          // Closed while the port opened (an HA step-down): never leave a port open.
          if (this.#closed) await proxy.close();
          else l.proxy = proxy;
          break;
        } catch (err) {
          const busy =
            err instanceof SwitchboardError &&
            err.code === "invalid_argument" &&
            (err as { field?: unknown }).field === l.config.proxyPortKey;
          if (!whileBusy || !busy) throw err;
          if (!(await whileBusy(l.config.name, l.config.proxyPort, attempt))) break;
        }
      }
    }
    return Object.fromEntries(this.#lines.map((l) => [l.config.name, l.proxy?.port ?? 0]));
  }

  /** Whether every line has its proxy port open. */
  get proxiesOpen(): boolean {
    return this.#lines.every((l) => l.proxy !== undefined);
  }

  #openProxy(l: ManagedLine) {
    const c = this.#d.config;
    return listening(
      l.config.proxyPortKey,
      c.host,
      l.config.proxyPort,
      startDaemonProxy({
        config: {
          host: c.host,
          proxyPort: l.config.proxyPort,
          allow: c.allow,
          strictClientIds: c.strictClientIds,
        },
        sw: l.sw,
        pacer: l.pacer,
        clock: this.#d.clock,
        logger: this.#d.logger.child({ lineId: l.config.name }),
        push: (e) => {
          const named = { ...e, line: l.config.name };
          this.#d.push(named);
        },
      }),
    );
  }

  /** Downstreams first (their subscriptions are cancelled on live lines), then data seats. */
  async closeFrontDoors(
    step: (what: string, fn: () => Promise<void> | void) => Promise<void>,
  ): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#lines.map((l) => step(`proxy ${l.config.name}`, () => l.proxy?.close())));
    await Promise.all(this.#lines.map((l) => step(`data ${l.config.name}`, () => l.data?.close())));
  }

  async close(step: (what: string, fn: () => Promise<void> | void) => Promise<void>): Promise<void> {
    await Promise.all(this.#lines.map((l) => step(`switch ${l.config.name}`, () => l.sw.close())));
    await Promise.all(this.#lines.map((l) => step(`line ${l.config.name}`, () => l.line.close())));
    for (const l of this.#lines) {
      await step(`order audit ${l.config.name}`, () => l.audit.close());
      await step(`order journal ${l.config.name}`, () => l.journal.close());
      await step(`pacer ${l.config.name}`, () => l.pacer.destroy());
    }
    for (const off of this.#offs.splice(0)) off();
  }
}
