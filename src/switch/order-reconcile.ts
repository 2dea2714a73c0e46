/**
 * What the switch learns about its orders from TWS, and what it does when a connection ends
 * under them.
 *
 * Invariants:
 *  - an order written but not acknowledged (no status, no error, no open order) when its
 *    connection ends becomes `unknown`: its owner gets 399 "outcome unknown" and its last
 *    known status, and it is never written again;
 *  - a modify or cancel written but not answered (nothing from TWS about its order since)
 *    when its connection ends gets the same 399 "outcome unknown" and an `unknown` audit line;
 *    its order is reconciled on the next ready and the owner gets TWS's status for it;
 *  - an order TWS acknowledged once is never declared "never placed";
 *  - on the next ready, before any order message is accepted again, the switch asks TWS for
 *    its open orders, its executions and its completed orders under the line's client id and
 *    settles every order that is not finished, matching on (client id, order id) in open
 *    orders and executions, then on permId or orderRef in completed orders: found open →
 *    live; found completed → finished with that status; not open but with executions →
 *    finished, Filled with what was executed; found nowhere → never placed: the owner gets
 *    201 and the record is finished;
 *  - reconciliation runs only under the orders' own client id; orders under another id wait.
 */
import { fromFields } from "../protocol/codec.js";
import { IN, OUT } from "../protocol/message-ids.js";
import { toFields } from "../protocol/codec.js";
import { COMPLETED_ORDER } from "../protocol/messages/open-order.js";
import { EXECUTION_DATA, EXECUTION_DATA_END, REQ_EXECUTIONS } from "../protocol/messages/orders.js";
import { SWITCH_TENANT, type SwitchCore } from "./core.js";
import { isWarningCode } from "./inbound.js";
import {
  answerTargets,
  deliverLastStatus,
  deliverStatus,
  ORDER_REJECTED,
  ORDER_WARNING,
} from "./order-answers.js";
import type { AuditOutcome, AuditRecord } from "./order-journal.js";
import { isDone, type OrderEntry, type UnansweredChange } from "./order-map.js";

const FINISHED = new Set(["Filled", "Cancelled", "ApiCancelled"]);

interface Completed {
  status: string;
  filled: string;
  permId: number;
}
/** As the journal's compaction: orders finished more than 7 days ago leave memory. */
const FORGET_FINISHED_MS = 7 * 24 * 3_600_000;

export class OrderReconciler {
  readonly #core: SwitchCore;
  #running = false;
  #candidates: OrderEntry[] = [];
  readonly #openSeen = new Set<number>();
  /**
   * Orders finished by an error before any status: TWS sends advisory errors (10349 "TIF set
   * to DAY"…) for orders that stay live, so a later status or open order brings them back.
   */
  readonly #finishedByError = new WeakSet<OrderEntry>();
  /** Completed orders by orderRef (a client's own refs need not be unique: all are kept). */
  readonly #completed = new Map<string, Completed[]>();
  readonly #completedByPerm = new Map<number, Completed>();
  /** Executions of this run's question, by upstream order id (under the line's client id). */
  readonly #executions = new Map<number, { permId: number; cumQty: number }>();
  /** Candidates with a modify or cancel of unknown outcome: audited once settled. */
  readonly #unknownChanges = new Map<OrderEntry, UnansweredChange>();
  /** execIds of those executions: their commission reports are ours too. */
  readonly #execIds = new Set<string>();
  #executionsReqId: number | undefined;
  #openEnd = false;
  #completedEnd = false;
  #executionsEnd = false;
  /** Reconciliations finished (for tests and status). */
  runs = 0;

  constructor(core: SwitchCore) {
    this.#core = core;
  }

  get running(): boolean {
    return this.#running;
  }

  /**
   * Every message from the line, before it is routed. Returns true for the answers to the
   * reconciliation's own executions question: they are for nobody else.
   */
  observe(msgId: number, fields: readonly string[]): boolean {
    const core = this.#core;
    switch (msgId) {
      case IN.EXECUTION_DATA:
        return this.#readExecution(fields);
      case IN.COMMISSION_REPORT:
        // TWS follows each execution it lists with its commission report.
        return this.#execIds.delete(fields[2] ?? "");
      case IN.EXECUTION_DATA_END: {
        const { reqId } = fromFields(EXECUTION_DATA_END, fields, core.version);
        if (this.#executionsReqId === undefined || reqId !== this.#executionsReqId) return false;
        if (this.#running) {
          this.#executionsEnd = true;
          this.#maybeFinish();
        }
        return true;
      }
      case IN.ORDER_STATUS: {
        const e = core.orders.byUpstream(Number(fields[1]));
        if (!e) return false;
        e.unanswered = undefined;
        e.lastStatus = [...fields];
        const permId = Number(fields[6]);
        if (permId > 0) e.permId = permId;
        const status = fields[2] ?? "";
        const remaining = Number(fields[4]);
        const done = FINISHED.has(status) || (status === "Inactive" && remaining === 0);
        this.#settle(e, done ? "finished" : "live", status);
        return false;
      }
      case IN.OPEN_ORDER: {
        const id = Number(fields[1]);
        const e = core.orders.byUpstream(id);
        if (!e) return false;
        e.unanswered = undefined;
        const permId = Number(fields[25]);
        if (permId > 0) e.permId = permId;
        if (this.#running) this.#openSeen.add(id);
        if (e.state === "written" || e.state === "unknown" || this.#finishedByError.has(e))
          this.#settle(e, "live");
        return false;
      }
      case IN.ERR_MSG: {
        const e = core.orders.byUpstream(Number(fields[2]));
        const code = Number(fields[3]);
        if (e) e.unanswered = undefined;
        // TWS refused a new order before any status: it never became live.
        if (e && e.state === "written" && !isWarningCode(code)) {
          this.#settle(e, "finished", `error ${code}`);
          this.#finishedByError.add(e);
        }
        return false;
      }
      case IN.COMPLETED_ORDER:
        if (this.#running) this.#readCompleted(fields);
        return false;
      case IN.OPEN_ORDER_END:
        if (this.#running) {
          this.#openEnd = true;
          this.#maybeFinish();
        }
        return false;
      case IN.COMPLETED_ORDERS_END:
        if (this.#running) {
          this.#completedEnd = true;
          this.#maybeFinish();
        }
        return false;
    }
    return false;
  }

  /** An execution answering this run's question (ours alone), or false for anyone else's. */
  #readExecution(fields: readonly string[]): boolean {
    if (this.#executionsReqId === undefined || Number(fields[1]) !== this.#executionsReqId) return false;
    if (!this.#running) return true;
    try {
      const { execution: x } = fromFields(EXECUTION_DATA, fields, this.#core.version);
      this.#execIds.add(x.execId);
      // TWS ties an order to the client id that placed it: only that id's order ids match.
      if (x.clientId !== (this.#core.line.clientId ?? 0)) return true;
      const seen = this.#executions.get(x.orderId);
      const cumQty = Number(x.cumQty ?? x.shares ?? 0);
      this.#executions.set(x.orderId, {
        permId: x.permId,
        cumQty: Math.max(seen?.cumQty ?? 0, Number.isFinite(cumQty) ? cumQty : 0),
      });
    } catch {
      // An execution we cannot read matches nothing; its order is settled by the other lists.
    }
    return true;
  }

  /**
   * The connection ended: written, unacknowledged orders have an unknown outcome now, and so
   * have modifies and cancels TWS did not answer.
   */
  onConnectionLost(): void {
    const core = this.#core;
    // The lists stay until the next ready clears them: this can run inside the settling loop
    // (a tenant told of an outcome closes the line), which still reads them.
    this.#running = false;
    for (const e of [...core.orders.all()]) {
      const change = e.unanswered;
      let told = false;
      if (e.state === "written") {
        e.state = "unknown";
        core.o.journal?.update(e);
        this.#auditPlace(e, "unknown", undefined, "place", e.writtenGeneration);
        this.#tellUnknown(e);
        told = true;
      }
      if (change && !change.reported && !isDone(e.state)) {
        change.reported = true;
        core.audit(
          {
            action: change.action,
            owner: e.owner,
            localId: e.localId,
            entry: e,
            generation: change.generation,
            upstreamClientId: e.upstreamClientId,
          },
          "unknown",
        );
        if (!told) this.#tellUnknown(e);
      }
    }
  }

  #tellUnknown(e: OrderEntry): void {
    const core = this.#core;
    for (const t of answerTargets(core, e.owner)) {
      core.errorTo(
        t,
        e.localId,
        ORDER_WARNING,
        "Order Message: Warning: outcome unknown: the upstream connection ended before TWS answered; it is reconciled when the line is back",
      );
      deliverLastStatus(core, e, t);
    }
  }

  /** The line is ready on a new connection: settle every order not known to be finished. */
  onReady(): void {
    const core = this.#core;
    this.#forgetOld();
    const clientId = core.line.clientId ?? 0;
    this.#candidates = core.orders.live().filter((e) => e.upstreamClientId === clientId);
    if (this.#candidates.length === 0) return;
    // Kept across an abandoned run: its answers may have cleared `unanswered` already.
    for (const e of this.#candidates) if (e.unanswered?.reported) this.#unknownChanges.set(e, e.unanswered);
    this.#running = true;
    this.#forgetAnswers();
    this.#execIds.clear();
    this.#openEnd = false;
    this.#completedEnd = false;
    this.#executionsEnd = false;
    core.log.info({ orders: this.#candidates.length }, "reconciling orders with TWS");
    // Questions that cannot go out, or answers that never come, end the run with every order
    // left as it was (unknown stays unknown, asked again on the next ready): order messages
    // are never refused for good because TWS did not answer.
    const giveUp = (why: string) => this.#abandon(why);
    core.dispatch(SWITCH_TENANT, [String(OUT.REQ_OPEN_ORDERS), "1"], {
      priority: "urgent",
      onFail: (err) => giveUp(String(err)),
    });
    core.dispatch(SWITCH_TENANT, [String(OUT.REQ_COMPLETED_ORDERS), "0"], {
      priority: "urgent",
      onFail: (err) => giveUp(String(err)),
    });
    // A fresh id each run: answers to an abandoned run's question are recognised and dropped.
    const reqId = core.ids.nextRequestId();
    this.#executionsReqId = reqId;
    const filter = { clientId, acctCode: "", time: "", symbol: "", secType: "", exchange: "", side: "" };
    core.dispatch(SWITCH_TENANT, toFields(REQ_EXECUTIONS, { reqId, filter }, core.version), {
      priority: "urgent",
      onFail: (err) => giveUp(String(err)),
    });
    const run = this.runs;
    core.o.clock.setTimeout(() => {
      if (this.#running && this.runs === run) giveUp("no answer within the queue timeout");
    }, core.o.queueTimeoutMs);
  }

  #abandon(why: string): void {
    if (!this.#running) return;
    this.#running = false;
    this.#candidates = [];
    this.#forgetAnswers();
    this.runs++;
    this.#core.log.warn(
      { why },
      "order reconciliation abandoned; orders keep their state until the next ready",
    );
  }

  /** Entries of TWS's lists held now (open orders, completed orders, executions seen). */
  get held(): number {
    let n = this.#openSeen.size + this.#completedByPerm.size + this.#executions.size;
    for (const list of this.#completed.values()) n += list.length;
    return n;
  }

  /**
   * What TWS listed for a run is of no use once the run has finished or been abandoned: the
   * completed orders of the whole day grow with every order, so keeping them until the next
   * run would keep memory growing with the day. (`#execIds` stays: commission reports for
   * this run's executions may still come, and each one takes its id out.) A lost connection
   * leaves them to the next ready (see onConnectionLost).
   */
  #forgetAnswers(): void {
    this.#openSeen.clear();
    this.#completed.clear();
    this.#completedByPerm.clear();
    this.#executions.clear();
  }

  /** Orders finished long ago leave memory (their owner's mark stays, so 103 still holds). */
  #forgetOld(): void {
    const core = this.#core;
    const cutoff = core.o.clock.now() - FORGET_FINISHED_MS;
    for (const e of [...core.orders.all()]) {
      if (isDone(e.state) && e.finishedAt !== undefined && e.finishedAt < cutoff) core.orders.forget(e);
    }
  }

  #readCompleted(fields: readonly string[]): void {
    try {
      const o = fromFields(COMPLETED_ORDER, fields, this.#core.version);
      const seen = { status: o.status, filled: o.filledQuantity ?? "0", permId: o.permId };
      if (o.permId > 0) this.#completedByPerm.set(o.permId, seen);
      if (!o.orderRef) return;
      const list = this.#completed.get(o.orderRef);
      if (list) list.push(seen);
      else this.#completed.set(o.orderRef, [seen]);
    } catch {
      // A completed order we cannot read cannot be matched; its order stays unsettled below.
    }
  }

  #maybeFinish(): void {
    if (!this.#openEnd || !this.#completedEnd || !this.#executionsEnd) return;
    const core = this.#core;
    for (const e of this.#candidates) {
      // Whatever is found below is TWS's answer to a change whose outcome was unknown.
      e.unanswered = undefined;
      if (isDone(e.state)) continue;
      if (this.#openSeen.has(e.upstreamId)) {
        this.#settle(e, "live");
        continue;
      }
      // Executions under its own (client id, order id): it was placed, and it has its permId.
      const found = this.#executions.get(e.upstreamId);
      // An order id is this order's only with its permId, once that is known.
      const executed =
        found && (!(e.permId > 0) || !(found.permId > 0) || found.permId === e.permId) ? found : undefined;
      if (executed && executed.permId > 0 && !(e.permId > 0)) e.permId = executed.permId;
      // A completed order is this one only by its permId, or by an orderRef no other completed
      // order shares (another app's order may carry the same ref).
      const sameRef = e.orderRef ? (this.#completed.get(e.orderRef) ?? []) : [];
      const done =
        e.permId > 0 ? this.#completedByPerm.get(e.permId) : sameRef.length === 1 ? sameRef[0] : undefined;
      if (!done && executed) {
        // Not open, not among completed orders, but it traded: nothing of it works any more.
        const filled = String(executed.cumQty);
        this.#settle(e, "finished", "Filled");
        for (const t of answerTargets(core, e.owner)) deliverStatus(core, e, t, "Filled", filled, "0");
        continue;
      }
      if (!done && sameRef.length > 1 && !(e.permId > 0)) {
        core.log.warn(
          { orderRef: e.orderRef, localId: e.localId },
          "order ref matches several completed orders",
        );
        continue;
      }
      if (!done && (e.state === "live" || e.permId > 0)) {
        // TWS acknowledged it before: it exists, even if today's lists no longer show it (a
        // GTC order finished in an earlier session). Never tell the owner it was not placed.
        core.log.warn(
          { localId: e.localId, upstreamId: e.upstreamId },
          "live order not found at reconciliation",
        );
        continue;
      }
      if (done) {
        this.#settle(e, "finished", done.status);
        for (const t of answerTargets(core, e.owner))
          deliverStatus(core, e, t, done.status, done.filled, "0");
        continue;
      }
      // Found nowhere: TWS never placed it.
      e.state = "refused";
      e.finishedAt = core.o.clock.now();
      core.o.journal?.update(e);
      this.#auditPlace(e, `refused(${ORDER_REJECTED})`, undefined, "reconcile");
      for (const t of answerTargets(core, e.owner)) {
        core.errorTo(
          t,
          e.localId,
          ORDER_REJECTED,
          "Order rejected - reason:not found at TWS after the connection ended: it was never placed",
        );
      }
    }
    // A modify or cancel whose outcome was unknown: its order's state as TWS has it now.
    for (const [e, change] of this.#unknownChanges) {
      core.audit(
        {
          action: change.action,
          owner: e.owner,
          localId: e.localId,
          entry: e,
          generation: core.line.generation,
          upstreamClientId: e.upstreamClientId,
        },
        "status",
        e.state === "live" ? (e.lastStatus?.[2] ?? "live") : e.state,
        "reconcile",
      );
    }
    this.#unknownChanges.clear();
    this.#candidates = [];
    this.#forgetAnswers();
    this.#running = false;
    this.runs++;
    core.log.info("orders reconciled");
  }

  /** An audit line about an order's placement, under the generation it was written on. */
  #auditPlace(
    e: OrderEntry,
    outcome: AuditOutcome,
    status: string | undefined,
    kind: AuditRecord["kind"],
    generation = this.#core.line.generation,
  ): void {
    this.#core.audit(
      {
        action: "place",
        owner: e.owner,
        localId: e.localId,
        entry: e,
        generation,
        upstreamClientId: e.upstreamClientId,
      },
      outcome,
      status,
      kind,
    );
  }

  #settle(e: OrderEntry, to: "live" | "finished", status?: string): void {
    const core = this.#core;
    const revived = e.state === "finished" && to === "live" && this.#finishedByError.has(e);
    if (isDone(e.state) && !revived) return;
    if (revived) {
      this.#finishedByError.delete(e);
      e.finishedAt = undefined;
    }
    const changed = e.state !== to;
    e.state = to;
    if (to === "finished") e.finishedAt = core.o.clock.now();
    if (changed) {
      core.o.journal?.update(e);
      this.#auditPlace(e, "status", status ?? to, this.#running ? "reconcile" : "place");
    }
  }
}
