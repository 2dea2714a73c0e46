/**
 * Redis store for several hosts sharing one pool of ids. Every operation is one Lua script
 * (see redis-scripts.ts), atomic inside Redis. Lease keys carry a PX TTL equal to the lease's
 * TTL, so the leases of a host that crashed disappear without anyone cleaning up.
 */
import type { Redis } from "ioredis";
import { ClosedError } from "../errors.js";
import { StoreError } from "./errors.js";
import { type Reply, redactRedisUrl, runScript } from "./redis-eval.js";
import { ACQUIRE, LIST, REJECT, RELEASE, RENEW } from "./redis-scripts.js";
import type { LeaseStore } from "./store.js";
import type {
  AcquireRequest,
  AcquireResult,
  Cooldown,
  Lease,
  LeaseOpResult,
  ListResult,
  RejectRequest,
  ReleaseRequest,
  RenewRequest,
} from "./types.js";

export const DEFAULT_REDIS_PREFIX = "switchboard:ids:";
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 3_000;

export interface RedisLeaseStoreOptions {
  /** `redis://[user:pass@]host:port[/db]` */
  url: string;
  keyPrefix?: string;
  connectTimeoutMs?: number;
}

export class RedisLeaseStore implements LeaseStore {
  readonly kind = "redis" as const;
  readonly location: string;
  readonly #options: RedisLeaseStoreOptions;
  #redis: Redis | undefined;
  readonly #prefix: string;
  #state: "open" | "closed" = "open";

  constructor(options: RedisLeaseStoreOptions) {
    this.#options = options;
    this.#prefix = options.keyPrefix ?? DEFAULT_REDIS_PREFIX;
    this.location = redactRedisUrl(options.url);
  }

  /**
   * ioredis is loaded on first use, so file-store users (CLI, workers) never pay for it.
   *
   * A client gives up after a few reconnect tries (a CLI call must fail, not hang), after which
   * ioredis refuses every command for good. A long-lived daemon must outlive a Redis restart
   * longer than those tries, so a client that gave up (or never connected) is replaced by a
   * new one on the next command: that command tries Redis afresh.
   */
  async #client(): Promise<Redis> {
    const current = this.#redis;
    if (current && current.status !== "end") return current;
    const { Redis } = await import("ioredis");
    if (this.#redis !== current) return this.#client();
    current?.disconnect();
    const redis = new Redis(this.#options.url, {
      // Connects on the first command, which fails (after the tries below) if Redis is away.
      lazyConnect: true,
      connectTimeout: this.#options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: 2,
      retryStrategy: (times) => (times > 3 ? null : Math.min(times * 100, 500)),
    });
    // Errors surface through the failing command; an unhandled 'error' event would crash the process.
    redis.on("error", () => undefined);
    this.#redis = redis;
    if (this.#state === "closed") redis.disconnect();
    return redis;
  }

  async acquire(req: AcquireRequest): Promise<AcquireResult> {
    const { clientId: _id, ...template } = {
      clientId: 0,
      purpose: req.purpose,
      owner: req.owner,
      token: req.token,
      expiresAt: req.now + req.ttlMs,
      leasedAt: req.now,
      host: req.host,
      pid: req.pid,
      upstream: req.upstream,
    };
    const reply = (await this.#run(ACQUIRE, [
      this.#base(req.upstream),
      this.#upstreamsKey(),
      req.upstream,
      String(req.now),
      String(req.ttlMs),
      JSON.stringify(template),
      ...req.candidates.map(String),
    ])) as [string, string[]];
    return { granted: reply[0] ? toLease(reply[0]) : null, expired: reply[1].map(toLease) };
  }

  async renew(req: RenewRequest): Promise<LeaseOpResult> {
    const reply = await this.#run(RENEW, [
      this.#base(req.upstream),
      String(req.clientId),
      req.token,
      "0",
      String(req.now),
      String(req.ttlMs),
    ]);
    return toOpResult(reply as [string, string]);
  }

  async release(req: ReleaseRequest): Promise<LeaseOpResult> {
    const reply = await this.#run(RELEASE, [
      this.#base(req.upstream),
      String(req.clientId),
      req.token ?? "",
      req.token === null ? "1" : "0",
    ]);
    return toOpResult(reply as [string, string]);
  }

  async reject(req: RejectRequest): Promise<Cooldown> {
    const until = await this.#run(REJECT, [
      this.#base(req.upstream),
      this.#upstreamsKey(),
      req.upstream,
      String(req.clientId),
      String(Math.round(req.until)),
    ]);
    return { upstream: req.upstream, clientId: req.clientId, until: Number(until) };
  }

  async list(now: number): Promise<ListResult> {
    const [leases, cools, expired] = (await this.#run(LIST, [
      this.#prefix,
      this.#upstreamsKey(),
      String(now),
    ])) as [string[], string[], string[]];
    const cooldowns: Cooldown[] = [];
    for (let i = 0; i + 2 < cools.length; i += 3) {
      cooldowns.push({ upstream: cools[i]!, clientId: Number(cools[i + 1]), until: Number(cools[i + 2]) });
    }
    return { leases: leases.map(toLease), cooldowns, expired: expired.map(toLease) };
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    const redis = this.#redis;
    if (redis) await redis.quit().catch(() => redis.disconnect());
  }

  #base(upstream: string): string {
    return `${this.#prefix}${upstream}:`;
  }

  #upstreamsKey(): string {
    return `${this.#prefix}upstreams`;
  }

  async #run(script: string, args: string[]): Promise<Reply> {
    if (this.#state === "closed") throw new ClosedError("redis lease store");
    try {
      return await runScript(await this.#client(), script, args);
    } catch (err) {
      throw new StoreError(`redis lease store at ${this.location} failed: ${(err as Error).message}`, err);
    }
  }
}

/** Lua's cjson does not keep key order; rebuild the lease in its canonical field order. */
function toLease(json: string): Lease {
  const v = JSON.parse(json) as Lease;
  return {
    clientId: v.clientId,
    purpose: v.purpose,
    owner: v.owner,
    token: v.token,
    expiresAt: v.expiresAt,
    leasedAt: v.leasedAt,
    host: v.host,
    pid: typeof v.pid === "number" ? v.pid : null,
    upstream: v.upstream,
  };
}

function toOpResult([status, json]: [string, string]): LeaseOpResult {
  if (status === "ok") return { ok: true, lease: toLease(json) };
  const reason = status === "expired" || status === "bad_token" ? status : "not_found";
  return json ? { ok: false, reason, lease: toLease(json) } : { ok: false, reason };
}
