/**
 * The order journal of one line of an HA group, in Redis (keys in src/ha/keys.ts): one hash
 * field per order (its whole record as JSON), one hash of high-water marks, one key for the
 * line's identity. Same meaning as the file journal (journal.ts), with the group's fencing.
 *
 * Invariants:
 *  - every write carries the daemon's fencing token and is applied by a Lua script only while
 *    that token is the group's lease (src/ha/lease-scripts.ts); a stale token is refused
 *    (FencedError) and reported through `onFenced` at once, so the daemon steps down;
 *  - a new order's record is in Redis before its upstream write: `intent` resolves once
 *    Redis acknowledged it (with `appendfsync always`, once it is on disk); while Redis is
 *    unreachable `intent` rejects at once and the order is refused (201), never queued;
 *  - writes of one journal reach Redis one after another, in call order (a chain), so a later
 *    state never loses to an earlier one — also when a script must be loaded again after a
 *    Redis restart;
 *  - at open a record without a confirmed write is `unknown` (never a replay log); orders
 *    finished more than `retainFinishedMs` ago are removed (fenced); marks stay.
 */
import { SwitchboardError } from "../errors.js";
import { FencedError } from "../ha/errors.js";
import type { LineKeys } from "../ha/keys.js";
import type { HaLease } from "../ha/lease.js";
import type { LineIdentity } from "../line/identity.js";
import type { JournalContents, OrderJournal } from "../switch/order-journal.js";
import type { NewOrder, OrderEntry, OrderState } from "../switch/order-map.js";
import { RETAIN_FINISHED_MS } from "./journal.js";

interface OrderRecord {
  owner: string;
  localId: number;
  upstreamId: number;
  upstreamClientId: number;
  orderRef: string;
  state: OrderState;
  permId: number;
  finishedAt?: number;
  generation?: number;
  /** The upstream write was confirmed (or TWS reported a state). */
  written: boolean;
}

export interface RedisJournalOptions {
  lease: HaLease;
  line: string;
  /** The daemon's current fencing token; null when it is not active (every write refused). */
  token: () => number | null;
  /** A write was refused for a stale token: step down at once. */
  onFenced: (err: FencedError) => void;
  /** A write failed for another reason (Redis away): the record may be missing. */
  onError?: (err: unknown) => void;
  now?: () => number;
  retainFinishedMs?: number;
}

export class RedisOrderJournal implements OrderJournal {
  readonly #o: RedisJournalOptions;
  readonly #keys: LineKeys;
  readonly #contents: JournalContents;
  readonly #written = new Set<number>();
  #identity: LineIdentity | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(o: RedisJournalOptions, contents: JournalContents, identity: LineIdentity | undefined) {
    this.#o = o;
    this.#keys = o.lease.keys.line(o.line);
    this.#contents = contents;
    this.#identity = identity;
  }

  /** Read the line's orders, marks and identity (at takeover), and drop long-finished orders. */
  static async open(o: RedisJournalOptions): Promise<RedisOrderJournal> {
    const keys = o.lease.keys.line(o.line);
    const redis = o.lease.redis;
    const [rows, marks, identityJson] = await Promise.all([
      redis.hgetall(keys.orders),
      redis.hgetall(keys.marks),
      redis.get(keys.identity),
    ]);
    const now = (o.now ?? Date.now)();
    const retain = o.retainFinishedMs ?? RETAIN_FINISHED_MS;
    const orders: NewOrder[] = [];
    const written: number[] = [];
    const expired: string[] = [];
    for (const [field, json] of Object.entries(rows)) {
      let r: OrderRecord;
      try {
        r = JSON.parse(json) as OrderRecord;
      } catch (err) {
        throw new SwitchboardError("store", `order record ${field} of line ${o.line} in Redis is damaged`, {
          cause: err,
        });
      }
      let state = r.state;
      // Never confirmed written: it may or may not have reached TWS. Unknown, never resent.
      if (state === "pending" || (!r.written && state === "written")) state = "unknown";
      if ((state === "finished" || state === "refused") && now - (r.finishedAt ?? now) > retain) {
        expired.push(field);
        continue;
      }
      if (r.written) written.push(r.upstreamId);
      orders.push({
        owner: r.owner,
        localId: r.localId,
        upstreamId: r.upstreamId,
        upstreamClientId: r.upstreamClientId,
        orderRef: r.orderRef,
        state,
        permId: r.permId,
        ...(r.finishedAt === undefined ? {} : { finishedAt: r.finishedAt }),
      });
    }
    orders.sort((a, b) => a.upstreamId - b.upstreamId);
    const highWater = Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, Number(v)]));
    const identity = identityJson ? (JSON.parse(identityJson) as LineIdentity) : undefined;
    const j = new RedisOrderJournal(o, { orders, highWater }, identity);
    for (const id of written) j.#written.add(id);
    const token = o.token();
    if (expired.length > 0 && token !== null) {
      await j.#write(expired.flatMap((f) => ["HDEL", keys.orders, f]));
    }
    return j;
  }

  load(): JournalContents {
    return this.#contents;
  }

  identity(): LineIdentity | undefined {
    return this.#identity;
  }

  /** Fenced like an order's record; resolves once Redis acknowledged it. */
  async recordIdentity(identity: LineIdentity): Promise<void> {
    const i = { accounts: [...identity.accounts], mode: identity.mode };
    await this.#write(["SET", this.#keys.identity, JSON.stringify(i)]);
    this.#identity = i;
  }

  async forgetIdentity(): Promise<void> {
    await this.#write(["DEL", this.#keys.identity]);
    this.#identity = undefined;
  }

  intent(e: OrderEntry, generation: number): Promise<void> {
    return this.#write([
      "HSET",
      this.#keys.orders,
      String(e.upstreamId),
      JSON.stringify(this.#record(e, { state: "pending", generation, written: false })),
      "HMAX",
      this.#keys.marks,
      e.owner,
      String(e.localId),
    ]);
  }

  written(e: OrderEntry): void {
    this.#written.add(e.upstreamId);
    const state = e.state === "pending" ? "written" : e.state;
    this.#background([
      "HSET",
      this.#keys.orders,
      String(e.upstreamId),
      JSON.stringify(this.#record(e, { state })),
    ]);
  }

  /** Fenced and awaited: a deposed daemon, or one cut off from Redis, never writes a change. */
  fence(e: OrderEntry): Promise<void> {
    return this.#write([
      "HSET",
      this.#keys.orders,
      String(e.upstreamId),
      JSON.stringify(this.#record(e, {})),
    ]);
  }

  update(e: OrderEntry): void {
    // A state TWS reported implies the write happened.
    if (e.state !== "unknown" && e.state !== "refused" && e.state !== "pending")
      this.#written.add(e.upstreamId);
    this.#background(["HSET", this.#keys.orders, String(e.upstreamId), JSON.stringify(this.#record(e, {}))]);
  }

  /** Resolves once every write asked for so far has been answered. */
  async flush(): Promise<void> {
    await this.#chain.catch(() => undefined);
  }

  close(): void {
    this.#closed = true;
  }

  #record(e: OrderEntry, over: Partial<OrderRecord>): OrderRecord {
    return {
      owner: e.owner,
      localId: e.localId,
      upstreamId: e.upstreamId,
      upstreamClientId: e.upstreamClientId,
      orderRef: e.orderRef,
      state: e.state,
      permId: e.permId,
      ...(e.finishedAt === undefined ? {} : { finishedAt: e.finishedAt }),
      ...(e.writtenGeneration === undefined ? {} : { generation: e.writtenGeneration }),
      written: this.#written.has(e.upstreamId),
      ...over,
    };
  }

  #background(ops: string[]): void {
    if (this.#closed) return;
    // Not awaited by the switch: a lost confirmation only makes the order `unknown` later.
    this.#write(ops).catch(() => undefined);
  }

  /** One fenced script call, after every earlier one. */
  #write(ops: string[]): Promise<void> {
    if (this.#closed)
      return Promise.reject(
        new SwitchboardError("closed", `the order journal of line ${this.#o.line} is closed`),
      );
    const run = async () => {
      const token = this.#o.token();
      if (token === null)
        throw new SwitchboardError("standby", "this daemon is not the active one of its HA group", {
          reason: "standby",
        });
      try {
        await this.#o.lease.fencedWrite(token, ops);
      } catch (err) {
        if (err instanceof FencedError) this.#o.onFenced(err);
        else this.#o.onError?.(err);
        throw err;
      }
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => undefined);
    return next;
  }
}
