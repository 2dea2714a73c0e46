/**
 * What happens to live requests when the line changes under them.
 *  - socket lost: one-shots already written that are not idempotent get an error now;
 *  - 1101 (data lost) or a new socket: every subscription is sent again under a fresh
 *    upstream id with the same tenant-visible id, broadcasts are re-opened, idempotent
 *    one-shots are sent again once; only then are held requests released (book first,
 *    queue after). Orders are never resent: after a new socket the switch asks TWS for the
 *    open orders so their state reaches their tenants.
 */
import { IN, OUT } from "../protocol/message-ids.js";
import type { SwitchCore } from "./core.js";
import { withId } from "./fields.js";
import { askSingleton, SINGLETON_ANSWER, sendOpenOrderQuestion } from "./outbound.js";
import { SWITCH_TENANT } from "./core.js";

const NOT_CONNECTED = 504;

export function failInFlight(core: SwitchCore): number {
  let failed = 0;
  const now = core.o.clock.now();
  for (const r of core.requests.all()) {
    if (r.generation === undefined || r.lifetime !== "oneshot") continue;
    if (r.route.idempotent) {
      // Sent again once after ready, if the line is back within the queue timeout.
      r.strandedAt = now;
      continue;
    }
    const to = core.recipients(r);
    core.endRequest(r.upstreamId, "lost", "lost");
    for (const { tenant, localId } of to)
      core.errorTo(
        tenant,
        localId,
        NOT_CONNECTED,
        "Not connected: the upstream connection dropped before the answer",
      );
    failed++;
  }
  return failed;
}

export function replay(core: SwitchCore, cause: "1101" | "reconnect"): void {
  const v = core.version;
  const generation = core.line.generation;
  core.replayedGeneration = generation;
  // Questions written on the old socket will never be answered: whoever waits asks again.
  const again = cause === "reconnect" ? core.openOrders.socketChanged(core.o.clock.now()) : undefined;
  if (
    core.requests.size === 0 &&
    core.broadcasts.active().length === 0 &&
    core.orders.size === 0 &&
    core.waiters.size === 0 &&
    again === undefined
  )
    return;
  let subscriptions = 0;
  let resent = 0;
  // Old holds are given back only after every replay is queued (at high priority): a line
  // freed here goes to a replay, never to a request that queued during the outage.
  const rekeyed: number[] = [];
  for (const r of core.requests.all()) {
    if (r.pending) continue; // still in the pacer: it will be written on this socket
    const written = r.generation !== undefined;
    if (r.lifetime === "oneshot") {
      // After 1101 the socket and its one-shots are intact.
      if (cause === "1101" && written) continue;
      if (written && r.generation === generation) continue;
      if (written && !r.route.idempotent) continue;
    } else if (cause === "reconnect" && r.generation === generation) continue;
    // A group is replayed once for all its members, under the switch's own pacer tenant.
    if (r.group ? r.group.members.size === 0 : !core.tenants.has(r.tenantId)) continue;
    const fresh = core.ids.nextRequestId();
    const moved = core.requests.rekey(r.upstreamId, fresh, undefined);
    if (!moved) continue;
    const g = moved.group;
    if (g) {
      core.groups.rekey(g, fresh);
      // What came before the loss is not the state now: a member joining while the replay is
      // on its way gets what arrives next, as on a new TWS subscription. The members already
      // served wait for the replay as long as the switch's own requests do.
      g.last.clear();
      g.answers.length = 0;
      g.waitFloor = core.o.clock.now() + core.o.queueTimeoutMs;
      for (const m of g.members.values()) m.waitUntil = undefined;
    }
    rekeyed.push(r.upstreamId);
    core.dispatch(g?.pacerTenant ?? r.tenantId, withId(r.fields, r.route.idIndex ?? 1, v, fresh), {
      ...(g ? core.groupWait(g) : {}),
      entry: moved,
      priority: "high",
      marketDataType: r.marketDataType,
      failOutcome: "replay_failed",
      // Bounded by the tenants' live requests; the per-tenant queue bound would answer a
      // large book with 322 instead of restoring it.
      queueLimit: Number.MAX_SAFE_INTEGER,
    });
    if (r.lifetime === "subscription") subscriptions++;
    else resent++;
  }
  for (const id of rekeyed) core.holds.release(id, "rekeyed");
  core.broadcasts.resetCaches();
  for (const { kind } of core.broadcasts.active()) {
    const fields = core.broadcastRequests.get(kind);
    if (fields)
      core.dispatch(SWITCH_TENANT, fields, {
        priority: "high",
        onFail: (err) => {
          // Its subscribers hear it under -1 (broadcasts have no id); they may ask again.
          const { code, message } = core.errorFor(err);
          for (const id of core.broadcasts.subscribers(kind)) {
            const t = core.tenants.get(id);
            if (t) core.errorTo(t, -1, code, message);
          }
        },
      });
  }
  if (cause === "reconnect") {
    for (const [request, answer] of Object.entries(SINGLETON_ANSWER)) {
      if (answer === IN.OPEN_ORDER_END) continue;
      if ((core.waiters.get(answer)?.size ?? 0) > 0)
        askSingleton(core, SWITCH_TENANT, [request, "1"], answer);
    }
    if (again) {
      const msg = again.all ? OUT.REQ_ALL_OPEN_ORDERS : OUT.REQ_OPEN_ORDERS;
      sendOpenOrderQuestion(core, SWITCH_TENANT, [String(msg), "1"], again);
    } else if (core.orders.size > 0) {
      // So the state of every order reaches its owner; this question answers no tenant's wait.
      sendOpenOrderQuestion(
        core,
        SWITCH_TENANT,
        [String(OUT.REQ_OPEN_ORDERS), "1"],
        core.openOrders.internal(),
      );
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
