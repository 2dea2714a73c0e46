/**
 * /metrics: Prometheus text via prom-client on a registry of our own (never the global one,
 * so two daemons in one test process do not collide). Gauges are filled from snapshot()s at
 * scrape time; waits and violations are counted from events as they happen.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { LINE_TRANSITIONS, type LineState } from "../line/line-events.js";
import type { DaemonView } from "./view.js";

type LeaseSnapshot = Awaited<ReturnType<DaemonView["registry"]["snapshot"]>>;

const LINE_STATES = Object.keys(LINE_TRANSITIONS) as LineState[];
const TENANT_KINDS = ["proxy", "client", "http"];
export const WAIT_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

export interface DaemonMetrics {
  readonly registry: Registry;
  text(): Promise<string>;
  readonly contentType: string;
  close(): void;
}

export function createMetrics(view: DaemonView): DaemonMetrics {
  const registry = new Registry();
  // One lease-store snapshot per scrape, shared by the gauges that read it. A store that is
  // away (Redis restarting) costs those gauges, never the whole scrape.
  let scrapeSnapshot: Promise<LeaseSnapshot | undefined> | undefined;
  const leaseSnapshot = (): Promise<LeaseSnapshot | undefined> =>
    (scrapeSnapshot ??=
      view.registry.state === "open"
        ? view.registry.snapshot().catch(() => undefined)
        : Promise.resolve(undefined));
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new Gauge({
    name: "switchboard_line_state",
    help: "1 for the state each line is in, 0 for the others",
    labelNames: ["line", "state"],
    registers,
    collect() {
      this.reset();
      for (const l of view.lines()) {
        for (const s of LINE_STATES) this.set({ line: l.name, state: s }, l.state === s ? 1 : 0);
      }
    },
  });

  new Gauge({
    name: "switchboard_ha_role",
    help: "With ha: 1 for this daemon's role in its group (active, standby, stepping_down), 0 for the others",
    labelNames: ["group", "role"],
    registers,
    collect() {
      this.reset();
      const ha = view.ha?.();
      if (!ha) return;
      for (const r of ["active", "standby", "stepping_down"])
        this.set({ group: ha.group, role: r }, ha.role === r ? 1 : 0);
    },
  });
  new Gauge({
    name: "switchboard_ha_transitions",
    help: "With ha: times this daemon became active (promotions) and stepped down, since start",
    labelNames: ["group", "kind"],
    registers,
    collect() {
      this.reset();
      const ha = view.ha?.();
      if (!ha) return;
      this.set({ group: ha.group, kind: "promotion" }, ha.promotions);
      this.set({ group: ha.group, kind: "step_down" }, ha.stepDowns);
      this.set({ group: ha.group, kind: "lease_call_failures" }, ha.leaseFailures);
    },
  });

  const seenReconnects = new Map<string, number>();
  new Counter({
    name: "switchboard_line_reconnects_total",
    help: "Times a line came back to ready after losing its socket",
    labelNames: ["line"],
    registers,
    collect() {
      for (const l of view.lines()) {
        const delta = l.reconnects - (seenReconnects.get(l.name) ?? 0);
        if (delta > 0 || !seenReconnects.has(l.name)) this.inc({ line: l.name }, Math.max(0, delta));
        seenReconnects.set(l.name, l.reconnects);
      }
    },
  });

  new Gauge({
    name: "switchboard_heartbeat_rtt_seconds",
    help: "Round trip of the last heartbeat probe (REQ_CURRENT_TIME) per line",
    labelNames: ["line"],
    registers,
    collect() {
      this.reset();
      for (const l of view.lines()) {
        if (l.heartbeatRttMs !== null) this.set({ line: l.name }, l.heartbeatRttMs / 1000);
      }
    },
  });

  const seenRequests = new Map<string, number>();
  new Counter({
    name: "switchboard_requests_total",
    help: "Requests tenants sent through the switch, by line, kind and outcome",
    labelNames: ["line", "kind", "outcome"],
    registers,
    collect() {
      for (const { line = "", kind, outcome, count } of view.requests()) {
        const key = `${line}\u0000${kind}\u0000${outcome}`;
        const delta = count - (seenRequests.get(key) ?? 0);
        if (delta > 0 || !seenRequests.has(key)) this.inc({ line, kind, outcome }, Math.max(0, delta));
        seenRequests.set(key, count);
      }
    },
  });

  const waits = new Histogram({
    name: "switchboard_pacer_wait_seconds",
    help: "How long requests waited in the pacer, by line (each has its own pacer) and the rule that held them back",
    labelNames: ["line", "rule"],
    buckets: WAIT_BUCKETS_SECONDS,
    registers,
  });
  const violations = new Counter({
    name: "switchboard_pacing_violations_total",
    help: "Pacing violations reported by TWS, by line and IB error code (100, 162, 420…)",
    labelNames: ["line", "code"],
    registers,
  });
  const events = new Counter({
    name: "switchboard_events_total",
    help: "Events published on /events, by type",
    labelNames: ["type"],
    registers,
  });
  const offRing = view.events.subscribe((e) => {
    events.inc({ type: e.type });
    if (e.type === "pacer.violation") {
      const d = e.data as unknown as Record<string, unknown>;
      violations.inc({ line: String(d.line ?? ""), code: String(d.code) });
    }
  });
  // Every single wait (the ring holds only digests of them).
  const offTap = view.events.tap((e) => {
    if (e.type !== "pacer.wait") return;
    const d = e as unknown as Record<string, unknown>;
    if (d.waits === undefined)
      waits.observe({ line: String(d.line ?? ""), rule: String(d.rule) }, Number(d.waitedMs) / 1000);
  });
  const off = () => {
    offRing();
    offTap();
  };

  new Gauge({
    name: "switchboard_leases",
    help: "Client-id leases held now, by purpose (all upstreams)",
    labelNames: ["purpose"],
    registers,
    async collect() {
      this.reset();
      const snap = await leaseSnapshot();
      if (!snap) return;
      const byPurpose = new Map<string, number>();
      for (const u of snap.usage) byPurpose.set(u.purpose, (byPurpose.get(u.purpose) ?? 0) + u.leased);
      for (const [purpose, n] of byPurpose) this.set({ purpose }, n);
    },
  });
  new Gauge({
    name: "switchboard_lease_store_up",
    help: "1 when the lease store (file or Redis) answered this scrape's snapshot, else 0",
    registers,
    async collect() {
      this.set((await leaseSnapshot()) ? 1 : 0);
    },
  });

  new Gauge({
    name: "switchboard_tenants",
    help: "Open tenants by line and kind (proxy sessions, in-process clients, HTTP handlers)",
    labelNames: ["line", "kind"],
    registers,
    collect() {
      this.reset();
      const lines = view.lines().map((l) => l.name);
      const counts = new Map<string, number>();
      for (const line of lines) for (const k of TENANT_KINDS) counts.set(`${line}\u0000${k}`, 0);
      for (const t of view.tenants()) {
        const key = `${typeof t.line === "string" ? t.line : ""}\u0000${t.kind}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const [key, n] of counts) {
        const [line = "", kind = ""] = key.split("\u0000");
        this.set({ line, kind }, n);
      }
    },
  });

  new Gauge({
    name: "switchboard_groups",
    help: "Shared upstream requests (fan-out) per line, by kind (stream, oneshot)",
    labelNames: ["line", "kind"],
    registers,
    collect() {
      this.reset();
      for (const f of view.fanout?.() ?? []) {
        for (const kind of ["stream", "oneshot"])
          this.set({ line: f.line, kind }, f.groups.filter((g) => g.kind === kind).length);
      }
    },
  });

  new Gauge({
    name: "switchboard_group_members",
    help: "Tenant requests served by shared upstream requests, per line and kind",
    labelNames: ["line", "kind"],
    registers,
    collect() {
      this.reset();
      for (const f of view.fanout?.() ?? []) {
        for (const kind of ["stream", "oneshot"]) {
          const members = f.groups.filter((g) => g.kind === kind).reduce((n, g) => n + g.members, 0);
          this.set({ line: f.line, kind }, members);
        }
      }
    },
  });

  new Gauge({
    name: "switchboard_lines_saved",
    help: "Upstream requests saved by sharing now (members beyond the first of every group)",
    labelNames: ["line"],
    registers,
    collect() {
      this.reset();
      for (const f of view.fanout?.() ?? []) this.set({ line: f.line }, f.linesSaved);
    },
  });

  new Gauge({
    name: "switchboard_group_ticks_per_second",
    help: "Messages per second the shared streams of a line receive (each fanned out to every member)",
    labelNames: ["line"],
    registers,
    collect() {
      this.reset();
      for (const f of view.fanout?.() ?? [])
        this.set(
          { line: f.line },
          f.groups.reduce((n, g) => n + g.ticksPerSecond, 0),
        );
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    text: () => {
      scrapeSnapshot = undefined;
      return registry.metrics();
    },
    close: () => {
      off();
      registry.clear();
    },
  };
}
