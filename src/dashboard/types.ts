/**
 * The API's answers as the page reads them. Types only (erased by the bundler): they come
 * from the daemon's own modules, so a renamed field breaks the type check, not the page.
 */

import type { PoolSample } from "../api/pool-history.js";
import type { DaemonInfo, GroupView, TenantView } from "../api/view.js";
import type { HealthReport, LineView } from "../daemon/health.js";
import type { LineEvent } from "../line/line-events.js";
import type { PacerEvent } from "../pacing/pacer-events.js";
import type { PacerStatus } from "../pacing/scheduler.js";
import type { PacerStatsSnapshot } from "../pacing/stats.js";
import type { LeaseEvent, PublicLease } from "../registry/types.js";
import type { SwitchEvent } from "../switch/switch-events.js";

import type { JobView } from "../history/jobs.js";

export type HistoryJob = JobView;

export type { DaemonInfo, HealthReport, LineView, PacerStatsSnapshot, PacerStatus, PoolSample };

export interface Tenant extends TenantView {
  readonly line?: string;
  readonly openedAt?: string;
  readonly subscriptions?: number;
  readonly liveRequests?: number;
  readonly messagesIn?: number;
  readonly messagesOut?: number;
  readonly queued?: number;
}

export type Group = GroupView;

export type Lease = PublicLease & { readonly ageMs: number };

export interface PoolStatus {
  upstream: string;
  lines: LineView[];
  tenants: Tenant[];
  /** Shared upstream requests (absent from a daemon that does not share). */
  groups?: Group[];
  linesSaved?: number;
}

export type PoolHealth = HealthReport & { info: DaemonInfo };

export interface History {
  intervalMs: number;
  capacity: number;
  samples: PoolSample[];
}

export interface Purpose {
  name: string;
  min: number;
  max: number;
  size: number;
  leased: number;
}

/** Everything the panels draw, fetched together. */
export interface Snapshot {
  pool: PoolStatus;
  health: PoolHealth;
  leases: Lease[];
  /** The configured purposes and their id ranges (GET /api/ids/purposes). */
  purposes: Purpose[];
  /** The first line's pacer; `lines` has every line's (each line has its own). */
  pace: PacerStatus & { lines?: Record<string, PacerStatus> };
  stats: PacerStatsSnapshot & { lines?: Record<string, PacerStatsSnapshot> };
  /** Backfill jobs (GET /api/history/jobs). */
  jobs: HistoryJob[];
  /** The daemon's newest event id when the snapshot was taken. */
  lastEventId: number;
}

/** An event as it arrives on /events (the daemon may add types; the timeline shows those raw). */
export type DaemonEvent =
  | LineEvent
  | PacerEvent
  | LeaseEvent
  | SwitchEvent
  | { readonly type: string; readonly ts: number; readonly [field: string]: unknown };
