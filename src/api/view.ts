/**
 * What the HTTP API reads and calls. The daemon implements it; the API never sees the
 * daemon's private parts (events and snapshot()s only, as the house rules want).
 */
import type { EventLog } from "../daemon/event-log.js";
import type { HaView } from "../daemon/ha.js";
import type { HealthReport, LineView } from "../daemon/health.js";
import type { PacerStatus } from "../pacing/scheduler.js";
import type { PacerStatsSnapshot } from "../pacing/stats.js";
import type { Registry } from "../registry/registry.js";
import type { DataService } from "./data-service.js";
import type { HistoryJobs } from "../history/jobs.js";

/** One tenant as the switch reports it (kept structural so the API does not need the switch). */
export interface TenantView {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly clientId: number;
  readonly state: string;
  readonly [field: string]: unknown;
}

/** One shared upstream request (fan-out) as the switch reports it. */
export interface GroupView {
  readonly line: string;
  readonly kind: "stream" | "oneshot";
  readonly request: string;
  readonly upstreamId: number;
  readonly members: number;
  readonly ticksPerSecond: number;
  readonly messages: number;
  readonly createdAt: string;
}

/** Fan-out of one line: its groups, the upstream requests they save, answers kept. */
export interface FanoutView {
  readonly line: string;
  readonly groups: GroupView[];
  /** Members beyond the first of every group: upstream requests (lines, for streams) saved. */
  readonly linesSaved: number;
  /** Requests answered from a kept answer (history, contract details). */
  readonly cacheHits: number;
}

export interface DaemonInfo {
  readonly version: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly readOnly: boolean;
  readonly upstream: string;
  readonly mockPort: number | null;
  readonly mockControlPort: number | null;
  /** The first line's proxy port. */
  readonly proxyPort: number | null;
  /** Every line's proxy port, by line name. */
  readonly proxyPorts?: Readonly<Record<string, number | null>>;
}

/** One pacer's window use now and its waits since start. */
export interface PaceView {
  status: PacerStatus;
  stats: PacerStatsSnapshot;
}

export interface DaemonView {
  info(): DaemonInfo;
  lines(): LineView[];
  health(): HealthReport;
  tenants(): TenantView[];
  /** Counters of each line's switch, by line name. */
  switchCounters(): Record<string, unknown>;
  /** Shared upstream requests per line (absent on views without a switch). */
  fanout?(): FanoutView[];
  /** Requests through the switches, by line (absent: one line), kind and outcome, since start. */
  requests(): { line?: string; kind: string; outcome: string; count: number }[];
  /**
   * The pacer of line `line` (default: the first; each line has its own), plus every line's
   * (`lines`, by name, on daemons with several). An unknown line throws a 400.
   */
  pace(line?: string): PaceView & { lines?: Record<string, PaceView> };
  /**
   * Force a line off its client id (its live orders are reported orphaned); undefined when no
   * such line holds an id.
   */
  switchClientId?(line: string): { line: string; clientId: number; permIds: number[] } | undefined;
  /** The daemon's place in its HA group; undefined (or absent) without `ha`. */
  ha?(): HaView | undefined;
  readonly registry: Registry;
  readonly events: EventLog;
  /** The first line's data service. */
  readonly data: DataService;
  /** The data service of line `line` (undefined: the first); an unknown line throws a 400. */
  dataOf?(line?: string): DataService;
  /** The configured lines, first (the default of `line=`) first. */
  lineNames?(): string[];
  /** Backfill jobs (`/api/history/jobs`), once the daemon has started them. */
  readonly historyJobs?: Pick<HistoryJobs, "create" | "list" | "get" | "stop"> | undefined;
}
