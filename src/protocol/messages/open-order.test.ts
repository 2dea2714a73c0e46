/**
 * ORDER_DEFAULTS are what TWS sends for a plain order: an OPEN_ORDER written from its typed
 * fields alone (as the mock writes one) is, field for field, the message a real TWS sent
 * for the same order.
 */
import { describe, expect, it } from "vitest";
import { fromFields, toFields } from "../codec.js";
import { loadCaptures } from "../fixtures.test-util.js";
import { COMPLETED_ORDER, OPEN_ORDER } from "./open-order.js";

const openOrders = loadCaptures().flatMap((cap) =>
  cap.messages
    .filter((m) => m.name === "OPEN_ORDER")
    .map((m, i) => ({ label: `${cap.file} #${i + 1}`, version: cap.serverVersion, fields: m.fields })),
);

describe("OPEN_ORDER written from typed fields and TWS's plain-order defaults", () => {
  it("has captured open orders to compare with", () => {
    expect(openOrders.length).toBeGreaterThanOrEqual(4);
  });

  for (const o of openOrders) {
    it(`is the captured message: ${o.label}`, () => {
      const decoded = fromFields(OPEN_ORDER, o.fields, o.version);
      // Only the commission is order-state the mock adds itself once a fill is known.
      const { commission, commissionCurrency } = decoded.unmodeled;
      const known: Record<string, string> = commission
        ? { commission, commissionCurrency: commissionCurrency ?? "" }
        : {};
      expect(toFields(OPEN_ORDER, { ...decoded, unmodeled: known }, o.version)).toEqual(o.fields);
    });
  }
});

describe("COMPLETED_ORDER written from typed fields and TWS's defaults", () => {
  it("is the captured message once the order's own values are given (MYM stop order at 176)", () => {
    const cap = loadCaptures().find((c) => c.file === "ib_insync-issue-523-mym-completed-order-v176.json");
    const fields = cap?.messages[0]?.fields ?? [];
    const decoded = fromFields(COMPLETED_ORDER, fields, 176);
    // What this order set itself: an OCA group and parent (a bracket), outside-RTH, the
    // stop price in the second trail-stop field, and the futures' rule 80A.
    const own = ["ocaGroup", "outsideRth", "rule80A", "adjustedTrailStopPrice", "parentPermId"];
    const unmodeled = Object.fromEntries(own.map((k) => [k, decoded.unmodeled[k] ?? ""]));
    expect(toFields(COMPLETED_ORDER, { ...decoded, unmodeled }, 176)).toEqual(fields);
  });
});
