/**
 * A property over random interleavings of place / modify / cancel / drop / 1100 / reconnect /
 * duplicate socket / a full message window, against the real mock over TCP:
 *  - at most one gateway order per orderRef, each created once;
 *  - every order message gets exactly one outcome: written under the client id it was
 *    accepted for, or refused with an error to its sender (201 / 399 / 103 / 135);
 *  - an order written and then reported `unknown` is reconciled (live, finished, or 201).
 * Restarts and 326 are covered by the daemon process test; this runs many small worlds.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { toFields } from "../protocol/codec.js";
import { CANCEL_ORDER, PLACE_ORDER, placeOrder } from "../protocol/messages/orders.js";
import type { AuditRecord, OrderAudit } from "./order-journal.js";
import { Switch } from "./switch.js";
import type { Tenant } from "./tenant.js";
import { AAPL, contractReq, type Stack, startStack, V } from "./test-harness.test-util.js";

type Op =
  | { op: "place"; owner: number; stale: boolean; old: boolean }
  | { op: "modify"; owner: number; pick: number; old: boolean }
  | { op: "cancel"; owner: number; pick: number; old: boolean }
  | { op: "drop" }
  | { op: "lost" }
  | { op: "restored" }
  | { op: "reconnect"; owner: number; closeOld: boolean }
  | { op: "burst" }
  | { op: "pause"; ms: number };

const owner = fc.integer({ min: 1, max: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("place" as const),
      owner,
      stale: fc.boolean(),
      old: fc.boolean(),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({ op: fc.constant("modify" as const), owner, pick: fc.nat(9), old: fc.boolean() }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ op: fc.constant("cancel" as const), owner, pick: fc.nat(9), old: fc.boolean() }),
    weight: 3,
  },
  { arbitrary: fc.constant({ op: "drop" as const }), weight: 1 },
  { arbitrary: fc.constant({ op: "lost" as const }), weight: 1 },
  { arbitrary: fc.constant({ op: "restored" as const }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant("reconnect" as const), owner, closeOld: fc.boolean() }),
    weight: 2,
  },
  { arbitrary: fc.constant({ op: "burst" as const }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant("pause" as const), ms: fc.integer({ min: 0, max: 60 }) }),
    weight: 2,
  },
);

class MemoryAudit implements OrderAudit {
  readonly records: AuditRecord[] = [];
  append(r: AuditRecord): void {
    this.records.push(r);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("order lane (property, real mock)", () => {
  it("never places an orderRef twice; every order message has exactly one outcome", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 3, maxLength: 14 }), async (ops) => {
        run++;
        stack = await startStack();
        const s = stack;
        const audit = new MemoryAudit();
        const sw = new Switch(s.line, s.pacer, { audit });
        const data = sw.openTenant({ kind: "client", name: "data" });
        const sockets = new Map<number, Tenant[]>();
        /** Per owner: the ids it used, with their orderRefs. */
        const used = new Map<number, { id: number; ref: string }[]>();
        /** Order messages sent, by (tenant, id). */
        const sent: { tenant: Tenant; id: number; kind: "place" | "modify" | "cancel" }[] = [];
        const errorsTo = new Map<Tenant, string[][]>();
        const open = (n: number) => {
          const t = sw.openTenant({ kind: "proxy", clientId: n });
          const log: string[][] = [];
          errorsTo.set(t, log);
          t.onMessage((f) => {
            if (f[0] === "4") log.push([...f]);
          });
          sockets.set(n, [...(sockets.get(n) ?? []), t]);
          return t;
        };
        const socketOf = (n: number, old: boolean) => {
          const list = (sockets.get(n) ?? []).filter((t) => t.state === "open");
          const t = old ? list[0] : list.at(-1);
          return t ?? open(n);
        };
        let refs = 0;
        let dropped = false;
        const generation = s.line.generation;
        let burstId = 1;
        try {
          for (const op of ops) {
            switch (op.op) {
              case "place": {
                const t = socketOf(op.owner, op.old);
                const id = op.stale ? Math.max(1, sw.nextOrderId(t) - 1) : sw.nextOrderId(t);
                const ref = `prop-${run}-${refs++}`;
                if (!used.get(op.owner)?.some((u) => u.id === id))
                  used.set(op.owner, [...(used.get(op.owner) ?? []), { id, ref }]);
                const mine = used.get(op.owner)?.find((u) => u.id === id);
                t.send(resting(id, mine?.ref ?? ref, "1"));
                sent.push({ tenant: t, id, kind: "place" });
                break;
              }
              case "modify":
              case "cancel": {
                const list = used.get(op.owner) ?? [];
                const u = list[op.pick % Math.max(1, list.length)];
                if (!u) break;
                const t = socketOf(op.owner, op.old);
                t.send(
                  op.op === "modify"
                    ? resting(u.id, u.ref, "2")
                    : toFields(CANCEL_ORDER, { orderId: u.id, manualOrderCancelTime: "" }, V),
                );
                sent.push({ tenant: t, id: u.id, kind: op.op });
                break;
              }
              case "drop":
                s.mock.drop();
                dropped = true;
                break;
              case "lost":
                s.mock.injectError({ code: 1100 });
                break;
              case "restored":
                s.mock.injectError({ code: 1102 });
                break;
              case "reconnect": {
                const list = (sockets.get(op.owner) ?? []).filter((t) => t.state === "open");
                if (op.closeOld) for (const t of list) await t.close();
                open(op.owner);
                break;
              }
              case "burst":
                for (let i = 0; i < 50; i++) data.send(contractReq(burstId++));
                break;
              case "pause":
                await sleep(op.ms);
                break;
            }
          }
          // Let the world settle: the line back and ready, nothing waiting, reconciliation done.
          s.mock.injectError({ code: 1102 });
          if (dropped) await until(() => s.line.generation > generation, "the drop noticed");
          await until(() => s.line.state === "ready", "the line ready");
          await until(
            () =>
              sw.orderLane().pending === 0 && !sw.orderLane().reconciling && s.pacer.snapshot().queued === 0,
            "the lane idle",
          );
          const outcomes = () => {
            const fromAudit = audit.records.filter(
              (r) => r.kind !== "reconcile" && r.outcome !== "status" && r.outcome !== "unknown",
            );
            const local = [...errorsTo.values()].flat().filter((f) => f[3] === "103" || f[3] === "135");
            return fromAudit.length + local.length;
          };
          await until(() => outcomes() >= sent.length, "an outcome for every order message");
          await sleep(50);

          // Exactly one outcome per message.
          expect(outcomes()).toBe(sent.length);
          // Every write went out under the client id it was accepted for (one line id here).
          for (const r of audit.records.filter((x) => x.outcome === "written"))
            expect(r.upstreamClientId).toBe(s.line.clientId);
          // At most one gateway order per orderRef, created once.
          const byRef = new Map<string, number>();
          for (const o of s.mock.snapshot().orders) {
            byRef.set(o.orderRef, (byRef.get(o.orderRef) ?? 0) + 1);
            expect(o.placeCount).toBe(1);
          }
          for (const [ref, n] of byRef) expect(n, ref).toBe(1);
          // Every unknown outcome was reconciled afterwards (live, finished, or 201).
          audit.records.forEach((r, i) => {
            if (r.outcome !== "unknown") return;
            const later = audit.records
              .slice(i + 1)
              .some((x) => x.kind === "reconcile" && x.upstreamId === r.upstreamId);
            expect(later, `order ${r.upstreamId} reconciled`).toBe(true);
          });
          expect(sw.liveOrders().length).toBeLessThanOrEqual(byRef.size);
        } finally {
          await sw.close();
          await s.close();
          stack = undefined;
        }
      }),
      { numRuns: Number(process.env.ORDER_PROPERTY_RUNS ?? 12) },
    );
  }, 300_000);
});

const resting = (orderId: number, orderRef: string, totalQuantity: string) =>
  toFields(
    PLACE_ORDER,
    placeOrder({
      orderId,
      contract: AAPL,
      action: "BUY",
      totalQuantity,
      orderType: "LMT",
      lmtPrice: 1,
      orderRef,
    }),
    V,
  );
