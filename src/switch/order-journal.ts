/**
 * What the switch needs to keep orders across restarts: a journal (durable before the upstream
 * write, never a replay log) and an audit trail. The daemon's file implementations live in
 * src/orders; without them the switch keeps its orders in memory only.
 */
import type { OrderAction } from "./order-answers.js";
import type { NewOrder, OrderEntry } from "./order-map.js";

export interface JournalContents {
  /**
   * Orders as the journal last knew them. A record whose write was never confirmed comes
   * back as `unknown`: it is reconciled, never written again.
   */
  orders: NewOrder[];
  highWater: Record<string, number>;
}

export interface OrderJournal {
  load(): JournalContents;
  /**
   * Append the order's record; resolves once it is on disk (fdatasync, off the event loop).
   * The upstream write waits for it. Throws (or rejects) when the record cannot be made durable.
   */
  intent(e: OrderEntry, generation: number): Promise<void>;
  /** The upstream write happened (not synced: a lost confirmation only makes it `unknown`). */
  written(e: OrderEntry): void;
  /** A later state change (live, unknown, finished, refused) or a permId learnt. */
  update(e: OrderEntry): void;
  /**
   * A journal that is only writable under a fence (an HA group's): resolves once a fenced write
   * of the order's record was taken, before a modify or cancel of it goes upstream; rejects
   * when the fence or the store refused it. A local file journal has none (nothing to fence).
   */
  fence?(e: OrderEntry): Promise<void>;
}

export type AuditOutcome = "written" | "unknown" | "status" | `refused(${number})`;

export interface AuditRecord {
  ts: string;
  owner: string;
  localId: number;
  upstreamId: number | null;
  upstreamClientId: number;
  generation: number;
  kind: OrderAction | "reconcile";
  outcome: AuditOutcome;
  /** For `status`: TWS's status text. */
  status?: string;
}

export interface OrderAudit {
  append(record: AuditRecord): void;
}
