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
      /** A second open socket of one order owner: only the newest may send order messages. */
      type: "order.shared_owner";
      ts: number;
      owner: string;
      tenants: string[];
    }
  | {
      type: "switch.order";
      ts: number;
      tenant: string;
      action: "place" | "modify" | "cancel";
      localId: number;
      upstreamId: number;
    };
