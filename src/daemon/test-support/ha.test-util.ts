/**
 * What the HA process tests share: the `switchboard start` command line of a group member,
 * a daemon's role from `/livez`, a gateway's orders of one orderRef from the mock's `/state`,
 * and a resting order placed with @stoqey/ib.
 */
import { EventName, OrderAction, OrderType } from "@stoqey/ib";
import type { MockOrderView } from "../../mock/state.js";
import { AAPL, type StoqeyClient } from "../../mock/stoqey-client.test-util.js";
import { daemonArgs, type Proc } from "./process.test-util.js";

/** `switchboard start` for one member of an HA group in front of one gateway. */
export function haStartArgs(o: {
  upstream: string;
  stateDir: string;
  redis: string;
  group: string;
  leaseMs: string;
}): string[] {
  return daemonArgs({
    upstream: o.upstream,
    stateDir: o.stateDir,
    redis: o.redis,
    extra: ["--ha-group", o.group, "--ha-lease-ms", o.leaseMs, "--log-level", "warn"],
  });
}

/** The daemon's role as `/livez` reports it (every daemon answers it). */
export async function livez(p: Proc): Promise<string | null> {
  const r = await fetch(`${String(p.ready.http)}/livez`);
  return ((await r.json()) as { data: { role: string | null } }).data.role;
}

/** The gateway's orders with this orderRef (the mock's control `/state`). */
export async function gatewayOrders(control: string, orderRef: string): Promise<MockOrderView[]> {
  const r = await fetch(`${control}/state`);
  return ((await r.json()) as { data: { orders: MockOrderView[] } }).data.orders.filter(
    (o) => o.orderRef === orderRef,
  );
}

/** A buy far below the market: it rests until cancelled. Placing an existing id modifies it. */
export function resting(c: StoqeyClient, orderId: number, orderRef: string, totalQuantity: number): void {
  c.api.placeOrder(orderId, AAPL, {
    action: OrderAction.BUY,
    orderType: OrderType.LMT,
    lmtPrice: 1,
    totalQuantity,
    orderRef,
    transmit: true,
  });
}

/** Resolves once the order is Submitted (or PreSubmitted); listen before placing it. */
export function submitted(c: StoqeyClient, orderId: number): Promise<void> {
  return new Promise<void>((resolve) =>
    c.api.on(EventName.orderStatus, (id: number, status: string) => {
      if (id === orderId && (status === "Submitted" || status === "PreSubmitted")) resolve();
    }),
  );
}
