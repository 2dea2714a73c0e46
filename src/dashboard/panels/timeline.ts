/**
 * The event timeline, newest first: what the daemon reported on /events, in words. It keeps
 * the last MAX_EVENTS entries (the daemon's own ring holds 1,000; the page opens the stream
 * from 0, so a fresh page shows what happened before it was opened, e.g. at 02:00).
 */
import { h, time } from "../dom.js";
import type { DaemonEvent } from "../types.js";

export const MAX_EVENTS = 300;

type Fields = Readonly<Record<string, unknown>>;
const s = (v: unknown): string => (v === undefined || v === null ? "" : String(v));

/** One line of text per event type; unknown types show their fields. */
export function describe(e: DaemonEvent): string {
  const f = e as Fields;
  const lease = (f.lease ?? {}) as Fields;
  switch (e.type) {
    case "line.state":
      return `${s(f.line)}: ${s(f.from)} → ${s(f.to)} (${s(f.reason)})`;
    case "line.notice":
      return `${s(f.line)}: ${s(f.code)} ${s(f.message)}`;
    case "line.resubscribe":
      return `${s(f.line)}: resubscribing after ${s(f.cause)}${f.dataLost ? " (data was lost)" : ""}`;
    case "line.identity_changed":
      return `${s(f.line)}: refused ${s(f.upstream)}: expected ${s(f.expected)}, got ${s((f.got as Fields | undefined)?.mode)} ${s((f.got as Fields | undefined)?.accounts)}`;
    case "orders.orphaned":
      return `${s(f.line)}: orders of client id ${s(f.clientId)} orphaned (permIds ${s(f.permIds)})`;
    case "pacer.wait":
      // A digest of one rule's waits over a second (the longest is named).
      return f.waits === undefined || Number(f.waits) <= 1
        ? `${s(f.tenant)} ${s(f.kind)} waited ${Math.round(Number(f.waitedMs))} ms on ${s(f.rule)}`
        : `${s(f.waits)} requests waited on ${s(f.rule)}, longest ${Math.round(Number(f.waitedMs))} ms (${s(f.tenant)} ${s(f.kind)})`;
    case "pacer.violation":
      return `IB pacing violation ${s(f.code)}: ${s(f.message)}`;
    case "lease.granted":
    case "lease.renewed":
    case "lease.released":
    case "lease.expired":
      return `client id ${s(lease.clientId)} (${s(lease.purpose)}) ${e.type.slice(6)} · ${s(lease.owner)}`;
    case "tenant.open":
      return `${s(f.kind)} tenant ${s(f.tenant)} opened · ${s(f.name)} · virtual id ${s(f.clientId)}`;
    case "tenant.close":
      return `${s(f.kind)} tenant ${s(f.tenant)} closed · ${s(f.name)} · ${s(f.cancelled)} cancelled`;
    case "switch.replayed":
      return `${s(f.line)}: replayed ${s(f.subscriptions)} subscriptions after ${s(f.cause)} (${s(f.failed)} failed)`;
    case "history.done": {
      const p = (f.progress ?? {}) as Fields;
      return `history job ${s(f.id).slice(0, 8)} ${s(f.state)} · ${s(p.bars)} bars in ${s(p.requests)} requests`;
    }
    default: {
      const { type: _t, ts: _ts, ...rest } = f;
      return JSON.stringify(rest);
    }
  }
}

function tone(e: DaemonEvent): string {
  const f = e as Fields;
  if (e.type === "pacer.violation" || e.type === "orders.orphaned" || e.type === "line.identity_changed")
    return "bad";
  if (e.type === "line.state") return f.to === "ready" ? "good" : "warn";
  if (e.type === "history.done") return f.state === "done" ? "good" : f.state === "failed" ? "bad" : "warn";
  if (e.type === "line.notice") return f.level === "error" ? "bad" : f.level === "warn" ? "warn" : "";
  return "";
}

export class Timeline {
  readonly #el: HTMLOListElement;
  /** Same id, time and type: the same event (a replay after reconnecting). */
  readonly #seen = new Set<string>();

  constructor(el: HTMLOListElement) {
    this.#el = el;
  }

  add(id: number, e: DaemonEvent): void {
    const key = `${id}|${e.ts}|${e.type}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const li = h(
      "li",
      { class: `ev ${tone(e)}`, "data-type": e.type },
      time(e.ts),
      h("span", { class: "type" }, e.type),
      h("span", { class: "what" }, describe(e)),
    );
    this.#el.prepend(li);
    while (this.#el.children.length > MAX_EVENTS) {
      const last = this.#el.lastElementChild as HTMLElement;
      this.#seen.delete(last.dataset.key ?? "");
      last.remove();
    }
    li.dataset.key = key;
  }

  /** A visible divider (daemon restarted, stream resumed). */
  mark(text: string, ts: number): void {
    this.#el.prepend(h("li", { class: "ev mark" }, time(ts), h("span", { class: "what" }, text)));
  }
}
