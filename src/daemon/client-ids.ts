/**
 * The line's ClientIdSource backed by the lease registry: each line leases an id of the
 * `proxy` purpose for its upstream, bound to the daemon's pid (so a crashed daemon's ids are
 * reclaimed) and renewed at a third of its TTL while held. A 326 puts the id in cool-down.
 *
 * A line whose journal holds live orders asks for their id by number (`heldId`), never for
 * "any free id": TWS ties those orders to it. A failed renewal of such an id re-leases the
 * same id; the registry never hands that id to anyone else while the line holds it.
 */
import type { Clock, TimerHandle } from "../clock.js";
import type { ClientIdLease, ClientIdSource } from "../line/client-ids.js";
import type { Logger } from "../logger.js";
import type { Registry } from "../registry/registry.js";

export const DAEMON_LEASE_PURPOSE = "proxy";
export const DEFAULT_DAEMON_LEASE_TTL_MS = 10 * 60_000;

export interface RegistryClientIdsOptions {
  registry: Registry;
  /** Lease scope: leases are per upstream (paper and live may both use id 7). */
  upstream: () => string;
  owner: string;
  pid: number;
  clock: Clock;
  logger: Logger;
  purpose?: string;
  ttlMs?: number;
  /** The client id live orders sit under, if any: leased by id, never swapped for another. */
  heldId?: () => number | undefined;
}

export function registryClientIds(o: RegistryClientIdsOptions): ClientIdSource & { held(): number } {
  const purpose = o.purpose ?? DAEMON_LEASE_PURPOSE;
  const ttlMs = o.ttlMs ?? DEFAULT_DAEMON_LEASE_TTL_MS;
  let held = 0;
  return {
    held: () => held,
    async acquire(): Promise<ClientIdLease> {
      const upstream = o.upstream();
      const wanted = o.heldId?.();
      const lease = await o.registry.lease(purpose, o.owner, ttlMs, {
        pid: o.pid,
        upstream,
        ...(wanted === undefined ? {} : { clientId: wanted }),
      });
      held++;
      let token = lease.token;
      let timer: TimerHandle | undefined;
      let released = false;
      const renew = () => {
        timer = o.clock.setTimeout(
          () => {
            o.registry.renew(lease.clientId, token, ttlMs, { upstream }).then(
              (l) => {
                token = l.token;
                if (!released) renew();
              },
              (err: unknown) => {
                // The id may have been force-released by an operator; the line keeps its socket
                // (TWS still knows it by this id). If orders live under it, take that same id
                // again at once, so nobody else can lease it meanwhile.
                o.logger.warn({ err, clientId: lease.clientId }, "client id lease renew failed");
                if (released || o.heldId?.() !== lease.clientId) return;
                o.registry
                  .lease(purpose, o.owner, ttlMs, { pid: o.pid, upstream, clientId: lease.clientId })
                  .then(
                    (again) => {
                      token = again.token;
                      o.logger.warn(
                        { clientId: lease.clientId },
                        "lease.conflict: re-leased the id that holds orders",
                      );
                      if (!released) renew();
                    },
                    (e: unknown) =>
                      o.logger.error(
                        { err: e, clientId: lease.clientId },
                        "lease.conflict: cannot re-lease the id that holds orders",
                      ),
                  );
              },
            );
          },
          Math.max(1_000, Math.floor(ttlMs / 3)),
        );
      };
      renew();
      return {
        clientId: lease.clientId,
        release: async () => {
          if (released) return;
          released = true;
          held--;
          o.clock.clearTimeout(timer);
          if (o.registry.state !== "open") return;
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
