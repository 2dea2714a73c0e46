/**
 * One order lane per owner: PLACE_ORDER, CANCEL_ORDER, EXERCISE_OPTIONS and REQ_GLOBAL_CANCEL
 * of one owner leave in the order they arrived.
 *
 * Invariants:
 *  - FIFO per owner: at most one message of an owner waits in the pacer; the next one is
 *    handed to the pacer only after the previous one was written or refused, so a cancel
 *    never overtakes its order whatever priority classes the pacer serves;
 *  - a message is written only under the line generation and upstream client id it was
 *    accepted under, and only while the line is ready; otherwise it is refused (201 for a
 *    new order, 399 for a modify or cancel) and never written later;
 *  - a new order's record is durable in the journal before its upstream write;
 *  - the lane runs under a pacer tenant of its own (`order:<owner>`): a sender socket that
 *    closes does not withdraw what it already handed over (TWS would have read it).
 */
import { classifyOutgoing } from "../pacing/request.js";
import { OUT } from "../protocol/message-ids.js";
import type { SwitchCore } from "./core.js";
import type { OrderEntry } from "./order-map.js";
import { refuseOrderMessage, type OrderAction } from "./order-answers.js";
import type { Tenant } from "./tenant.js";

export interface LaneItem {
  readonly action: OrderAction;
  /** The socket that sent it: refusals go there (and to the owner's newest socket). */
  readonly sender: Tenant;
  readonly owner: string;
  readonly localId: number;
  /** The message as it goes upstream (upstream ids already in place). */
  readonly fields: readonly string[];
  readonly generation: number;
  readonly upstreamClientId: number;
  /** The order it concerns (place, modify, cancel). */
  readonly entry: OrderEntry | undefined;
  /** Called right after the upstream write. */
  readonly onWritten?: () => void;
}

export class OrderLane {
  readonly #core: SwitchCore;
  readonly #queues = new Map<string, LaneItem[]>();
  readonly #busy = new Set<string>();
  #closed = false;

  constructor(core: SwitchCore) {
    this.#core = core;
  }

  /** Messages accepted and not yet written or refused. */
  get pending(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  accept(item: LaneItem): void {
    const q = this.#queues.get(item.owner) ?? [];
    q.push(item);
    this.#queues.set(item.owner, q);
    if (!this.#busy.has(item.owner)) this.#next(item.owner);
  }

  /** The switch closes: whatever is still queued is refused, never written later. */
  close(): void {
    this.#closed = true;
    for (const [owner, q] of this.#queues) {
      for (const item of q.splice(0)) refuseOrderMessage(this.#core, item, "Switchboard is shutting down");
      this.#queues.delete(owner);
    }
  }

  #next(owner: string): void {
    const q = this.#queues.get(owner);
    const head = q?.[0];
    if (!q || !head) {
      this.#queues.delete(owner);
      this.#busy.delete(owner);
      return;
    }
    this.#busy.add(owner);
    const core = this.#core;
    let settled = false;
    const done = () => {
      if (settled) return false;
      settled = true;
      q.shift();
      // Not from inside the pacer's release: the next acquire must not re-enter its pump.
      queueMicrotask(() => this.#next(owner));
      return true;
    };
    const req = classifyOutgoing(head.fields, {
      version: core.version,
      tenant: `order:${owner}`,
      priority: "high",
    });
    core.pacer
      .acquire(req, {
        deadlineMs: core.o.queueTimeoutMs,
        onRelease: () => {
          if (done()) this.#write(head);
        },
      })
      .catch((err: unknown) => {
        if (done())
          refuseOrderMessage(core, head, `not sent: ${err instanceof Error ? err.message : String(err)}`);
      });
  }

  #write(item: LaneItem): void {
    const core = this.#core;
    const line = core.line;
    if (this.#closed) {
      refuseOrderMessage(core, item, "Switchboard is shutting down");
      return;
    }
    if (line.generation !== item.generation || line.state !== "ready") {
      refuseOrderMessage(core, item, "the upstream connection changed before it was sent");
      return;
    }
    if ((line.clientId ?? 0) !== item.upstreamClientId) {
      refuseOrderMessage(
        core,
        item,
        `the line's client id changed from ${item.upstreamClientId} to ${line.clientId ?? 0} before it was sent`,
      );
      return;
    }
    const entry = item.entry;
    if (
      (item.action === "modify" || item.action === "cancel") &&
      entry &&
      (entry.state === "refused" || entry.state === "pending")
    ) {
      // Its order was never written (refused ahead of it in this lane): a PLACE_ORDER for that
      // id would reach TWS as a new order that the journal never saw.
      refuseOrderMessage(core, item, `order ${entry.localId} was never placed`);
      return;
    }
    if (item.action === "place" && entry) {
      // Durable before it reaches TWS: after a crash this order is known (as `unknown` if the
      // write is not confirmed) and never placed again.
      try {
        core.o.journal?.intent(entry, item.generation);
      } catch (err) {
        refuseOrderMessage(
          core,
          item,
          `the order journal could not be written (${err instanceof Error ? err.message : String(err)})`,
        );
        return;
      }
    }
    line.send(item.fields);
    if (entry && (item.action === "place" || item.action === "modify")) {
      if (entry.state === "pending") entry.state = "written";
      entry.writtenGeneration = item.generation;
      if (item.action === "place") core.o.journal?.written(entry);
    }
    if (entry && item.action !== "place" && item.action !== "exercise") {
      // Until TWS says anything about this order, a dropped connection leaves the change's
      // outcome unknown (order-reconcile.ts).
      entry.unanswered = {
        action: item.action === "modify" ? "modify" : "cancel",
        generation: item.generation,
        reported: false,
      };
    }
    core.audit(item, "written");
    item.onWritten?.();
  }
}

export const GLOBAL_CANCEL_FIELDS = (upstreamId: number): string[] => [
  String(OUT.CANCEL_ORDER),
  "1",
  String(upstreamId),
  "",
];
