/**
 * One configured line, built: its order journal and audit, the identity it holds to, the
 * connector, the Line itself (client id from the registry, held while orders are live), and
 * the Switch its tenants share, on the line's own pacer. Nothing here starts anything: the
 * line set starts lines and proxies, and closes them.
 */
import type { Clock } from "../clock.js";
import { AUTO_PORTS, type DaemonConfig, type LineConfig, upstreamText } from "../config/index.js";
import type { BaseEvent } from "../events.js";
import type { Connector } from "../line/connector.js";
import { IdentityGuard } from "../line/identity-guard.js";
import type { LineIdentity } from "../line/identity.js";
import { Line } from "../line/line.js";
import type { Logger } from "../logger.js";
import type { MockGateway } from "../mock/gateway.js";
import { FileOrderAudit } from "../orders/audit.js";
import { FileOrderJournal } from "../orders/journal.js";
import type { NewOrder } from "../switch/order-map.js";
import type { OrderAudit, OrderJournal } from "../switch/order-journal.js";
import type { Pacer } from "../pacing/scheduler.js";
import type { ProxyServer } from "../proxy/proxy-server.js";
import type { Registry } from "../registry/registry.js";
import { Switch } from "../switch/switch.js";
import { registryClientIds } from "./client-ids.js";
import type { ClientDataService } from "./data.js";
import { autoConnector, hostPortConnector, mockConnector } from "./upstream.js";

/** A line's order journal: the file one, or an HA group's in Redis. */
export type LineJournal = OrderJournal & {
  identity(): LineIdentity | undefined;
  recordIdentity(i: LineIdentity): void | Promise<void>;
  close(): void;
  readonly orphaned?: readonly NewOrder[];
};
export type LineAudit = OrderAudit & { close(): void | Promise<void> };

/**
 * What an HA group's active daemon gives a line (src/daemon/ha.ts): the group's journal and
 * audit in Redis, the group's lease on the line's client id, and the order gate.
 */
export interface LineHa {
  /** Loaded from Redis before the line is built (at takeover). */
  journal: LineJournal;
  audit: LineAudit;
  /** The client id the group holds on this line (its lease handed over with the HA lease). */
  groupClientId: number | undefined;
  /** The group's registry (Redis) and the owner the group's line ids are leased under. */
  registry: Registry;
  owner: string;
  /** Lets this daemon adopt the group's leases (renewed with the group's token). */
  adoptToken: string;
  /** A reason means "no order now": the lease renewal is no longer fresh. */
  orderGate: () => string | undefined;
}

export interface ManagedLine {
  readonly config: LineConfig;
  readonly line: Line;
  readonly connector: Connector;
  /** Tenants share the line through its switch. */
  readonly sw: Switch;
  /** The line's own pacer: its connection's budget, the TWS's rules shared (gateway-budget.ts). */
  readonly pacer: Pacer;
  readonly journal: LineJournal;
  readonly audit: LineAudit;
  /** The identity the line holds to; undefined on the built-in mock (it has none). */
  readonly identity: IdentityGuard | undefined;
  /** Client ids the user forced the line off: their orders are orphaned, never held again. */
  readonly forsaken: Set<number>;
  /** The line's TWS-protocol proxy, once listening. */
  proxy: ProxyServer | undefined;
  /** The data routes' service on this line, once started. */
  data: ClientDataService | undefined;
}

export interface ManagedLineDeps {
  config: DaemonConfig;
  stateDir: string;
  clock: Clock;
  random: () => number;
  logger: Logger;
  pid: number;
  /** Ports `auto` probes (the deps' override, else the config's). */
  autoPorts: readonly number[] | undefined;
  registry: Registry;
  /** The built-in mock (running before any line on it is built). */
  mock: () => MockGateway | undefined;
  /** Whether this line's host:port upstream was found to be a Switchboard mock process. */
  isStandaloneMock: (line: string) => boolean;
  pacer: Pacer;
  /** Daemon-wide tenant numbers: tenant ids are unique across lines. */
  nextTenantNumber: () => number;
  push: (e: BaseEvent) => void;
  /** Unsubscribers run at shutdown. */
  offs: (() => void)[];
  /** With `ha`: the group's state for this line (the daemon is the group's active one). */
  ha?: LineHa;
}

export function makeManagedLine(cfg: LineConfig, d: ManagedLineDeps): ManagedLine {
  const { clock, random, logger, stateDir } = d;
  const log = logger.child({ part: "daemon" });
  // Opened before the line: a journal in use by another process, or unreadable, is a start
  // error, and the line must know at once which client id holds live orders and which
  // identity it holds to. An HA group's journal is in Redis (loaded at takeover).
  const ha = d.ha;
  const journal: LineJournal =
    ha?.journal ?? FileOrderJournal.open({ stateDir, line: cfg.name, now: () => clock.now() });
  const pin = {
    ...(cfg.mode === undefined ? {} : { mode: cfg.mode }),
    ...(cfg.accounts === undefined ? {} : { accounts: cfg.accounts }),
  };
  const store = {
    load: () => journal.identity(),
    record: (i: LineIdentity) => {
      try {
        const done = journal.recordIdentity(i);
        if (done instanceof Promise)
          done.catch((err: unknown) =>
            log.error({ err, line: cfg.name, identity: i }, "cannot record the line's identity in Redis"),
          );
      } catch (err) {
        // The line still holds to it for this run; only a restart would not know it.
        log.error({ err, line: cfg.name, identity: i }, "cannot record the line's identity in its journal");
      }
    },
  };
  let connector: Connector;
  let identity: IdentityGuard | undefined;
  if (cfg.upstream.kind === "mock") {
    connector = mockConnector(() => d.mock()!.port);
  } else if (cfg.upstream.kind === "auto") {
    const guard = new IdentityGuard({ pin, store, isMock: () => auto.foundMock });
    const auto = autoConnector({
      ports: d.autoPorts ?? d.config.autoPorts ?? AUTO_PORTS,
      allowMock: d.config.allowMock,
      clock,
      random,
      logger,
      identity: guard,
    });
    connector = auto;
    identity = guard;
  } else {
    connector = hostPortConnector(cfg.upstream.host, cfg.upstream.port);
    identity = new IdentityGuard({ pin, store, isMock: () => d.isStandaloneMock(cfg.name) });
  }
  if (identity) {
    log.info(
      { line: cfg.name, identity: identity.view([]) },
      `line ${cfg.name} holds to identity ${identity.describe()}`,
    );
  }
  const audit: LineAudit = ha?.audit ?? new FileOrderAudit({ stateDir, line: cfg.name });
  if (journal.orphaned && journal.orphaned.length > 0) {
    log.error(
      {
        line: cfg.name,
        orders: journal.orphaned.map((o) => ({ owner: o.owner, upstreamId: o.upstreamId })),
      },
      "imported orders of per-run owners: they are reported as orphaned and never matched to a client",
    );
  }
  const built: { sw?: Switch } = {};
  const forsaken = new Set<number>();
  const line: Line = new Line({
    name: cfg.name,
    connector,
    // Live orders under the line's id keep it: on 326 the line waits, it never switches.
    placedOrders: (): number[] => {
      const clientId = line.clientId;
      const live = built.sw?.liveOrders() ?? [];
      return live
        .filter((o) => clientId === undefined || o.upstreamClientId === clientId)
        .map((o) => o.permId);
    },
    // Leases are scoped by line name: the line called "default" shares the CLI's default scope.
    clientIds: registryClientIds({
      registry: ha?.registry ?? d.registry,
      upstream: () => cfg.name,
      // An HA group's line ids belong to the group (TTL only, kept alive by the HA lease) and
      // stay with it when this daemon steps down: the next active connects with the same ids.
      owner: ha?.owner ?? `switchboard-daemon/${cfg.name}`,
      pid: ha ? undefined : d.pid,
      ...(ha ? { adoptToken: ha.adoptToken, keepOnRelease: true } : {}),
      random,
      clock,
      logger,
      // The lease of the line's id lost, or held by someone else: on the event stream.
      onConflict: (c) => {
        const event = { type: "lease.conflict", ts: clock.now(), line: cfg.name, ...c };
        d.push(event);
      },
      // Live orders from the journal: the line comes back on their client id.
      heldId: () =>
        heldClientId(
          (built.sw?.liveOrders() ?? journal.load().orders).filter((o) => !forsaken.has(o.upstreamClientId)),
        ) ?? ha?.groupClientId,
    }),
    ...(identity ? { identity } : {}),
    clock,
    random,
    logger,
  });
  d.offs.push(
    line.on("line.state", d.push),
    line.on("line.notice", d.push),
    line.on("line.resubscribe", d.push),
    line.on("orders.orphaned", d.push),
    line.on("line.identity_changed", d.push),
  );
  const sw = new Switch(line, d.pacer, {
    clock,
    logger: logger.child({ part: "switch", lineId: cfg.name }),
    readOnly: cfg.readOnly,
    journal,
    audit,
    nextTenantNumber: d.nextTenantNumber,
    ...(ha ? { orderGate: ha.orderGate } : {}),
    ...(d.config.historyCacheMs === undefined ? {} : { historyCacheMs: d.config.historyCacheMs }),
    ...(d.config.contractCacheMs === undefined ? {} : { contractCacheMs: d.config.contractCacheMs }),
  });
  built.sw = sw;
  // Tenant and order events name their line: tenant ids are unique in the daemon, but a
  // reader of the stream should not have to look the line up.
  const withLine = (e: BaseEvent) => {
    const named = { ...e, line: cfg.name };
    d.push(named);
  };
  d.offs.push(
    sw.events.on("tenant.open", withLine),
    sw.events.on("tenant.close", withLine),
    sw.events.on("switch.replayed", withLine),
    sw.events.on("order.shared_owner", withLine),
  );
  log.info(
    {
      line: cfg.name,
      upstream: upstreamText(cfg.upstream),
      required: cfg.required,
      readOnly: cfg.readOnly,
      proxyPort: cfg.proxyPort,
    },
    "line configured",
  );
  return {
    config: cfg,
    line,
    connector,
    sw,
    pacer: d.pacer,
    journal,
    audit,
    identity,
    forsaken,
    proxy: undefined,
    data: undefined,
  };
}

/**
 * The client id a line must hold: the one of its newest live orders (an old forced switch may
 * have left orders under two ids; the others are reported as orphaned).
 */
export function heldClientId(
  orders: readonly { upstreamClientId: number; upstreamId: number; state?: string }[],
): number | undefined {
  let newest: { upstreamClientId: number; upstreamId: number } | undefined;
  for (const o of orders) {
    if (o.state === "finished" || o.state === "refused") continue;
    if (!newest || o.upstreamId > newest.upstreamId) newest = o;
  }
  return newest?.upstreamClientId;
}
