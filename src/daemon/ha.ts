/**
 * The daemon's part in an HA group (interfaces.md "Standby through Redis"): it connects to the
 * group's Redis, checks persistence and the group's lines, runs the lease keeper, and tells
 * the daemon when to become active (promote) and when to let go of the upstream (demote). It
 * also makes the Redis journal and audit of each line, and the order gate.
 *
 * Invariants:
 *  - the daemon opens upstream sockets and proxy ports only between `promote` and `demote`;
 *  - `gate()` refuses orders unless the lease renewal is fresh (src/ha/freshness.ts);
 *  - a fenced write refused for a stale token steps the daemon down at once;
 *  - promotion and demotion never overlap: they run one after another on one chain;
 *  - a promotion that fails steps down and releases the lease (never active serving nothing);
 *  - orders are refused while the group's Redis connection is not ready.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { Clock } from "../clock.js";
import type { DaemonConfig, LineConfig } from "../config/index.js";
import type { BaseEvent } from "../events.js";
import { linesHash } from "../ha/config-hash.js";
import type { GroupConfigMismatchError } from "../ha/errors.js";
import { HaKeeper } from "../ha/keeper.js";
import { groupLeaseOwner } from "../ha/keys.js";
import { HaLease } from "../ha/lease.js";
import { RedisPacerMemory } from "../ha/pacer-memory.js";
import { checkRedisPersistence } from "../ha/persistence.js";
import { connectHaRedis } from "../ha/redis.js";
import { redactRedisUrl } from "../registry/redis-eval.js";
import type { HaRoleName, StepDownReason } from "../ha/role.js";
import type { Logger } from "../logger.js";
import { RedisOrderAudit } from "../orders/redis-audit.js";
import { RedisOrderJournal } from "../orders/redis-journal.js";
import type { PacerMemoryStore } from "../pacing/memory.js";
import { lazyRedisLeaseStore } from "../registry/lazy-redis-store.js";
import { Registry } from "../registry/registry.js";
import type { LineAudit, LineHa } from "./managed-line.js";

/** What the line set needs to run the group's lines on the active daemon (line-set.ts). */
export interface LineSetHa {
  lines: ReadonlyMap<string, LineHa>;
  pacerMemory: (gatewayKey: string) => PacerMemoryStore;
}

export interface DaemonHaOptions {
  config: DaemonConfig & { ha: { group: string; leaseMs: number }; redis: string };
  clock: Clock;
  logger: Logger;
  pid: number;
  push: (e: BaseEvent) => void;
  /** Become active: load orders, connect the lines, reconcile, open the proxy ports. */
  promote: () => Promise<void>;
  /** Close the proxy ports and every upstream socket (the lease is released after). */
  demote: (reason: StepDownReason) => Promise<void>;
  /** This daemon's lines differ from the active's: the daemon must stop (exit 2). */
  fatal: (err: GroupConfigMismatchError) => void;
  /** Monotonic milliseconds (default performance.now). */
  monotonic?: () => number;
}

export interface HaView {
  group: string;
  role: HaRoleName;
  token: number | null;
  leaseMs: number;
  /** This daemon's name in the group (its audit stream). */
  daemon: string;
  leaseFailures: number;
  promotions: number;
  stepDowns: number;
}

export class DaemonHa {
  readonly lease: HaLease;
  readonly keeper: HaKeeper;
  /** This daemon's name in the group: host, pid and a random part (a restart is a new daemon). */
  readonly daemon: string;
  /** The token carried by the group's line client-id leases while this daemon holds them. */
  readonly secret: string;
  /**
   * Leases the group's line client ids in the group's Redis (token = `secret`): they belong to
   * the group and pass to the next active with the HA lease.
   */
  readonly registry: Registry;
  readonly #o: DaemonHaOptions;
  readonly #redis: Redis;
  #chain: Promise<void> = Promise.resolve();
  /** One per daemon across activations (see audit()). */
  readonly #audit: RedisOrderAudit;
  #promotions = 0;
  #stepDowns = 0;
  #closed = false;

  private constructor(o: DaemonHaOptions, redis: Redis) {
    this.#o = o;
    this.#redis = redis;
    const host = hostname();
    this.daemon = `${host}-${o.pid}-${randomBytes(3).toString("hex")}`;
    this.secret = randomBytes(16).toString("hex");
    this.registry = new Registry({
      store: lazyRedisLeaseStore({ url: o.config.redis }),
      purposes: o.config.purposes,
      clock: o.clock,
      sweepIntervalMs: 0,
      newToken: () => this.secret,
    });
    const { group, leaseMs } = o.config.ha;
    this.lease = new HaLease({
      redis,
      group,
      holder: this.daemon,
      secret: this.secret,
      host,
      pid: o.pid,
      leaseMs,
      lines: o.config.lines.map((l) => l.name),
      configHash: linesHash(o.config.lines),
      now: () => o.clock.now(),
    });
    this.keeper = new HaKeeper({
      lease: this.lease,
      leaseMs,
      clock: o.clock,
      monotonic: o.monotonic ?? (() => performance.now()),
      logger: o.logger,
      stepDown: (reason) => this.#serial(() => this.#demote(reason)),
      onMismatch: (err) => o.fatal(err),
    });
    this.#audit = new RedisOrderAudit({
      redis,
      stream: this.lease.keys.audit(this.daemon),
      logger: o.logger,
    });
    // Back from an outage: what waits goes first, ahead of the lease call that may make this
    // daemon active again (one connection, so Redis takes them in that order).
    redis.on("ready", () => void this.#audit.flush());
    this.keeper.role.on((e) => {
      o.push({ ...e, ts: o.clock.now(), group, daemon: this.daemon } as BaseEvent);
      if (e.role === "active") void this.#serial(() => this.#promote());
    });
  }

  /** Connect and check: Redis persists every write, and our lines are the group's. Throws (exit 2). */
  static async prepare(o: DaemonHaOptions): Promise<DaemonHa> {
    const where = redactRedisUrl(o.config.redis);
    const redis = await connectHaRedis(o.config.redis);
    try {
      await checkRedisPersistence(redis, where);
      const ha = new DaemonHa(o, redis);
      await ha.lease.checkConfig();
      return ha;
    } catch (err) {
      redis.disconnect();
      throw err;
    }
  }

  get role(): HaRoleName {
    return this.keeper.role.role;
  }

  /** Start the keeper; resolves after the first lease call (so READY can say the role). */
  async start(): Promise<void> {
    this.keeper.start();
    await this.keeper.settled();
  }

  /** Resolves once the role changes asked for so far (a promotion: lines reconciled, proxy open) are done. */
  idle(): Promise<void> {
    return this.#chain;
  }

  /** Why an order may not be written now (undefined: it may). */
  gate(): string | undefined {
    // Fast: an order whose journal write (or whose fence) cannot reach Redis is refused before
    // it is queued; the fenced write before a socket write (order-lane.ts) is the real guard.
    if (this.#redis.status !== "ready")
      return `the order journal could not be written: Redis of HA group ${this.#o.config.ha.group} is unreachable`;
    if (this.keeper.mayWrite()) return undefined;
    return this.role === "active"
      ? `this daemon's HA lease was not renewed in time (group ${this.#o.config.ha.group}): it is stepping down`
      : `this daemon is not the active one of HA group ${this.#o.config.ha.group}`;
  }

  async journal(line: string): Promise<RedisOrderJournal> {
    return RedisOrderJournal.open({
      lease: this.lease,
      line,
      token: () => this.keeper.role.token,
      onFenced: (err) => {
        this.#o.logger.error(
          { err, line },
          "HA: a write was fenced off: another daemon holds the lease; stepping down",
        );
        this.keeper.fenced(err.token);
      },
      onError: (err) => this.#o.logger.warn({ err, line }, "HA: order journal write failed"),
      now: () => this.#o.clock.now(),
    });
  }

  /**
   * At takeover: every line's journal and identity loaded from Redis, the client id the group
   * holds on it, and the pacer memory of each TWS (`gatewayOf`) read from Redis.
   */
  async lineSetHa(gatewayOf: (cfg: LineConfig) => string): Promise<LineSetHa> {
    const { config, logger } = this.#o;
    const owner = groupLeaseOwner(config.ha.group);
    const leases = await this.registry.list().catch((err: unknown) => {
      logger.warn({ err }, "HA: cannot list the group's client-id leases");
      return [];
    });
    const lines = new Map<string, LineHa>();
    try {
      for (const cfg of config.lines) {
        lines.set(cfg.name, {
          journal: await this.journal(cfg.name),
          audit: this.audit(),
          groupClientId: leases.find((l) => l.upstream === cfg.name && l.owner === owner)?.clientId,
          registry: this.registry,
          owner,
          adoptToken: this.secret,
          orderGate: () => this.gate(),
        });
      }
    } catch (err) {
      for (const l of lines.values()) {
        l.journal.close();
        void l.audit.close();
      }
      throw err;
    }
    const memories = new Map<string, RedisPacerMemory>();
    // As the file memory (line-set.ts): a group with one TWS keeps the key it always used;
    // with several, each TWS's key is named after it, whatever order the lines are in.
    const onOneGateway = new Set(config.lines.map(gatewayOf)).size === 1;
    for (const cfg of config.lines) {
      const key = gatewayOf(cfg);
      if (memories.has(key)) continue;
      const memory = new RedisPacerMemory((message) => logger.warn(message), onOneGateway ? undefined : key);
      memory.attach(this.lease, () => this.keeper.role.token);
      await memory.refresh();
      memories.set(key, memory);
    }
    return {
      lines,
      pacerMemory: (key) => memories.get(key) ?? new RedisPacerMemory((message) => logger.warn(message), key),
    };
  }

  /**
   * A line's view of this daemon's one audit stream. Its close() only flushes: records that
   * wait for an unreachable Redis (refusals during an outage) keep being retried after the
   * line closed at step-down, until the daemon itself closes.
   */
  audit(): LineAudit {
    const audit = this.#audit;
    return { append: (record) => audit.append(record), close: () => audit.flush() };
  }

  view(): HaView {
    const s = this.keeper.role.state;
    return {
      group: this.#o.config.ha.group,
      role: s.role,
      token: this.keeper.role.token,
      leaseMs: this.#o.config.ha.leaseMs,
      daemon: this.daemon,
      leaseFailures: this.keeper.failures,
      promotions: this.#promotions,
      stepDowns: this.#stepDowns,
    };
  }

  /** Step down (closing the upstream), release the lease, disconnect. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.keeper.close();
    await this.#chain;
    await this.#audit.close();
    this.#redis.disconnect();
    await this.registry.close();
  }

  async #promote(): Promise<void> {
    if (this.role !== "active") return; // stepped down before its turn
    this.#promotions++;
    try {
      await this.#o.promote();
    } catch (err) {
      // Active with no line and no proxy would hold the group's lease while serving nothing.
      this.#o.logger.error(
        { err, reason: "takeover_failed" },
        "HA: role change failed: the takeover failed; stepping down and releasing the lease",
      );
      const token = this.keeper.role.token;
      if (token !== null) this.keeper.takeoverFailed(token);
    }
  }

  async #demote(reason: StepDownReason): Promise<void> {
    this.#stepDowns++;
    await this.#o.demote(reason);
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(fn, fn);
    this.#chain = next.catch((err: unknown) => this.#o.logger.error({ err }, "HA: role change failed"));
    return this.#chain;
  }
}
