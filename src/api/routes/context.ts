/** What every route module receives from the server. */
import type { Clock } from "../../clock.js";
import type { AccessControl } from "../auth.js";
import type { DaemonMetrics } from "../metrics.js";
import type { DaemonView } from "../view.js";

export interface RouteContext {
  readonly view: DaemonView;
  readonly metrics: DaemonMetrics;
  readonly clock: Clock;
  /** For routes that check access themselves (the dashboard page). */
  readonly access: AccessControl;
  /** Aborted when the server closes (ends SSE streams and waiting data calls). */
  readonly closing: AbortSignal;
}
