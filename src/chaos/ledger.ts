/**
 * Every request the workload sends, until it is answered, errored, or its connection is
 * gone (the client then knows its outcome: connection lost). A request still open past its
 * deadline breaks "every request gets an answer or an error".
 *
 * Invariants: an entry is settled at most once; `lost(client)` settles every open entry of
 * that client; `overdue(now)` returns each late entry once and forgets it.
 */

export type RequestKind = "marketData" | "contract" | "history" | "place" | "modify" | "cancel" | "http";

interface Entry {
  client: string;
  kind: RequestKind;
  sentAt: number;
  deadline: number;
}

export interface Overdue {
  client: string;
  key: string;
  kind: RequestKind;
  sentAt: number;
}

export class RequestLedger {
  readonly #open = new Map<string, Entry>();
  readonly counts = { sent: 0, answered: 0, errored: 0, lost: 0, overdue: 0 };
  readonly byKind = new Map<RequestKind, number>();

  open(client: string, key: string, kind: RequestKind, now: number, timeoutMs: number): void {
    this.#open.set(`${client}\u0000${key}`, { client, kind, sentAt: now, deadline: now + timeoutMs });
    this.counts.sent++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
  }

  /** True when this settled an open request (false: unknown or settled before). */
  settle(client: string, key: string, how: "answered" | "errored"): boolean {
    const k = `${client}\u0000${key}`;
    if (!this.#open.delete(k)) return false;
    this.counts[how]++;
    return true;
  }

  isOpen(client: string, key: string): boolean {
    return this.#open.has(`${client}\u0000${key}`);
  }

  /** The client's connection is gone: it knows none of its open requests will be answered. */
  lost(client: string): void {
    for (const [k, e] of this.#open) {
      if (e.client !== client) continue;
      this.#open.delete(k);
      this.counts.lost++;
    }
  }

  overdue(now: number): Overdue[] {
    const out: Overdue[] = [];
    for (const [k, e] of this.#open) {
      if (e.deadline > now) continue;
      this.#open.delete(k);
      this.counts.overdue++;
      out.push({ client: e.client, key: k.slice(k.indexOf("\u0000") + 1), kind: e.kind, sentAt: e.sentAt });
    }
    return out;
  }

  get pending(): number {
    return this.#open.size;
  }
}
