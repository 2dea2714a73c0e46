import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrameTooLargeError, isSwitchboardError, ProtocolError } from "../errors.js";
import { decodeFields, encodeFields } from "./fields.js";
import {
  encodeFrame,
  encodeMessageFrame,
  FrameDecoder,
  frameLength,
  HEADER_BYTES,
  writeFrame,
} from "./frame.js";

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

describe("writeFrame / encodeMessageFrame", () => {
  // ASCII ids and prices, any Unicode (multi-byte, astral), and fields past the short-field path.
  const anyField = fc
    .oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: "grapheme", maxLength: 8 }),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.string({ minLength: 30, maxLength: 80 }),
    )
    .filter((s) => !s.includes("\0"));

  it("writes exactly the bytes of encodeFrame(encodeFields(...)), at any offset, in frameLength bytes", () => {
    fc.assert(
      fc.property(fc.array(anyField, { minLength: 1, maxLength: 12 }), fc.nat(7), (fields, offset) => {
        const expected = encodeFrame(encodeFields(fields));
        expect(frameLength(fields)).toBe(expected.length);
        expect(encodeMessageFrame(fields).equals(expected)).toBe(true);
        const out = Buffer.alloc(offset + expected.length + 3, 0xee);
        expect(writeFrame(fields, out, offset)).toBe(offset + expected.length);
        expect(out.subarray(offset, offset + expected.length).equals(expected)).toBe(true);
        // Nothing written outside its room.
        expect(
          [...out.subarray(0, offset), ...out.subarray(offset + expected.length)].every((b) => b === 0xee),
        ).toBe(true);
      }),
    );
  });

  it("refuses a field holding NUL before writing anything", () => {
    const out = Buffer.alloc(32, 0xee);
    expect(() => writeFrame(["1", "a\0b"], out, 0)).toThrow(ProtocolError);
    expect(out.every((b) => b === 0xee)).toBe(true);
  });
});

describe("FrameDecoder on large frames", () => {
  /** The naive decoder the protocol bench compares against: concatenate, then split. */
  function naive(chunks: Buffer[]): Buffer[] {
    let buf = Buffer.alloc(0);
    const out: Buffer[] = [];
    for (const c of chunks) {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= HEADER_BYTES) {
        const len = buf.readUInt32BE(0);
        if (buf.length < HEADER_BYTES + len) break;
        out.push(buf.subarray(HEADER_BYTES, HEADER_BYTES + len));
        buf = buf.subarray(HEADER_BYTES + len);
      }
    }
    return out;
  }

  it("yields the same frames as naive concatenation for any chunking of small and large frames", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.array(
              fc.string({ maxLength: 8 }).filter((s) => !s.includes("\0")),
              { minLength: 1, maxLength: 6 },
            ),
            // A long history answer: tens of KiB in one frame.
            fc
              .tuple(fc.nat(60_000), fc.string({ maxLength: 4 }))
              .map(([n, tail]) => ["17", "1", `${"b".repeat(20_000 + n)}${tail}`]),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        fc.array(fc.nat(), { maxLength: 40 }),
        (msgs, cuts) => {
          const stream = Buffer.concat(msgs.map((m) => encodeFrame(encodeFields(m))));
          const chunks = chunk(stream, cuts);
          const d = new FrameDecoder();
          const ours = chunks.flatMap((c) => d.push(c));
          const theirs = naive(chunks);
          expect(ours.length).toBe(theirs.length);
          ours.forEach((f, i) => expect(f.equals(theirs[i] as Buffer)).toBe(true));
          expect(ours.map((f) => decodeFields(f))).toEqual(msgs);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("returns a frame that lies inside one chunk as a view of it, and copies a split one once", () => {
    const big = encodeFrame(encodeFields(["17", "1", "c".repeat(100_000)]));
    const whole = Buffer.concat([big, big]);
    const d = new FrameDecoder();
    const [a, b] = d.push(whole);
    expect(a?.buffer).toBe(whole.buffer);
    expect(b?.buffer).toBe(whole.buffer);
    const split = d.push(big.subarray(0, 50_000));
    expect(split).toHaveLength(0);
    const [c] = d.push(big.subarray(50_000));
    expect(c?.length).toBe(big.length - HEADER_BYTES);
    expect(c?.byteOffset).toBe(0);
    expect(c?.buffer.byteLength).toBeGreaterThanOrEqual(big.length - HEADER_BYTES);
  });
});
