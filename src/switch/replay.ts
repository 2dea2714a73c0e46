/**
 * What happens to live requests when the line changes under them.
 *  - socket lost: one-shots already written that are not idempotent get an error now;
 *  - 1101 (data lost) or a new socket: every subscription is sent again under a fresh
 *    upstream id with the same tenant-visible id, broadcasts are re-opened, idempotent
 *    one-shots are sent again once; only then are held requests released (book first,
 *    queue after). Orders are never resent: after a new socket the switch asks TWS for the
 *    open orders so their state reaches their tenants.
 */
import { OUT } from "../protocol/message-ids.js";
import type { SwitchCore } from "./core.js";
import { withId } from "./fields.js";
import { applyMarketDataType, SINGLETON_ANSWER } from "./outbound.js";
import { SWITCH_TENANT } from "./core.js";

const NOT_CONNECTED = 504;

export function failInFlight(core: SwitchCore): number {
  let failed = 0;
  for (const r of core.requests.all()) {
    if (r.generation === undefined || r.lifetime !== "oneshot" || r.route.idempotent) continue;
    core.requests.remove(r.upstreamId);
    const tenant = core.tenants.get(r.tenantId);
    if (tenant)
      core.errorTo(
        tenant,
        r.localId,
        NOT_CONNECTED,
        "Not connected: the upstream connection dropped before the answer",
      );
    core.count(r.route.name, "lost");
    failed++;
  }
  return failed;
}

export function replay(core: SwitchCore, cause: "1101" | "reconnect"): void {
  const v = core.version;
  const generation = core.line.generation;
  core.replayedGeneration = generation;
  if (
    core.requests.size === 0 &&
    core.broadcasts.active().length === 0 &&
    core.orders.size === 0 &&
    core.waiters.size === 0
  )
    return;
  let subscriptions = 0;
  let resent = 0;
  for (const r of core.requests.all()) {
    if (r.pending) continue; // still in the pacer: it will be written on this socket
    const written = r.generation !== undefined;
    if (r.lifetime === "oneshot") {
      // After 1101 the socket and its one-shots are intact.
      if (cause === "1101" || (written && r.generation === generation)) continue;
      if (written && !r.route.idempotent) continue;
    } else if (cause === "reconnect" && r.generation === generation) continue;
    const tenant = core.tenants.get(r.tenantId);
    if (!tenant) continue;
    const fresh = core.ids.nextRequestId();
    const moved = core.requests.rekey(r.upstreamId, fresh, undefined);
    if (!moved) continue;
    if (r.route.id === OUT.REQ_MKT_DATA) applyMarketDataType(core, tenant);
    core.dispatch(r.tenantId, withId(r.fields, r.route.idIndex ?? 1, v, fresh), {
      entry: moved,
      priority: "high",
    });
    if (r.lifetime === "subscription") subscriptions++;
    else resent++;
  }
  core.broadcasts.resetCaches();
  for (const { kind } of core.broadcasts.active()) {
    const fields = core.broadcastRequests.get(kind);
    if (fields) core.dispatch(SWITCH_TENANT, fields, { priority: "high" });
  }
  if (cause === "reconnect") {
    for (const [request, answer] of Object.entries(SINGLETON_ANSWER)) {
      if ((core.waiters.get(answer)?.size ?? 0) > 0) core.dispatch(SWITCH_TENANT, [request, "1"]);
    }
  }
  core.events.emit({
    type: "switch.replayed",
    ts: core.o.clock.now(),
    line: core.line.name,
    cause,
    subscriptions,
    resent,
    failed: 0,
  });
  core.log.info({ cause, subscriptions, resent }, "subscriptions restored");
}
