import { describe, expect, it } from "vitest";
import { HandshakeError } from "../errors.js";
import { encodeMessage } from "./codec.js";
import { decodeFields } from "./fields.js";
import { FrameDecoder } from "./frame.js";
import {
  encodeClientHello,
  encodeServerHello,
  formatConnectionTime,
  negotiateVersion,
  PrefixReader,
  parseServerHello,
  parseVersionRange,
} from "./handshake.js";
import { START_API } from "./messages/connection.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("handshake golden bytes", () => {
  it("client hello: API\\0 then a frame holding the bare range (what ib_async sends)", () => {
    const bytes = encodeClientHello({ min: 157, max: 178, options: "" });
    expect(hex(bytes)).toBe(`41504900${"00000009"}${Buffer.from("v157..178").toString("hex")}`);
  });

  it("client hello with connect options (what @stoqey/ib and ibapi send for +PACEAPI)", () => {
    const bytes = encodeClientHello({ min: 100, max: 193, options: "+PACEAPI" });
    expect(bytes.subarray(8).toString("latin1")).toBe("v100..193 +PACEAPI");
  });

  it("server hello: both fields NUL-terminated; a 26-byte payload after the 4-byte length", () => {
    // The shared notes count 26 bytes in all; the payload alone is 26 (0x1A), the frame 30.
    const bytes = encodeServerHello(178, "20250102 09:30:00 EST");
    expect(bytes.length).toBe(30);
    expect(hex(bytes.subarray(0, 4))).toBe("0000001a");
    expect(bytes.subarray(4).toString("latin1")).toBe("178\u000020250102 09:30:00 EST\u0000");
  });

  it("START_API for client id 1 matches the composed example", () => {
    expect(hex(encodeMessage(START_API, { clientId: 1, optionalCapabilities: "" }, 178))).toBe(
      "000000083731003200310000",
    );
  });
});

describe("version ranges", () => {
  it("parses ranges, single versions, options and a tolerated trailing NUL", () => {
    expect(parseVersionRange("v100..193")).toEqual({ min: 100, max: 193, options: "" });
    expect(parseVersionRange("v178")).toEqual({ min: 178, max: 178, options: "" });
    expect(parseVersionRange("v157..178 +PACEAPI")).toEqual({ min: 157, max: 178, options: "+PACEAPI" });
    expect(parseVersionRange(Buffer.from("v157..178\0"))).toEqual({ min: 157, max: 178, options: "" });
  });

  it("rejects what is not a range", () => {
    expect(() => parseVersionRange("GET / HTTP/1.1")).toThrow(HandshakeError);
    expect(() => parseVersionRange("v200..100")).toThrow(HandshakeError);
  });

  it("negotiates the highest common version, never above the server's cap", () => {
    expect(negotiateVersion({ min: 100, max: 193 })).toBe(178);
    expect(negotiateVersion({ min: 157, max: 178 })).toBe(178);
    expect(negotiateVersion({ min: 100, max: 165 })).toBe(165);
    expect(negotiateVersion({ min: 213, max: 225 })).toBeUndefined();
    expect(negotiateVersion({ min: 100, max: 150 })).toBeUndefined();
    expect(negotiateVersion({ min: 100, max: 193 }, { min: 157, max: 170 })).toBe(170);
  });
});

describe("server side reading", () => {
  it("consumes the prefix byte by byte and hands the rest to the frame decoder", () => {
    const bytes = encodeClientHello({ min: 157, max: 178, options: "" });
    const prefix = new PrefixReader();
    const frames = new FrameDecoder();
    const got: Buffer[] = [];
    for (const byte of bytes) {
      const b = Buffer.from([byte]);
      const used = prefix.done ? 0 : prefix.push(b);
      if (used < b.length) got.push(...frames.push(b.subarray(used)));
    }
    expect(got.map((f) => parseVersionRange(f))).toEqual([{ min: 157, max: 178, options: "" }]);
  });

  it("refuses a peer that does not start with API\\0", () => {
    expect(() => new PrefixReader().push(Buffer.from("GET /"))).toThrow(HandshakeError);
  });

  it("parses the server hello and refuses a non-numeric version", () => {
    expect(parseServerHello(decodeFields(Buffer.from("176\u000020250102 09:30:00 EST\u0000")))).toEqual({
      serverVersion: 176,
      connectionTime: "20250102 09:30:00 EST",
    });
    expect(() => parseServerHello(["HTTP/1.1 400"])).toThrow(HandshakeError);
  });

  it("formats the connection time as TWS does", () => {
    expect(formatConnectionTime(Date.UTC(2025, 0, 2, 9, 30, 0))).toBe("20250102 09:30:00 UTC");
  });
});
