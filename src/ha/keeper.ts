/**
 * Keeps a daemon's HA role in step with the lease: every `leaseMs / 5` a standby asks for the
 * lease and an active renews it; a timer at the end of the freshness window steps an active
 * down on its own clock even when renewals hang. One call in flight at a time.
 *
 * Invariants:
 *  - freshness counts from when a successful call was *sent* (monotonic clock);
 *  - stepping down closes the upstream (the caller's `stepDown`) before the lease is released,
 *    so no write of this daemon is on the way when a standby takes over;
 *  - a failed call (Redis away) changes nothing but time: the window runs out on its own;
 *  - a `mismatch` answer (our lines differ from the active's) ends the daemon (`onMismatch`);
 *  - a daemon whose takeover failed steps down, releases the lease and asks for it again only
 *    after `leaseMs`: another standby of the group gets the first chance.
 */
import type { Clock, TimerHandle } from "../clock.js";
import type { Logger } from "../logger.js";
import { GroupConfigMismatchError } from "./errors.js";
import { haRenewIntervalMs } from "./freshness.js";
import type { HaLease } from "./lease.js";
import { HaRole, type HaRoleEvent, type StepDownReason } from "./role.js";

export interface HaKeeperOptions {
  lease: HaLease;
  leaseMs: number;
  /** Timers. */
  clock: Clock;
  /** Monotonic milliseconds (performance.now in the daemon). */
  monotonic: () => number;
  logger: Logger;
  /** Close every upstream socket and the proxy ports; resolves when closed. */
  stepDown: (reason: StepDownReason) => Promise<void>;
  /** This daemon's lines differ from the group's active daemon's. */
  onMismatch: (err: GroupConfigMismatchError) => void;
}

export class HaKeeper {
  readonly role: HaRole;
  readonly #o: HaKeeperOptions;
  #timer: TimerHandle | undefined;
  #freshTimer: TimerHandle | undefined;
  #busy = false;
  #state: "idle" | "running" | "closed" = "idle";
  /** Failed lease calls in a row (for logs and metrics). */
  failures = 0;
  #stepping: Promise<void> | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  /** Monotonic time before which a standby does not ask for the lease (after a failed takeover). */
  #holdOffUntil = -Infinity;

  constructor(o: HaKeeperOptions) {
    this.#o = o;
    this.role = new HaRole(o.leaseMs);
    this.role.on((e) => this.#onRole(e));
  }

  /** Resolves once the lease call in flight (if any) has been answered. */
  settled(): Promise<void> {
    return this.#inFlight;
  }

  /** Whether an order may be written upstream now. */
  mayWrite(): boolean {
    return this.role.mayWrite(this.#o.monotonic());
  }

  start(): void {
    if (this.#state !== "idle") return;
    this.#state = "running";
    void this.#tick();
  }

  /** A fenced write under `token` was refused: another daemon holds the lease. */
  fenced(token: number): void {
    this.role.lost(token, "fenced");
  }

  /** Becoming active failed: step down (releasing the lease) and let another standby try first. */
  takeoverFailed(token: number): void {
    this.#holdOffUntil = this.#o.monotonic() + this.#o.leaseMs;
    this.role.lost(token, "takeover_failed");
  }

  /** Step down (if active), release the lease, stop. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#o.clock.clearTimeout(this.#timer);
    this.#o.clock.clearTimeout(this.#freshTimer);
    this.role.shutdown();
    await this.#stepping;
  }

  /** Stop every timer without stepping down or releasing (tests: a daemon that froze). */
  halt(): void {
    this.#state = "closed";
    this.#o.clock.clearTimeout(this.#timer);
    this.#o.clock.clearTimeout(this.#freshTimer);
  }

  async #tick(): Promise<void> {
    if (this.#state !== "running") return;
    this.#o.clock.clearTimeout(this.#timer);
    this.#timer = this.#o.clock.setTimeout(() => void this.#tick(), haRenewIntervalMs(this.#o.leaseMs));
    if (this.#busy) return;
    this.#busy = true;
    let done = () => {};
    this.#inFlight = new Promise((r) => (done = r));
    try {
      await this.#call();
      this.failures = 0;
    } catch (err) {
      this.failures++;
      this.#o.logger.warn({ err, role: this.role.role, failures: this.failures }, "HA lease call failed");
    } finally {
      this.#busy = false;
      done();
    }
  }

  async #call(): Promise<void> {
    const s = this.role.state;
    const sentAt = this.#o.monotonic();
    if (s.role === "standby") {
      if (sentAt < this.#holdOffUntil) return;
      const a = await this.#o.lease.acquire();
      if (this.#state !== "running") {
        // Closed while asking: a lease granted now is given straight back.
        if (a.status === "granted") await this.#o.lease.release(a.token).catch(() => undefined);
        return;
      }
      if (a.status === "granted") {
        this.role.granted(a.token, sentAt);
        this.role.check(this.#o.monotonic());
        this.#armFreshness();
      } else if (a.status === "mismatch") {
        this.#o.onMismatch(new GroupConfigMismatchError(this.#o.lease.group));
      }
    } else if (s.role === "active") {
      const r = await this.#o.lease.renew(s.token);
      if (r === "renewed") {
        this.role.renewed(s.token, sentAt);
        this.#armFreshness();
      } else this.role.lost(s.token, "lease_lost");
    }
  }

  /** Wake at the end of the window: an active whose renewals stopped steps down on time. */
  #armFreshness(): void {
    const until = this.role.freshUntil();
    this.#o.clock.clearTimeout(this.#freshTimer);
    if (until === undefined || this.#state !== "running") return;
    this.#freshTimer = this.#o.clock.setTimeout(
      () => {
        if (this.role.check(this.#o.monotonic())) return;
        this.#armFreshness();
      },
      Math.max(0, until - this.#o.monotonic()),
    );
  }

  #onRole(e: HaRoleEvent): void {
    this.#o.logger.info(
      { role: e.role, previous: e.previous, token: e.token, reason: e.reason },
      `HA role: ${e.role}`,
    );
    if (e.role !== "stepping_down") return;
    const token = e.token as number;
    const reason = e.reason as StepDownReason;
    this.#o.clock.clearTimeout(this.#freshTimer);
    this.#stepping = (async () => {
      try {
        await this.#o.stepDown(reason);
      } catch (err) {
        this.#o.logger.error({ err }, "HA step-down: closing the upstream failed");
      }
      // Only now: nothing of ours is on the way upstream.
      await this.#o.lease.release(token).catch(() => undefined);
      this.role.steppedDown();
    })();
  }
}
