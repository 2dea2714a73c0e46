/**
 * Framing of the TWS API: every message after the handshake prefix is a 4-byte big-endian
 * length followed by that many payload bytes. The decoder is incremental (any chunking,
 * one byte at a time included) and bounded: it never buffers more than one frame of at most
 * `maxFrameBytes`, and rejects a larger announced length before reading it (IB's client-side
 * error 507 "bad message length").
 */
import { FrameTooLargeError, ProtocolError } from "../errors.js";
import { fieldEnd, fieldStart, payloadLength, writeFields } from "./fields.js";

/** The official clients reject lengths above 0xFFFFFF. */
export const MAX_FRAME_BYTES = 0xff_ff_ff;
export const HEADER_BYTES = 4;

export function encodeFrame(payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAME_BYTES) throw new FrameTooLargeError(payload.length, MAX_FRAME_BYTES);
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** Bytes one message takes as a frame: the length prefix and its payload. */
export function frameLength(fields: readonly string[]): number {
  return HEADER_BYTES + payloadLength(fields);
}

/**
 * Write one message as a frame into `out` at `offset`, where `frameLength(fields)` bytes are
 * free; returns the offset after it. Lets a writer batch many frames into one buffer.
 */
export function writeFrame(fields: readonly string[], out: Buffer, offset: number): number {
  const end = writeFields(fields, out, offset + HEADER_BYTES);
  const len = end - offset - HEADER_BYTES;
  if (len > MAX_FRAME_BYTES) throw new FrameTooLargeError(len, MAX_FRAME_BYTES);
  out.writeUInt32BE(len, offset);
  return end;
}

/** One message as a whole frame in one allocation (encodeFrame(encodeFields(f)) without the copy). */
export function encodeMessageFrame(fields: readonly string[]): Buffer {
  const out = Buffer.allocUnsafe(frameLength(fields));
  writeFrame(fields, out, 0);
  return out;
}

/**
 * Bytes of the frame `payload` makes with field `index` replaced by the integer `id`: what
 * encodeMessageFrame(decoded fields with that field set to String(id)) would give, without
 * decoding or re-encoding. `index` comes from the routing table (fieldIndex); a payload with
 * fewer fields is forwarded unchanged, and one without its final NUL gets it, as a
 * re-encode would.
 */
export function patchedFrameLength(payload: Uint8Array, index: number, id: number): number {
  const start = fieldStart(payload, index);
  const nul = missingFinalNul(payload) ? 1 : 0;
  const len =
    start === -1
      ? payload.length + nul
      : payload.length + nul - (fieldEnd(payload, start) - start) + idText(id).length;
  // A longer id can push an answer at the limit past it: refused as encodeFrame would.
  if (len > MAX_FRAME_BYTES) throw new FrameTooLargeError(len, MAX_FRAME_BYTES);
  return HEADER_BYTES + len;
}

/** Write the frame patchedFrameLength describes into `out` at `offset`; returns the end. */
export function writePatchedFrame(
  payload: Uint8Array,
  index: number,
  id: number,
  out: Buffer,
  offset: number,
): number {
  const start = fieldStart(payload, index);
  let pos = offset + HEADER_BYTES;
  if (start === -1) {
    copyBytes(payload, 0, payload.length, out, pos);
    pos += payload.length;
  } else {
    const end = fieldEnd(payload, start);
    const text = idText(id);
    copyBytes(payload, 0, start, out, pos);
    pos += start;
    for (let i = 0; i < text.length; i++) out[pos++] = text.charCodeAt(i);
    copyBytes(payload, end, payload.length, out, pos);
    pos += payload.length - end;
  }
  if (missingFinalNul(payload)) out[pos++] = 0;
  out.writeUInt32BE(pos - offset - HEADER_BYTES, offset);
  return pos;
}

/**
 * Copy src[start, end) into dst at `at`. A tick's frame is a few dozen bytes, where a byte
 * loop beats a native copy (which costs a view per call); larger spans use the native copy.
 */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
  if (end - start > 64) {
    dst.set(src.subarray(start, end), at);
    return;
  }
  for (let i = start, j = at; i < end; i++, j++) dst[j] = src[i] as number;
}

/** A payload whose last field lacks its NUL (decodeFields reads it; a re-encode adds it). */
function missingFinalNul(payload: Uint8Array): boolean {
  return payload.length > 0 && payload[payload.length - 1] !== 0;
}

/** An id as the fields carry it (ASCII: digits and a sign). */
function idText(id: number): string {
  if (!Number.isInteger(id)) throw new ProtocolError(`an id must be an integer, not ${id}`);
  return String(id);
}

export interface FrameDecoderOptions {
  /** Largest payload accepted, in bytes. Default MAX_FRAME_BYTES. */
  maxFrameBytes?: number;
  /** Reject zero-length frames (a TWS payload always has at least one field). Default true. */
  rejectEmpty?: boolean;
}

export class FrameDecoder {
  readonly #max: number;
  readonly #rejectEmpty: boolean;
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerFill = 0;
  #body: Buffer | undefined;
  #bodyFill = 0;
  #failed: Error | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.#max = Math.min(options.maxFrameBytes ?? MAX_FRAME_BYTES, MAX_FRAME_BYTES);
    this.#rejectEmpty = options.rejectEmpty ?? true;
  }

  /** Bytes held for an incomplete frame. Never more than HEADER_BYTES + maxFrameBytes. */
  get buffered(): number {
    return this.#headerFill + this.#bodyFill;
  }

  /**
   * Feed bytes; returns the payloads completed by them (possibly none). Payloads that lie
   * wholly inside `chunk` are returned as views of it without copying. After an error the
   * stream cannot be re-synchronised, so every later call throws the same error.
   */
  push(chunk: Uint8Array): Buffer[] {
    if (this.#failed) throw this.#failed;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < buf.length) {
      if (this.#body === undefined) {
        // Fast path: a whole frame sits in the chunk and nothing is pending.
        if (this.#headerFill === 0 && buf.length - pos >= HEADER_BYTES) {
          const len = buf.readUInt32BE(pos);
          this.#check(len);
          if (buf.length - pos - HEADER_BYTES >= len) {
            out.push(buf.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + len));
            pos += HEADER_BYTES + len;
            continue;
          }
        }
        const take = Math.min(HEADER_BYTES - this.#headerFill, buf.length - pos);
        buf.copy(this.#header, this.#headerFill, pos, pos + take);
        this.#headerFill += take;
        pos += take;
        if (this.#headerFill < HEADER_BYTES) break;
        const len = this.#header.readUInt32BE(0);
        this.#check(len);
        this.#body = Buffer.allocUnsafe(len);
        this.#bodyFill = 0;
      }
      const body: Buffer = this.#body;
      const take = Math.min(body.length - this.#bodyFill, buf.length - pos);
      buf.copy(body, this.#bodyFill, pos, pos + take);
      this.#bodyFill += take;
      pos += take;
      if (this.#bodyFill === body.length) {
        out.push(body);
        this.#body = undefined;
        this.#bodyFill = 0;
        this.#headerFill = 0;
      }
    }
    return out;
  }

  #check(len: number): void {
    if (len > this.#max) this.#fail(new FrameTooLargeError(len, this.#max));
    if (len === 0 && this.#rejectEmpty) this.#fail(new ProtocolError("empty frame", { ibCode: 507 }));
  }

  #fail(err: Error): never {
    this.#failed = err;
    this.#body = undefined;
    this.#headerFill = 0;
    this.#bodyFill = 0;
    throw err;
  }
}
