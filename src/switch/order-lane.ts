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
 *  - a new order's record is durable in the journal before its upstream write; the sync runs
 *    off the event loop and the owner's next message waits for it, and the line, client id
 *    and generation are checked again after it;
 *  - with a fenced journal (HA), a modify or cancel is written upstream only after a fenced
 *    journal write of its order was taken, checked again the same way;
 *  - every accepted message gets exactly one outcome: written, or refused;
 *  - bounded: at most `maxOrderLane` (1,000) messages wait per owner; past that a message is
 *    refused at once (201 for a new order, 399 for a modify or cancel), audited;
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
  /** Items that have an outcome (written or refused): each gets exactly one. */
  readonly #settled = new WeakSet<LaneItem>();
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
    if (q.length >= this.#core.o.maxOrderLane) {
      // Bounded: an owner that floods its lane hears so at once, never silence later.
      this.#refuse(item, `order lane full (${q.length} order messages of this client wait to be sent)`);
      return;
    }
    q.push(item);
    this.#queues.set(item.owner, q);
    if (!this.#busy.has(item.owner)) this.#next(item.owner);
  }

  /**
   * The switch closes: whatever still waits is refused, never written later. A place whose
   * journal record is being synced right now is refused when the sync ends (it checks).
   */
  close(): void {
    this.#closed = true;
    for (const q of this.#queues.values()) {
      for (const item of q) this.#refuse(item, "Switchboard is shutting down");
    }
  }

  #refuse(item: LaneItem, reason: string): void {
    if (this.#settled.has(item)) return;
    this.#settled.add(item);
    refuseOrderMessage(this.#core, item, reason);
  }

  #next(owner: string): void {
    const q = this.#queues.get(owner);
    // Refused while waiting (the switch closed): they have their outcome, they take no turn.
    while (q && q[0] && this.#settled.has(q[0])) q.shift();
    const head = q?.[0];
    if (!q || !head) {
      this.#queues.delete(owner);
      this.#busy.delete(owner);
      return;
    }
    this.#busy.add(owner);
    const core = this.#core;
    let released = false;
    // The next message of this owner goes to the pacer only once this one is written or
    // refused (a place waits for its journal sync): FIFO whatever the pacer's classes.
    const finish = () => {
      if (q[0] === head) q.shift();
      // Not from inside the pacer's release: the next acquire must not re-enter its pump.
      queueMicrotask(() => this.#next(owner));
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
          if (released) return;
          released = true;
          let writing: Promise<void> | undefined;
          try {
            writing = this.#write(head);
          } catch (err) {
            // A disk that fails after the write (a confirmation record) must not stop the lane.
            this.#refuse(head, `not sent: ${err instanceof Error ? err.message : String(err)}`);
            core.log.error({ err, owner }, "order lane write failed");
          }
          if (!writing) {
            finish();
            return;
          }
          writing.then(finish, (err: unknown) => {
            this.#refuse(head, `not sent: ${err instanceof Error ? err.message : String(err)}`);
            core.log.error({ err, owner }, "order lane write failed");
            finish();
          });
        },
      })
      .catch((err: unknown) => {
        if (released) return;
        released = true;
        this.#refuse(head, `not sent: ${err instanceof Error ? err.message : String(err)}`);
        finish();
      });
  }

  /** Why `item` may not be written now, or undefined. */
  #whyNotNow(item: LaneItem): string | undefined {
    const line = this.#core.line;
    if (this.#closed) return "Switchboard is shutting down";
    if (line.generation !== item.generation || line.state !== "ready")
      return "the upstream connection changed before it was sent";
    if ((line.clientId ?? 0) !== item.upstreamClientId)
      return `the line's client id changed from ${item.upstreamClientId} to ${line.clientId ?? 0} before it was sent`;
    // Last, and synchronously before the socket write: an HA daemon past its window must not write.
    return this.#core.o.orderGate();
  }

  /** Write the item, or refuse it; a place returns once its journal sync has ended either way. */
  #write(item: LaneItem): Promise<void> | undefined {
    const core = this.#core;
    if (this.#settled.has(item)) return undefined;
    const why = this.#whyNotNow(item);
    if (why !== undefined) {
      this.#refuse(item, why);
      return undefined;
    }
    const entry = item.entry;
    if (
      (item.action === "modify" || item.action === "cancel") &&
      entry &&
      (entry.state === "refused" || entry.state === "pending")
    ) {
      // Its order was never written (refused ahead of it in this lane): a PLACE_ORDER for that
      // id would reach TWS as a new order that the journal never saw.
      this.#refuse(item, `order ${entry.localId} was never placed`);
      return undefined;
    }
    const journal = core.o.journal;
    const cannot = (err: unknown) =>
      `the order journal could not be written (${err instanceof Error ? err.message : String(err)})`;
    if ((item.action === "modify" || item.action === "cancel") && entry && journal?.fence) {
      // An HA group's journal: a change goes upstream only after a fenced write was taken, so
      // a deposed daemon, or one cut off from Redis, never writes it.
      let fenced: Promise<void>;
      try {
        fenced = journal.fence(entry);
      } catch (err) {
        this.#refuse(item, cannot(err));
        return undefined;
      }
      return fenced.then(
        () => {
          const late = this.#whyNotNow(item);
          if (late === undefined) this.#send(item);
          else this.#refuse(item, late);
        },
        (err: unknown) => this.#refuse(item, cannot(err)),
      );
    }
    if (item.action !== "place" || !entry || !journal) {
      this.#send(item);
      return undefined;
    }
    // Durable before it reaches TWS: after a crash this order is known (as `unknown` if the
    // write is not confirmed) and never placed again. The sync runs off the event loop.
    let durable: Promise<void>;
    try {
      durable = journal.intent(entry, item.generation);
    } catch (err) {
      this.#refuse(item, cannot(err));
      return undefined;
    }
    return durable.then(
      () => {
        // Time passed: the line, its client id or the switch may have changed meanwhile.
        const late = this.#whyNotNow(item);
        if (late === undefined) return this.#send(item);
        this.#refuse(item, late);
        // Its record is on disk: say it was never written, or the next start calls it unknown.
        journal.update(entry);
      },
      (err: unknown) => {
        this.#refuse(item, cannot(err));
        journal.update(entry);
      },
    );
  }

  #send(item: LaneItem): void {
    const core = this.#core;
    const entry = item.entry;
    this.#settled.add(item);
    core.line.send(item.fields);
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
