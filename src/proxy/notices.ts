/**
 * The messages the proxy itself writes to a downstream, as TWS writes them: the start-up
 * answers to START_API and connection notices. Texts come from the one table of TWS notice
 * texts (src/mock/faults.ts), so the mock and the proxy cannot drift apart.
 */

import { toFields } from "../protocol/codec.js";
import { ERR_MSG, MANAGED_ACCTS, NEXT_VALID_ID } from "../protocol/messages/connection.js";
import { NOTICE_TEXTS } from "../protocol/notice-texts.js";

export const LOST = 1100;
export const RESTORED_DATA_LOST = 1101;
export const RESTORED_DATA_KEPT = 1102;
export const SOCKET_RESET = 1300;
export const CLIENT_ID_IN_USE = 326;
/** IB's client-side "unsupported version" code. */
export const UNSUPPORTED_VERSION = 506;
/** Market data, HMDS and sec-def farms "OK": what TWS says to every client after START_API. */
export const FARM_OK: readonly number[] = [2104, 2106, 2158];

export function noticeFields(code: number, version: number, message?: string, id = -1): string[] {
  const text = message ?? NOTICE_TEXTS[code] ?? `notice ${code}`;
  return toFields(ERR_MSG, { id, code, message: text, advancedOrderRejectJson: "" }, version);
}

export function managedAcctsFields(accounts: readonly string[], version: number): string[] {
  return toFields(MANAGED_ACCTS, { accounts: [...accounts] }, version);
}

export function nextValidIdFields(orderId: number, version: number): string[] {
  return toFields(NEXT_VALID_ID, { orderId }, version);
}

/** The ERR_MSG code of a connection-level notice (id −1), else undefined. */
export function connectionNoticeCode(fields: readonly string[]): number | undefined {
  if (fields[0] !== "4" || fields[2] !== "-1") return undefined;
  const code = Number(fields[3]);
  return Number.isInteger(code) ? code : undefined;
}

export function versionRefusal(served: number, min: number, max: number): string {
  return (
    `Unsupported version: this Switchboard proxy serves TWS API version ${served} (its upstream's), ` +
    `and this client offers ${min}..${max}. Use a client whose range includes ${served}, ` +
    "or connect it to TWS directly."
  );
}
