/**
 * The faults the control API can switch on. Pure state over a Clock: the gateway asks
 * "stalled now?", "latency now?"; timed faults end by themselves when their time is up.
 */
import type { Clock } from "../clock.js";

export interface FaultSnapshot {
  stalledUntil: number | null;
  downUntil: number | null;
  latencyMs: number;
}

export class FaultState {
  readonly #clock: Clock;
  #stallUntil = 0;
  #downUntil = 0;
  #latencyMs = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  stall(ms: number): void {
    this.#stallUntil = Math.max(this.#stallUntil, this.#clock.now() + ms);
  }

  stalled(): boolean {
    return this.#clock.now() < this.#stallUntil;
  }

  down(ms: number): void {
    this.#downUntil = Math.max(this.#downUntil, this.#clock.now() + ms);
  }

  isDown(): boolean {
    return this.#clock.now() < this.#downUntil;
  }

  /** ms until the listener reopens (0 when up). */
  downRemainingMs(): number {
    return Math.max(0, this.#downUntil - this.#clock.now());
  }

  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  latencyMs(): number {
    return this.#latencyMs;
  }

  clear(): void {
    this.#stallUntil = 0;
    this.#downUntil = 0;
    this.#latencyMs = 0;
  }

  snapshot(): FaultSnapshot {
    const now = this.#clock.now();
    return {
      stalledUntil: this.#stallUntil > now ? this.#stallUntil : null,
      downUntil: this.#downUntil > now ? this.#downUntil : null,
      latencyMs: this.#latencyMs,
    };
  }
}

/** Texts TWS uses for the notices the error fault injects most often. */
export const NOTICE_TEXTS: Readonly<Record<number, string>> = {
  326: "Unable to connect as the client id is already in use. Retry with a unique client id.",
  1100: "Connectivity between IB and Trader Workstation has been lost.",
  1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
  1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
  1300: "TWS socket port has been reset and this connection is being dropped. Please reconnect on the new port",
  2103: "Market data farm connection is broken:usfarm",
  2104: "Market data farm connection is OK:usfarm",
  2105: "HMDS data farm connection is broken:ushmds",
  2106: "HMDS data farm connection is OK:ushmds",
  2107: "HMDS data farm connection is inactive but should be available upon demand.ushmds",
  2108: "Market data farm connection is inactive but should be available upon demand.usfarm",
  2110: "Connectivity between Trader Workstation and server is broken. It will be restored automatically.",
  2119: "Market data farm is connecting:usfarm",
  2157: "Sec-def data farm connection is broken:secdefil",
  2158: "Sec-def data farm connection is OK:secdefil",
};

export function noticeText(code: number): string {
  return NOTICE_TEXTS[code] ?? `Mock gateway notice ${code}`;
}
