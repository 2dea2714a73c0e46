/**
 * The proxy forwards answers as their upstream bytes with the request id patched in place
 * (writePatchedFrame, via Tenant.deliverRewritten). That must be byte for byte what decoding,
 * rewriting the id field (the switch's withId) and re-encoding gives, for every message the
 * switch answers that way: every inbound route of kind "request" with an id field.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { withId } from "../switch/fields.js";
import { decodeFields, encodeFields } from "./fields.js";
import { encodeFrame, FrameDecoder, patchedFrameLength, writePatchedFrame } from "./frame.js";
import { IN } from "./message-ids.js";
import { fieldIndex, inRoute } from "./routing.js";

const PATCHED = Object.values(IN)
  .map((id) => inRoute(id))
  .filter((r) => r !== undefined && r.kind === "request" && r.idIndex !== undefined)
  .filter((r) => r?.id !== IN.ERR_MSG && r?.id !== IN.EXECUTION_DATA)
  .map((r) => r as NonNullable<typeof r>);

const field = fc
  .oneof(
    fc.string({ maxLength: 10 }),
    fc.string({ unit: "grapheme", maxLength: 4 }),
    fc.integer().map(String),
  )
  .filter((s) => !s.includes("\0"));

function patched(payload: Buffer, index: number, id: number, offset = 0): Buffer {
  const out = Buffer.alloc(offset + patchedFrameLength(payload, index, id));
  expect(writePatchedFrame(payload, index, id, out, offset)).toBe(out.length);
  return out.subarray(offset);
}

describe("writePatchedFrame", () => {
  it("covers the answers the switch forwards by id", () => {
    expect(PATCHED.map((r) => r.name)).toEqual(
      expect.arrayContaining(["TICK_PRICE", "TICK_SIZE", "HISTORICAL_DATA"]),
    );
  });

  it("equals decode → withId → encode for every message type it is used on, at any version and offset", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PATCHED),
        fc.integer({ min: 100, max: 200 }),
        fc.array(field, { minLength: 0, maxLength: 14 }),
        fc.integer({ min: -1, max: 2 ** 31 - 1 }),
        fc.nat(9),
        (route, version, rest, id, offset) => {
          const fields = [String(route.id), ...rest];
          const payload = encodeFields(fields);
          const index = fieldIndex(route.idIndex as NonNullable<typeof route.idIndex>, version);
          const expected = encodeFrame(
            encodeFields(withId(decodeFields(payload), route.idIndex!, version, id)),
          );
          expect(patched(payload, index, id, offset).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("equals a re-encode for any payload shape: fewer fields than the index, empty fields, no final NUL", () => {
    fc.assert(
      fc.property(
        fc.array(field, { minLength: 1, maxLength: 8 }),
        fc.nat(10),
        fc.integer({ min: -5, max: 1_000_000 }),
        fc.boolean(),
        (fields, index, id, dropFinalNul) => {
          const full = encodeFields(fields);
          const payload = dropFinalNul ? full.subarray(0, full.length - 1) : full;
          const decoded = decodeFields(payload);
          const rewritten = decoded.slice();
          if (index < rewritten.length) rewritten[index] = String(id);
          const out = patched(payload, index, id);
          expect(out.equals(encodeFrame(encodeFields(rewritten)))).toBe(true);
          expect(new FrameDecoder({ rejectEmpty: false }).push(out).map((p) => decodeFields(p))).toEqual([
            rewritten,
          ]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
