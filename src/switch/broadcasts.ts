/**
 * Account-wide streams shared by tenants: positions, account updates, news bulletins.
 * Upstream subscribes once and unsubscribes when the last tenant leaves; a tenant that joins
 * late gets what the others already received (positions, account values) from a cache, so
 * the line does not ask TWS for the whole dump again.
 */
import { IN } from "../protocol/message-ids.js";

export type BroadcastKind = "positions" | "account" | "news";

const KIND_OF_MESSAGE: Readonly<Record<number, BroadcastKind>> = {
  [IN.POSITION_DATA]: "positions",
  [IN.POSITION_END]: "positions",
  [IN.ACCT_VALUE]: "account",
  [IN.PORTFOLIO_VALUE]: "account",
  [IN.ACCT_UPDATE_TIME]: "account",
  [IN.ACCT_DOWNLOAD_END]: "account",
  [IN.NEWS_BULLETINS]: "news",
};

const END_OF: Readonly<Record<BroadcastKind, number | undefined>> = {
  positions: IN.POSITION_END,
  account: IN.ACCT_DOWNLOAD_END,
  news: undefined,
};

interface Stream {
  readonly subscribers: Set<string>;
  /** Latest message per key, in arrival order: what a late joiner is shown. */
  readonly cache: Map<string, readonly string[]>;
  end: readonly string[] | undefined;
  /** REQ_ACCOUNT_DATA's account code, to unsubscribe the same account. */
  account: string;
}

function cacheKey(msgId: number, f: readonly string[]): string | undefined {
  switch (msgId) {
    case IN.POSITION_DATA:
      return `${f[2]}|${f[3]}`; // account, conId
    case IN.ACCT_VALUE:
      return `v|${f[2]}|${f[4]}|${f[5]}`; // key, currency, account
    case IN.PORTFOLIO_VALUE:
      return `p|${f[2]}|${f[f.length - 1]}`; // conId, account
    case IN.ACCT_UPDATE_TIME:
      return "t";
    default:
      return undefined;
  }
}

export interface JoinResult {
  /** First subscriber: the caller sends the subscribe upstream. */
  subscribeUpstream: boolean;
  /** Messages to show the new subscriber at once (cache, then the end marker if seen). */
  replay: (readonly string[])[];
}

export class BroadcastHub {
  readonly #streams = new Map<BroadcastKind, Stream>();

  static kindOf(msgId: number): BroadcastKind | undefined {
    return KIND_OF_MESSAGE[msgId];
  }

  join(kind: BroadcastKind, tenantId: string, account = ""): JoinResult {
    let s = this.#streams.get(kind);
    if (!s) {
      s = { subscribers: new Set(), cache: new Map(), end: undefined, account };
      this.#streams.set(kind, s);
    }
    const first = s.subscribers.size === 0;
    s.subscribers.add(tenantId);
    if (first) return { subscribeUpstream: true, replay: [] };
    const replay = [...s.cache.values()];
    if (s.end) replay.push(s.end);
    return { subscribeUpstream: false, replay };
  }

  /** Returns true when the tenant was the last subscriber: the caller unsubscribes upstream. */
  leave(kind: BroadcastKind, tenantId: string): boolean {
    const s = this.#streams.get(kind);
    if (!s?.subscribers.delete(tenantId)) return false;
    if (s.subscribers.size > 0) return false;
    this.#streams.delete(kind);
    return true;
  }

  isSubscribed(kind: BroadcastKind, tenantId: string): boolean {
    return this.#streams.get(kind)?.subscribers.has(tenantId) ?? false;
  }

  account(kind: BroadcastKind): string {
    return this.#streams.get(kind)?.account ?? "";
  }

  /** Record an inbound broadcast; returns the tenants it goes to. */
  deliver(msgId: number, fields: readonly string[]): readonly string[] {
    const kind = KIND_OF_MESSAGE[msgId];
    const s = kind ? this.#streams.get(kind) : undefined;
    if (!kind || !s) return [];
    if (msgId === END_OF[kind]) s.end = fields;
    else {
      const key = cacheKey(msgId, fields);
      if (key !== undefined) {
        s.cache.delete(key);
        s.cache.set(key, fields);
      }
    }
    return [...s.subscribers];
  }

  /** Tenants subscribed to `kind`. */
  subscribers(kind: BroadcastKind): string[] {
    return [...(this.#streams.get(kind)?.subscribers ?? [])];
  }

  /** Kinds with subscribers, to subscribe again after a reconnect or 1101. */
  active(): { kind: BroadcastKind; account: string }[] {
    return [...this.#streams.entries()].map(([kind, s]) => ({ kind, account: s.account }));
  }

  /** TWS sends a fresh dump after a resubscribe: forget the old one. */
  resetCaches(): void {
    for (const s of this.#streams.values()) {
      s.cache.clear();
      s.end = undefined;
    }
  }

  /** Every kind the tenant was subscribed to; returns those it was the last subscriber of. */
  removeTenant(tenantId: string): { kind: BroadcastKind; account: string }[] {
    const last: { kind: BroadcastKind; account: string }[] = [];
    for (const [kind, s] of [...this.#streams.entries()]) {
      const account = s.account;
      if (this.leave(kind, tenantId)) last.push({ kind, account });
    }
    return last;
  }

  subscriberCount(tenantId: string): number {
    let n = 0;
    for (const s of this.#streams.values()) if (s.subscribers.has(tenantId)) n++;
    return n;
  }
}
