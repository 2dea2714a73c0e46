/**
 * A message codec knows one message's layout at every server version we speak. The
 * framework writes and reads the message id (field 0); a codec handles the rest.
 */
import { ProtocolError } from "../errors.js";
import { decodeFields, encodeFields, FieldReader, FieldWriter } from "./fields.js";
import { encodeFrame } from "./frame.js";

export type Direction = "in" | "out";

export interface MessageCodec<T> {
  readonly id: number;
  readonly name: string;
  /** "out": client → server; "in": server → client. */
  readonly direction: Direction;
  write(w: FieldWriter, msg: T, version: number): void;
  read(r: FieldReader, version: number): T;
}

export function defineCodec<T>(codec: MessageCodec<T>): MessageCodec<T> {
  return codec;
}

/** The fields of a message, message id first. */
export function toFields<T>(codec: MessageCodec<T>, msg: T, version: number): string[] {
  const w = new FieldWriter();
  w.int(codec.id);
  codec.write(w, msg, version);
  return w.fields;
}

/** A complete frame (length prefix included) ready for a socket. */
export function encodeMessage<T>(codec: MessageCodec<T>, msg: T, version: number): Buffer {
  return encodeFrame(encodeFields(toFields(codec, msg, version)));
}

/**
 * Decode the fields of one message (field 0 must be the codec's id). A message TWS sends
 * ("in") must end exactly where its layout at `version` ends: a reader that stops early or
 * runs out has read the message with the wrong layout, and its values cannot be trusted.
 * Client messages ("out") are read leniently, as TWS does: clients differ in what they add.
 */
export function fromFields<T>(codec: MessageCodec<T>, fields: readonly string[], version: number): T {
  if (Number(fields[0]) !== codec.id) {
    throw new ProtocolError(`expected message ${codec.name} (${codec.id}), got ${JSON.stringify(fields[0])}`);
  }
  const r = new FieldReader(fields, 1);
  let msg: T;
  try {
    msg = codec.read(r, version);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    throw new ProtocolError(`${codec.name} at server version ${version}: ${err.message}`, { cause: err });
  }
  if (codec.direction === "in" && r.remaining !== 0) {
    throw new ProtocolError(
      `${codec.name} at server version ${version}: the layout ends at field ${r.position} ` +
        `but the message has ${fields.length} fields`,
    );
  }
  return msg;
}

export function decodeMessage<T>(codec: MessageCodec<T>, payload: Uint8Array, version: number): T {
  return fromFields(codec, decodeFields(payload), version);
}

/** The message id of a payload without decoding the rest (the hot path of routing). */
export function peekMessageId(payload: Uint8Array): number {
  let n = 0;
  let i = 0;
  let neg = false;
  if (payload[0] === 0x2d) {
    neg = true;
    i = 1;
  }
  for (; i < payload.length; i++) {
    const c = payload[i] as number;
    if (c === 0) break;
    if (c < 0x30 || c > 0x39) throw new ProtocolError("message id is not a number");
    n = n * 10 + (c - 0x30);
  }
  if (i === 0 || (neg && i === 1)) throw new ProtocolError("message id is empty");
  return neg ? -n : n;
}
