/**
 * The line's ClientIdSource backed by the lease registry: each line leases an id of the
 * `proxy` purpose for its upstream, bound to the daemon's pid (so a crashed daemon's ids are
 * reclaimed) and renewed at a third of its TTL while held. A 326 puts the id in cool-down.
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
}

export function registryClientIds(o: RegistryClientIdsOptions): ClientIdSource & { held(): number } {
  const purpose = o.purpose ?? DAEMON_LEASE_PURPOSE;
  const ttlMs = o.ttlMs ?? DEFAULT_DAEMON_LEASE_TTL_MS;
  let held = 0;
  return {
    held: () => held,
    async acquire(): Promise<ClientIdLease> {
      const upstream = o.upstream();
      const lease = await o.registry.lease(purpose, o.owner, ttlMs, { pid: o.pid, upstream });
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
                // (TWS still knows it by this id) and the next connect leases afresh.
                o.logger.warn({ err, clientId: lease.clientId }, "client id lease renew failed");
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
