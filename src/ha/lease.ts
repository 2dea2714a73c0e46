/**
 * The HA lease of a group in Redis: one call per operation, each one Lua script
 * (lease-scripts.ts) that implements lease-rule.ts. No loop here: keeper.ts decides when to
 * call. Every write of the group's state goes through `fencedWrite` with the holder's token.
 */
import type { Redis } from "ioredis";
import { DEFAULT_REDIS_PREFIX } from "../registry/redis-store.js";
import { FencedError, GroupConfigMismatchError } from "./errors.js";
import { type GroupKeys, groupKeys, groupLeaseOwner } from "./keys.js";
import { CONFIG_CHECK, FENCED_WRITE, GRANT_OR_RENEW, RELEASE } from "./lease-scripts.js";
import { runScript } from "../registry/redis-eval.js";

/** How long the group's line client-id leases live past the last grant or renewal of the HA lease. */
export const DEFAULT_LINE_LEASE_TTL_MS = 10 * 60_000;

export interface HaLeaseOptions {
  redis: Redis;
  group: string;
  /** Unique per daemon process: a restarted daemon is a new holder and gets a new token. */
  holder: string;
  /** The token this holder's line client-id leases carry; handed to the group's leases on a grant. */
  secret: string;
  host: string;
  pid: number;
  leaseMs: number;
  /** The configured line names (registry upstream scopes of the group's line leases). */
  lines: readonly string[];
  configHash: string;
  /** Wall clock (ms since the epoch) for the line leases' `expiresAt`, as the registry keeps it. */
  now: () => number;
  idsPrefix?: string;
  lineLeaseTtlMs?: number;
  keyPrefix?: string;
}

/** The lease as Redis holds it. */
export interface HaLeaseHolder {
  holder: string;
  token: number;
  host: string;
  pid: number;
  since: number;
}

export type AcquireAnswer =
  | { status: "granted"; token: number }
  | { status: "held"; by: HaLeaseHolder | undefined }
  | { status: "mismatch"; by: HaLeaseHolder | undefined };

export class HaLease {
  readonly keys: GroupKeys;
  readonly #o: HaLeaseOptions;

  constructor(o: HaLeaseOptions) {
    this.#o = o;
    this.keys = groupKeys(o.group, o.keyPrefix);
  }

  get redis(): Redis {
    return this.#o.redis;
  }

  get group(): string {
    return this.#o.group;
  }

  get holder(): string {
    return this.#o.holder;
  }

  get owner(): string {
    return groupLeaseOwner(this.#o.group);
  }

  async acquire(): Promise<AcquireAnswer> {
    const [status, token, json] = await this.#grantOrRenew("");
    if (status === "granted") return { status, token: Number(token) };
    if (status === "mismatch") return { status, by: parseHolder(json) };
    return { status: "held", by: parseHolder(json) };
  }

  async renew(token: number): Promise<"renewed" | "lost"> {
    const [status] = await this.#grantOrRenew(String(token));
    return status === "renewed" ? "renewed" : "lost";
  }

  /** Give the lease up (after the upstream sockets are closed) so a standby takes over at once. */
  async release(token: number): Promise<boolean> {
    const r = await runScript(this.#o.redis, RELEASE, [this.keys.lease, this.#o.holder, String(token)]);
    return r === "released";
  }

  /**
   * Apply `ops` only while `token` is the group's current lease token.
   * Throws FencedError otherwise (the caller steps down at once).
   */
  async fencedWrite(token: number, ops: readonly string[]): Promise<void> {
    const r = (await runScript(this.#o.redis, FENCED_WRITE, [this.keys.lease, String(token), ...ops])) as [
      string,
      string,
    ];
    if (r[0] !== "ok") throw new FencedError(this.#o.group, token);
  }

  /**
   * At start: our `lines` must be the group's, unless no other daemon holds the lease (then
   * ours become the group's). Throws GroupConfigMismatchError.
   */
  async checkConfig(): Promise<void> {
    const r = await runScript(this.#o.redis, CONFIG_CHECK, [
      this.keys.config,
      this.keys.lease,
      this.#o.holder,
      this.#o.configHash,
    ]);
    if (r === "mismatch") throw new GroupConfigMismatchError(this.#o.group);
  }

  async current(): Promise<HaLeaseHolder | undefined> {
    return parseHolder((await this.#o.redis.get(this.keys.lease)) ?? "");
  }

  async #grantOrRenew(expected: string): Promise<[string, string, string]> {
    const o = this.#o;
    const holderJson = JSON.stringify({ host: o.host, pid: o.pid, since: o.now() });
    return (await runScript(o.redis, GRANT_OR_RENEW, [
      this.keys.lease,
      this.keys.fence,
      o.holder,
      expected,
      String(o.leaseMs),
      holderJson,
      o.idsPrefix ?? DEFAULT_REDIS_PREFIX,
      this.owner,
      String(o.now()),
      String(o.lineLeaseTtlMs ?? DEFAULT_LINE_LEASE_TTL_MS),
      o.secret,
      this.keys.config,
      o.configHash,
      ...o.lines,
    ])) as [string, string, string];
  }
}

function parseHolder(json: string): HaLeaseHolder | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as HaLeaseHolder;
    return { holder: v.holder, token: Number(v.token), host: v.host, pid: v.pid, since: v.since };
  } catch {
    return undefined;
  }
}
