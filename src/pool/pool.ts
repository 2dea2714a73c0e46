/**
 * Switchboard as a library: one managed line, its pacer and switch, and a pool that hands
 * out clients by purpose. `await using client = await sb.acquire("price-agent")` gives a
 * tenant on the shared line; disposing it cancels whatever it left open upstream.
 */

import { IbClient } from "../client/client.js";
import type { ClientOptions } from "../client/options.js";
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { ClosedError, SwitchboardError } from "../errors.js";
import { Line } from "../line/line.js";
import { FileOrderAudit } from "../orders/audit.js";
import { FileOrderJournal } from "../orders/journal.js";
import type { LineOptions } from "../line/options.js";
import type { Logger } from "../logger.js";
import { silentLogger } from "../logger.js";
import { resolveRules } from "../pacing/rules.js";
import { Pacer } from "../pacing/scheduler.js";
import { Switch, type SwitchSnapshot } from "../switch/switch.js";

export const DEFAULT_MAX_CLIENTS_PER_PURPOSE = 64;

export interface SwitchboardOptions {
  /** The upstream line: host, port, client id or id source, timeouts. */
  line?: LineOptions;
  readOnly?: boolean;
  /** IB's windows scaled down (tests and benchmarks against a scaled mock). */
  timeScale?: number;
  /** Clients allowed at once per purpose. */
  maxClientsPerPurpose?: number;
  /** Per purpose overrides of that limit. */
  purposeLimits?: Record<string, number>;
  client?: ClientOptions;
  clock?: Clock;
  logger?: Logger;
  /** Wait this long for the first ready in `connect()`; 0 returns at once. */
  readyTimeoutMs?: number;
  /**
   * Where the line's order journal and audit live (`orders-<line>.journal`, `.audit.jsonl`).
   * Without it no client of this pool may place orders (201): an order nobody can find
   * after a restart could be placed twice.
   */
  stateDir?: string;
}

export interface PoolSnapshot {
  line: ReturnType<Line["snapshot"]>;
  purposes: { purpose: string; clients: number; limit: number }[];
  switch: SwitchSnapshot;
}

export class Switchboard implements AsyncDisposable {
  readonly line: Line;
  readonly pacer: Pacer;
  readonly switch: Switch;
  readonly #clock: Clock;
  readonly #clientOptions: ClientOptions;
  readonly #limit: number;
  readonly #limits: Record<string, number>;
  readonly #inUse = new Map<string, number>();
  readonly #journal: FileOrderJournal | undefined;
  readonly #audit: FileOrderAudit | undefined;
  #closed = false;

  private constructor(options: SwitchboardOptions) {
    this.#clock = options.clock ?? systemClock;
    const logger = options.logger ?? silentLogger;
    const lineName = options.line?.name ?? "default";
    if (options.stateDir !== undefined) {
      // Taken first: a journal another process holds is an error before anything connects.
      this.#journal = FileOrderJournal.open({
        stateDir: options.stateDir,
        line: lineName,
        now: () => this.#clock.now(),
      });
      this.#audit = new FileOrderAudit({ stateDir: options.stateDir, line: lineName });
    }
    // Live orders keep the line's client id: on 326 it waits for it, never switches.
    const placedOrders = (): number[] =>
      this.switch
        .liveOrders()
        .filter((o) => this.line.clientId === undefined || o.upstreamClientId === this.line.clientId)
        .map((o) => o.permId);
    this.line = new Line({
      clock: this.#clock,
      logger: logger.child({ part: "line" }),
      ...(this.#journal ? { placedOrders } : {}),
      ...options.line,
    });
    this.pacer = new Pacer({
      clock: this.#clock,
      rules: resolveRules({ timeScale: options.timeScale ?? 1 }),
    });
    this.switch = new Switch(this.line, this.pacer, {
      clock: this.#clock,
      logger: logger.child({ part: "switch" }),
      readOnly: options.readOnly ?? false,
      ...(this.#journal && this.#audit ? { journal: this.#journal, audit: this.#audit } : {}),
    });
    this.#clientOptions = {
      clock: this.#clock,
      version: () => this.line.serverVersion ?? 178,
      ...options.client,
    };
    this.#limit = options.maxClientsPerPurpose ?? DEFAULT_MAX_CLIENTS_PER_PURPOSE;
    this.#limits = options.purposeLimits ?? {};
  }

  /** Start the line and (by default) wait until it is ready. */
  static async connect(options: SwitchboardOptions = {}): Promise<Switchboard> {
    const sb = new Switchboard(options);
    sb.line.start();
    const timeoutMs = options.readyTimeoutMs ?? 15_000;
    if (timeoutMs > 0) {
      try {
        await sb.line.ready({ timeoutMs });
      } catch (err) {
        await sb.close();
        throw err;
      }
    }
    return sb;
  }

  /**
   * A client for one purpose, as a tenant on the shared line. Over the purpose's limit it
   * fails at once (a pool that waits hides leaks); dispose the client to give its place back.
   * `owner` is the client's order identity: stable across runs, so its orders and order ids
   * survive a restart. A client places orders only with an owner and a pool `stateDir`;
   * otherwise its order messages are refused (201).
   */
  async acquire(purpose: string, options: { name?: string; owner?: string } = {}): Promise<IbClient> {
    if (this.#closed) throw new ClosedError("switchboard");
    const limit = this.#limits[purpose] ?? this.#limit;
    const used = this.#inUse.get(purpose) ?? 0;
    if (used >= limit) {
      throw new SwitchboardError(
        "range_exhausted",
        `purpose "${purpose}" already has ${used} of ${limit} clients`,
      );
    }
    this.#inUse.set(purpose, used + 1);
    const tenant = this.switch.openTenant({
      kind: "client",
      name: options.name ?? purpose,
      ...(options.owner === undefined ? {} : { owner: options.owner }),
    });
    tenant.onClose(() => {
      const n = (this.#inUse.get(purpose) ?? 1) - 1;
      if (n <= 0) this.#inUse.delete(purpose);
      else this.#inUse.set(purpose, n);
    });
    return new IbClient(tenant, this.#clientOptions);
  }

  snapshot(): PoolSnapshot {
    return {
      line: this.line.snapshot(),
      purposes: [...this.#inUse.entries()].map(([purpose, clients]) => ({
        purpose,
        clients,
        limit: this.#limits[purpose] ?? this.#limit,
      })),
      switch: this.switch.snapshot(),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.switch.close();
    await this.line.close();
    await this.pacer.close();
    this.#audit?.close();
    this.#journal?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
