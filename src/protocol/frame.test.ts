import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrameTooLargeError, isSwitchboardError, ProtocolError } from "../errors.js";
import { decodeFields, encodeFields } from "./fields.js";
import { encodeFrame, FrameDecoder, HEADER_BYTES } from "./frame.js";

const fieldArb = fc.string({ maxLength: 20 }).filter((s) => !s.includes("\0"));
const messageArb = fc.array(fieldArb, { minLength: 1, maxLength: 12 });

function chunk(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe("FrameDecoder", () => {
  it("decodes the composed NEXT_VALID_ID example from the protocol notes", () => {
    const bytes = Buffer.from([0, 0, 0, 6, 0x39, 0, 0x31, 0, 0x31, 0]);
    const frames = new FrameDecoder().push(bytes);
    expect(frames.map((f) => decodeFields(f))).toEqual([["9", "1", "1"]]);
  });

  it("reassembles any chunking of any sequence of messages, one byte at a time included", () => {
    fc.assert(
      fc.property(
        fc.array(messageArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (msgs, cuts) => {
          const stream = Buffer.concat(msgs.map((m) => encodeFrame(encodeFields(m))));
          const d = new FrameDecoder();
          const got: string[][] = [];
          for (const c of chunk(stream, cuts)) for (const f of d.push(c)) got.push(decodeFields(f));
          expect(got).toEqual(msgs);
          expect(d.buffered).toBe(0);

          const single = new FrameDecoder();
          const got1: string[][] = [];
          for (const byte of stream)
            for (const f of single.push(Buffer.from([byte]))) got1.push(decodeFields(f));
          expect(got1).toEqual(msgs);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("rejects an oversize length before buffering its body", () => {
    const d = new FrameDecoder({ maxFrameBytes: 1024 });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025);
    expect(() => d.push(header)).toThrow(FrameTooLargeError);
    expect(d.buffered).toBe(0);
    // The stream cannot be trusted afterwards: every later push fails the same way.
    expect(() => d.push(Buffer.from([1, 2, 3]))).toThrow(FrameTooLargeError);
  });

  it("rejects an empty frame with a typed error", () => {
    expect(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 0]))).toThrow(ProtocolError);
  });

  it("never throws anything but a typed error and never buffers past one frame on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const limit = 64;
        const d = new FrameDecoder({ maxFrameBytes: limit });
        try {
          for (const c of chunk(Buffer.from(bytes), cuts)) {
            d.push(c);
            expect(d.buffered).toBeLessThanOrEqual(HEADER_BYTES + limit);
          }
        } catch (err) {
          expect(isSwitchboardError(err)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("keeps a truncated frame pending instead of emitting it", () => {
    const frame = encodeFrame(encodeFields(["49", "1", "1700000000"]));
    const d = new FrameDecoder();
    expect(d.push(frame.subarray(0, frame.length - 1))).toEqual([]);
    expect(d.buffered).toBe(frame.length - 1);
    expect(d.push(frame.subarray(frame.length - 1)).map(decodeFields)).toEqual([["49", "1", "1700000000"]]);
  });
});

describe("encodeFrame", () => {
  it("writes a big-endian length prefix", () => {
    const f = encodeFrame(Buffer.from("abc"));
    expect([...f]).toEqual([0, 0, 0, 3, 0x61, 0x62, 0x63]);
  });
});
