/**
 * The line's ClientIdSource backed by the lease registry: each line leases an id of the
 * `proxy` purpose for its upstream, bound to the daemon's pid (so a crashed daemon's ids are
 * reclaimed) and renewed at a third of its TTL while held; a renewal the store could not
 * make is retried with capped, jittered backoff until it succeeds or the lease is gone. A
 * 326 puts the id in cool-down.
 *
 * A line whose journal holds live orders asks for their id by number (`heldId`), never for
 * "any free id": TWS ties those orders to it.
 *
 * Invariant: while the line holds an id, it holds its lease. A lease that is lost (expired,
 * force-released) is taken again by number at once — with or without orders, since the line's
 * socket at TWS still uses that id and anyone else leasing it would meet 326 — and retried
 * with the same backoff while someone else holds it. Each loss, and each new holder in the
 * way, is reported through `onConflict` (the daemon's SSE `lease.conflict`).
 */
import type { Clock, TimerHandle } from "../clock.js";
import { SwitchboardError } from "../errors.js";
import type { ClientIdLease, ClientIdSource } from "../line/client-ids.js";
import type { Logger } from "../logger.js";
import { RangeExhaustedError } from "../registry/errors.js";
import type { Registry } from "../registry/registry.js";

export const DAEMON_LEASE_PURPOSE = "proxy";
export const DEFAULT_DAEMON_LEASE_TTL_MS = 10 * 60_000;

export interface RegistryClientIdsOptions {
  registry: Registry;
  /** Lease scope: leases are per upstream (paper and live may both use id 7). */
  upstream: () => string;
  owner: string;
  /** Bind the leases to this process (reclaimed when it dies); undefined: TTL only (an HA group's). */
  pid: number | undefined;
  clock: Clock;
  logger: Logger;
  purpose?: string;
  ttlMs?: number;
  /** Jitter of renewal retries. */
  random?: () => number;
  /** The client id live orders sit under, if any: leased by id, never swapped for another. */
  heldId?: () => number | undefined;
  /** The lease of the line's id was lost, or someone else holds it now. */
  onConflict?: (c: LeaseConflict) => void;
  /**
   * An HA group's line leases pass to the new active with this token (src/ha/lease-scripts.ts):
   * a lease on the wanted id that already carries it is taken over by renewing it.
   */
  adoptToken?: string;
  /** Leave the lease in place on release (an HA group keeps its line's id for the next active). */
  keepOnRelease?: boolean;
}

export interface LeaseConflict {
  clientId: number;
  /** `lost`: the lease went away; `held_by_other`: re-leasing it failed, `holder` has it. */
  reason: "lost" | "held_by_other";
  holder?: string;
  /** Live orders sit under this id. */
  holdsOrders: boolean;
}

/** A lease is renewed at a third of its TTL, so two renewals may fail before it expires. */
export function renewIntervalMs(ttlMs: number): number {
  return Math.max(1_000, Math.floor(ttlMs / 3));
}

export const RENEW_RETRY_BASE_MS = 500;

/**
 * Wait before retry `attempt` (0-based) of a failed renewal: exponential from 500 ms, capped
 * at a sixth of the TTL (so several retries fit before the lease expires), with jitter
 * (50–100 % of the step) so daemons sharing a store do not retry in step.
 */
export function renewRetryDelayMs(attempt: number, ttlMs: number, random: () => number): number {
  const cap = Math.max(RENEW_RETRY_BASE_MS, Math.floor(ttlMs / 6));
  const step = Math.min(cap, RENEW_RETRY_BASE_MS * 2 ** Math.min(attempt, 20));
  return Math.round(step * (0.5 + random() / 2));
}

export function registryClientIds(o: RegistryClientIdsOptions): ClientIdSource & { held(): number } {
  const purpose = o.purpose ?? DAEMON_LEASE_PURPOSE;
  const ttlMs = o.ttlMs ?? DEFAULT_DAEMON_LEASE_TTL_MS;
  const random = o.random ?? Math.random;
  let held = 0;
  return {
    held: () => held,
    async acquire(): Promise<ClientIdLease> {
      const upstream = o.upstream();
      const wanted = o.heldId?.();
      const pid = o.pid === undefined ? {} : { pid: o.pid };
      const adopted =
        wanted !== undefined && o.adoptToken !== undefined
          ? await o.registry.renew(wanted, o.adoptToken, ttlMs, { upstream }).catch(() => undefined)
          : undefined;
      const lease =
        adopted ??
        (await o.registry.lease(purpose, o.owner, ttlMs, {
          ...pid,
          upstream,
          ...(wanted === undefined ? {} : { clientId: wanted }),
        }));
      held++;
      let token = lease.token;
      let timer: TimerHandle | undefined;
      let released = false;
      let failures = 0;
      const schedule = (ms: number) => {
        timer = o.clock.setTimeout(renew, ms);
      };
      const renew = () => {
        o.registry.renew(lease.clientId, token, ttlMs, { upstream }).then(
          (l) => {
            token = l.token;
            failures = 0;
            if (!released) schedule(renewIntervalMs(ttlMs));
          },
          (err: unknown) => {
            if (released) return;
            const gone = err instanceof SwitchboardError && err.code === "lease_invalid";
            if (gone) {
              // Force-released by an operator, or expired: the line's socket still uses this
              // id at TWS, so take that same id again at once, before anyone else can.
              const holdsOrders = o.heldId?.() === lease.clientId;
              o.logger.error(
                { err, clientId: lease.clientId, holdsOrders },
                "lease.conflict: client id lease lost; re-leasing it",
              );
              o.onConflict?.({ clientId: lease.clientId, reason: "lost", holdsOrders });
              reLease();
              return;
            }
            // A store that failed for now (lock contention, Redis away): try again, sooner.
            const delay = renewRetryDelayMs(failures++, ttlMs, random);
            o.logger.warn(
              { err, clientId: lease.clientId, retryInMs: delay },
              "client id lease renew failed",
            );
            schedule(delay);
          },
        );
      };
      /** The last holder reported in the way, so a long conflict is reported once per holder. */
      let reportedHolder: string | undefined;
      const reLease = () => {
        o.registry.lease(purpose, o.owner, ttlMs, { ...pid, upstream, clientId: lease.clientId }).then(
          (again) => {
            if (released) {
              void o.registry
                .release(again.clientId, { token: again.token, upstream })
                .catch(() => undefined);
              return;
            }
            token = again.token;
            failures = 0;
            reportedHolder = undefined;
            o.logger.warn({ clientId: lease.clientId }, "lease.conflict: re-leased the line's client id");
            schedule(renewIntervalMs(ttlMs));
          },
          (e: unknown) => {
            if (released) return;
            const delay = renewRetryDelayMs(failures++, ttlMs, random);
            const holder =
              e instanceof RangeExhaustedError ? (e.holders[0]?.owner ?? "another owner") : undefined;
            o.logger.error(
              { err: e, clientId: lease.clientId, holder, retryInMs: delay },
              "lease.conflict: cannot re-lease the line's client id; retrying",
            );
            if (holder !== undefined && holder !== reportedHolder) {
              reportedHolder = holder;
              o.onConflict?.({
                clientId: lease.clientId,
                reason: "held_by_other",
                holder,
                holdsOrders: o.heldId?.() === lease.clientId,
              });
            }
            o.clock.clearTimeout(timer);
            timer = o.clock.setTimeout(reLease, delay);
          },
        );
      };
      schedule(renewIntervalMs(ttlMs));
      return {
        clientId: lease.clientId,
        release: async () => {
          if (released) return;
          released = true;
          held--;
          o.clock.clearTimeout(timer);
          if (o.registry.state !== "open" || o.keepOnRelease) return;
          await o.registry.release(lease.clientId, { token, upstream });
        },
      };
    },
    rejected(clientId) {
      void o.registry
        .markRejected(clientId, { upstream: o.upstream() })
        .catch((err: unknown) => o.logger.warn({ err, clientId }, "cannot mark client id as refused"));
    },
  };
}
