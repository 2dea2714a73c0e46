/**
 * Pacer memory of an HA group (interfaces.md "Pacer memory"): IB's historical windows of each
 * TWS live in Redis (`switchboard:ha:<group>:pacer` when the lines use one TWS, as the file
 * memory keeps pacer-memory.json; with several, `…:pacer:<host:port>` for each), so a takeover
 * never re-spends what the old active already spent at the same TWS.
 *
 * Invariants:
 *  - only the active writes (fenced by its token); a standby's or deposed daemon's save is
 *    dropped;
 *  - `load()` is synchronous (the gateway budget asks at construction): it
 *    returns what the last `refresh()` read, which the daemon awaits at takeover;
 *  - saves are asynchronous and in order: a kill -9 may lose the last one, so at worst the
 *    newest entries of a window are spent again — unlike the file memory, which is written
 *    before the permit goes out.
 */
import type { WindowMemory } from "../pacing/checker.js";
import type { PacerMemoryStore } from "../pacing/memory.js";
import type { HaLease } from "./lease.js";

export class RedisPacerMemory implements PacerMemoryStore {
  #lease: HaLease | undefined;
  #token: () => number | null = () => null;
  #cached: WindowMemory | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #warn: (message: string) => void;
  /** The key's suffix after the group's base: `pacer` or `pacer:<gateway>`. */
  readonly #suffix: string;

  constructor(warn: (message: string) => void = () => {}, gateway?: string) {
    this.#warn = warn;
    this.#suffix = gateway === undefined ? "pacer" : `pacer:${gateway}`;
  }

  /** Connect it to the group (the daemon knows its lease only once started). */
  attach(lease: HaLease, token: () => number | null): void {
    this.#lease = lease;
    this.#token = token;
  }

  /** Read the group's windows (at takeover, before the pacer restores them). */
  async refresh(): Promise<void> {
    const lease = this.#lease;
    if (!lease) return;
    try {
      const json = await lease.redis.get(`${lease.keys.base}${this.#suffix}`);
      this.#cached = json ? (JSON.parse(json) as WindowMemory) : undefined;
    } catch (err) {
      this.#warn(`HA pacer memory unreadable (${String(err)}); IB's windows start empty`);
      this.#cached = undefined;
    }
  }

  load(): WindowMemory | undefined {
    return this.#cached;
  }

  save(windows: WindowMemory): void {
    const lease = this.#lease;
    const token = this.#token();
    if (!lease || token === null) return;
    this.#cached = windows;
    const ops = ["SET", `${lease.keys.base}${this.#suffix}`, JSON.stringify(windows)];
    this.#chain = this.#chain
      .then(() => lease.fencedWrite(token, ops))
      .catch((err: unknown) => this.#warn(`HA pacer memory not saved (${String(err)})`));
  }

  /** Resolves once every save so far was answered. */
  async flush(): Promise<void> {
    await this.#chain;
  }
}
