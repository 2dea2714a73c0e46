import type { TenantKind } from "./tenant.js";

export type SwitchEvent =
  | { type: "tenant.open"; ts: number; tenant: string; kind: TenantKind; name: string; clientId: number }
  | { type: "tenant.close"; ts: number; tenant: string; kind: TenantKind; name: string; cancelled: number }
  | {
      type: "switch.replayed";
      ts: number;
      line: string;
      cause: "1101" | "reconnect";
      subscriptions: number;
      resent: number;
      failed: number;
    }
  | {
      type: "switch.order";
      ts: number;
      tenant: string;
      action: "place" | "modify" | "cancel";
      localId: number;
      upstreamId: number;
    };
