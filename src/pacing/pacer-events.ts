/** Events the pacer publishes (SSE `pacer.wait` / `pacer.violation`, metrics). */
import type { RequestKind } from "./rules.js";

export type PacerEvent =
  | {
      readonly type: "pacer.wait";
      readonly ts: number;
      readonly tenant: string;
      readonly kind: RequestKind;
      /** The rule that held the request back last ("queue" when only other requests did). */
      readonly rule: string;
      readonly waitedMs: number;
      /** The line whose pacer held it (set by the daemon's pacers). */
      readonly line?: string;
    }
  | {
      readonly type: "pacer.violation";
      readonly ts: number;
      readonly code: number;
      readonly reason: string;
      readonly reqId: number | undefined;
      readonly message: string;
      readonly line?: string;
    }
  | {
      readonly type: "pacer.state";
      readonly ts: number;
      readonly state: "open" | "closing" | "closed";
      readonly reason: string;
    };
