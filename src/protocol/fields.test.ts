import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../errors.js";
import {
  decodeFields,
  encodeFields,
  FieldReader,
  FieldWriter,
  UNSET_DOUBLE,
  UNSET_INTEGER,
} from "./fields.js";

describe("fields", () => {
  it("terminates every field with NUL, the last one included", () => {
    expect([...encodeFields(["71", "2", "1", ""])]).toEqual([0x37, 0x31, 0, 0x32, 0, 0x31, 0, 0]);
  });

  it("round-trips any NUL-free fields", () => {
    fc.assert(
      fc.property(fc.array(fc.string().filter((s) => !s.includes("\0"))), (fields) => {
        expect(decodeFields(encodeFields(fields))).toEqual(fields);
      }),
    );
  });

  it("refuses a NUL inside a field", () => {
    expect(() => encodeFields(["a\0b"])).toThrow(ProtocolError);
  });

  it("accepts a missing terminator on the last field (the handshake's version text)", () => {
    expect(decodeFields(Buffer.from("v100..178"))).toEqual(["v100..178"]);
  });

  it("writes IB's unset sentinels as empty fields and reads every sentinel form back as unset", () => {
    const w = new FieldWriter().intMax(UNSET_INTEGER).floatMax(UNSET_DOUBLE).intMax(undefined).floatMax(3.5);
    expect(w.fields).toEqual(["", "", "", "3.5"]);
    const r = new FieldReader(["", "2147483647", "1.7976931348623157E308", "9223372036854775807", "7"]);
    expect([r.intMax(), r.intMax(), r.floatMax(), r.decimal(), r.intMax()]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      7,
    ]);
  });

  it("reads leniently as IB's decoders do: empty numbers are 0, Infinity in both spellings", () => {
    const r = new FieldReader(["", "", "Infinity", "Infinite", "1.0E-4", "0", "1"]);
    expect([r.int(), r.float(), r.float(), r.float(), r.float(), r.bool(), r.bool()]).toEqual([
      0,
      0,
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      0.0001,
      false,
      true,
    ]);
  });

  it("fails with a typed error on a non-numeric number or a missing field", () => {
    expect(() => new FieldReader(["abc"]).int()).toThrow(ProtocolError);
    expect(() => new FieldReader(["x"]).float()).toThrow(ProtocolError);
    expect(() => new FieldReader([]).str()).toThrow(ProtocolError);
  });
});
