/**
 * What a line does with each connection-level ERR_MSG code (tws-protocol.md §6). Pure data,
 * so the table is tested on its own and the line only executes the action.
 */
export type NoticeAction =
  /** 1100, 2110: TWS lost IB's servers; the socket is fine, so keep it and wait. */
  | "degrade"
  /** 1101: restored, but TWS dropped every market-data subscription. */
  | "restore-data-lost"
  /** 1102: restored with subscriptions intact. */
  | "restore-data-kept"
  /** 1300: TWS reset its socket port; this connection is finished. */
  | "reconnect"
  /** 326: our client id is taken; TWS closes the socket after this. */
  | "client-id-in-use"
  | "none";

import type { NoticeLevel } from "./line-events.js";

export interface NoticeRule {
  action: NoticeAction;
  level: NoticeLevel;
}

const RULES: ReadonlyMap<number, NoticeRule> = new Map<number, NoticeRule>([
  [326, { action: "client-id-in-use", level: "warn" }],
  [1100, { action: "degrade", level: "warn" }],
  [1101, { action: "restore-data-lost", level: "warn" }],
  [1102, { action: "restore-data-kept", level: "info" }],
  [1300, { action: "reconnect", level: "warn" }],
  [2110, { action: "degrade", level: "warn" }],
  // Farm notices: "OK" and "inactive, available on demand" are normal; "broken" pauses data.
  [2103, { action: "none", level: "warn" }],
  [2104, { action: "none", level: "info" }],
  [2105, { action: "none", level: "warn" }],
  [2106, { action: "none", level: "info" }],
  [2107, { action: "none", level: "info" }],
  [2108, { action: "none", level: "info" }],
  [2119, { action: "none", level: "info" }],
  [2157, { action: "none", level: "warn" }],
  [2158, { action: "none", level: "info" }],
]);

export function classifyNotice(code: number): NoticeRule {
  const rule = RULES.get(code);
  if (rule) return rule;
  // 2100–2199 are warnings/informational by IB's own numbering.
  if (code >= 2100 && code <= 2199) return { action: "none", level: "info" };
  return { action: "none", level: "warn" };
}

/**
 * Does this ERR_MSG concern the line rather than one request? id −1 is IB's marker for
 * connection-level messages; 1100–1300 and 2100–2199 are connection-level whatever the id.
 */
export function isLineNotice(id: number, code: number): boolean {
  return id === -1 || (code >= 1100 && code <= 1300) || (code >= 2100 && code <= 2199);
}
