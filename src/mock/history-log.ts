/**
 * The last historical and head-timestamp requests that reached the gateway, with how each
 * was answered, so tests and benchmarks can count what really reached "IB" (GET /state
 * `historyRequests`). Bounded: the oldest entries fall off.
 */
import { fromFields } from "../protocol/codec.js";
import { OUT } from "../protocol/message-ids.js";
import type { Contract } from "../protocol/messages/contract.js";
import { REQ_HEAD_TIMESTAMP, REQ_HISTORICAL_DATA } from "../protocol/messages/history.js";

/** "bars", "noData" (IB's 162 "HMDS query returned no data"), an error code, or "pending". */
export type HistoryAnswer = "bars" | "noData" | "pending" | number;

export interface HistoryRequestView {
  /** ISO 8601, on the gateway's calendar. */
  at: string;
  clientId: number;
  reqId: number;
  kind: "bars" | "headTimestamp";
  conId: number;
  symbol: string;
  end: string;
  duration: string;
  barSize: string;
  whatToShow: string;
  useRTH: boolean;
  answer: HistoryAnswer;
}

export const HISTORY_LOG_SIZE = 1_000;

export class HistoryLog {
  readonly #entries: HistoryRequestView[] = [];
  /** "session:reqId" → the entry still waiting for its answer. */
  readonly #pending = new Map<string, HistoryRequestView>();

  /** Records a request if it is a historical or head-timestamp one (fields undecodable: skipped). */
  open(sessionId: number, clientId: number, fields: readonly string[], version: number, atMs: number): void {
    const id = Number(fields[0]);
    const common = (m: { reqId: number; contract: Contract; whatToShow: string; useRTH: boolean }) => ({
      at: new Date(atMs).toISOString(),
      clientId,
      reqId: m.reqId,
      conId: m.contract.conId,
      symbol: m.contract.symbol,
      whatToShow: m.whatToShow,
      useRTH: m.useRTH,
      answer: "pending" as const,
    });
    let view: HistoryRequestView;
    try {
      if (id === OUT.REQ_HISTORICAL_DATA) {
        const m = fromFields(REQ_HISTORICAL_DATA, [...fields], version);
        view = { ...common(m), kind: "bars", end: m.endDateTime, duration: m.duration, barSize: m.barSize };
      } else if (id === OUT.REQ_HEAD_TIMESTAMP) {
        const m = fromFields(REQ_HEAD_TIMESTAMP, [...fields], version);
        view = { ...common(m), kind: "headTimestamp", end: "", duration: "", barSize: "" };
      } else return;
    } catch {
      return;
    }
    this.#entries.push(view);
    if (this.#entries.length > HISTORY_LOG_SIZE) {
      const gone = this.#entries.shift() as HistoryRequestView;
      if (gone.answer === "pending") this.#pending.delete(`${sessionId}:${gone.reqId}`);
    }
    this.#pending.set(`${sessionId}:${view.reqId}`, view);
  }

  /** The answer of a pending request (no-op for ids that are not pending history requests). */
  answer(sessionId: number, reqId: number, answer: Exclude<HistoryAnswer, "pending">): void {
    const key = `${sessionId}:${reqId}`;
    const view = this.#pending.get(key);
    if (!view) return;
    view.answer = answer;
    this.#pending.delete(key);
  }

  /** The contract the gateway resolved for a pending request (clients often send conId 0). */
  resolved(sessionId: number, reqId: number, conId: number): void {
    const view = this.#pending.get(`${sessionId}:${reqId}`);
    if (view) view.conId = conId;
  }

  forgetSession(sessionId: number): void {
    for (const key of [...this.#pending.keys()])
      if (key.startsWith(`${sessionId}:`)) this.#pending.delete(key);
  }

  list(): HistoryRequestView[] {
    return this.#entries.map((e) => ({ ...e }));
  }
}
