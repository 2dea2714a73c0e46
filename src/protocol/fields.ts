/**
 * Field encoding: a payload is a sequence of text fields, each terminated by NUL.
 * IB's "unset" sentinels and lenient number parsing live here and nowhere else.
 */
import { ProtocolError } from "../errors.js";

export const UNSET_INTEGER = 2_147_483_647;
export const UNSET_DOUBLE = Number.MAX_VALUE;
export const UNSET_LONG = 9_223_372_036_854_775_807n;
/** How TWS writes an unset double and an unset int where it writes them out (see docs/protocol.md). */
export const UNSET_DOUBLE_TEXT = "1.7976931348623157E308";
export const UNSET_INTEGER_TEXT = "2147483647";
const UNSET_TEXTS = new Set([
  "2147483647",
  "9223372036854775807",
  "1.7976931348623157E308",
  "1.7976931348623157e+308",
]);

const NUL = 0;

/** Encode fields as a payload: each field followed by NUL. Rejects NUL inside a field. */
export function encodeFields(fields: readonly string[]): Buffer {
  const out = Buffer.allocUnsafe(payloadLength(fields));
  writeFields(fields, out, 0);
  return out;
}

/** Bytes `fields` take as a payload (each field in UTF-8 and its NUL). */
export function payloadLength(fields: readonly string[]): number {
  let size = 0;
  for (const f of fields) size += asciiLength(f) ?? Buffer.byteLength(f, "utf8") + 1;
  return size;
}

/**
 * Write `fields` as a payload into `out` at `offset` (the caller made room: payloadLength);
 * returns the offset after it. Rejects NUL inside a field before writing anything.
 */
export function writeFields(fields: readonly string[], out: Buffer, offset: number): number {
  for (const f of fields) if (f.includes("\0")) throw new ProtocolError("a field must not contain NUL");
  let pos = offset;
  for (const f of fields) {
    // Most fields are a few ASCII characters (ids, prices, sizes): a byte loop beats a native
    // call per field; anything else goes through the UTF-8 encoder.
    if (f.length <= SHORT_FIELD && isAscii(f))
      for (let i = 0; i < f.length; i++) out[pos++] = f.charCodeAt(i);
    else pos += out.write(f, pos, "utf8");
    out[pos++] = NUL;
  }
  return pos;
}

/**
 * Where field `index` of a payload starts, in bytes; -1 when the payload has fewer fields (as
 * decodeFields counts them: a final NUL terminates the last field, it starts none). Its end
 * is `fieldEnd(payload, start)`. A byte scan: ids sit in the first few fields.
 */
export function fieldStart(payload: Uint8Array, index: number): number {
  let pos = 0;
  for (let i = 0; i < index; i++) {
    while (pos < payload.length && payload[pos] !== NUL) pos++;
    pos++; // past the NUL
  }
  return pos < payload.length ? pos : -1;
}

/** Where the field starting at `start` ends (its NUL, or the payload's end). */
export function fieldEnd(payload: Uint8Array, start: number): number {
  let pos = start;
  while (pos < payload.length && payload[pos] !== NUL) pos++;
  return pos;
}

const SHORT_FIELD = 32;

/** A short ASCII field's length plus its NUL, else undefined (measure it as UTF-8). */
function asciiLength(f: string): number | undefined {
  return f.length <= SHORT_FIELD && isAscii(f) ? f.length + 1 : undefined;
}

function isAscii(f: string): boolean {
  for (let i = 0; i < f.length; i++) if (f.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Split a payload into fields. The terminator of the last field is optional. */
export function decodeFields(payload: Uint8Array): string[] {
  const buf = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  // One string conversion and one split beat a per-field indexOf + toString by ~2x.
  const fields = buf.toString("utf8").split("\0");
  if (fields[fields.length - 1] === "") fields.pop();
  return fields;
}

export function formatDouble(n: number): string {
  if (n === Number.POSITIVE_INFINITY) return "Infinity";
  if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
  return String(n);
}

/**
 * A double as TWS prints it (Java's Double.toString): always a fraction or an exponent, so
 * 0 is "0.0", 5800 is "5800.0", 1e-4 is "1.0E-4" and Double.MAX_VALUE is the unset sentinel
 * text. Values read from such text print back to the same text.
 */
export function formatJavaDouble(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "Infinity";
  if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0";
  const a = Math.abs(n);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(n);
    return s.includes(".") ? s : `${s}.0`;
  }
  const [mantissa = "", exponent = ""] = n.toExponential().split("e");
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${exponent.replace("+", "")}`;
}

/** Builds the fields of one message. */
export class FieldWriter {
  readonly fields: string[] = [];

  str(v: string | undefined | null): this {
    this.fields.push(v ?? "");
    return this;
  }

  int(v: number): this {
    this.fields.push(String(Math.trunc(v)));
    return this;
  }

  /**
   * An optional int: UNSET_INTEGER and undefined go out as `unset` — empty unless the message
   * is one where TWS writes the sentinel itself.
   */
  intMax(v: number | undefined, unset = ""): this {
    this.fields.push(v === undefined || v === UNSET_INTEGER ? unset : String(Math.trunc(v)));
    return this;
  }

  float(v: number): this {
    this.fields.push(formatDouble(v));
    return this;
  }

  /** An optional double: UNSET_DOUBLE and undefined go out as `unset` (empty by default). */
  floatMax(v: number | undefined, unset = ""): this {
    this.fields.push(v === undefined || v === UNSET_DOUBLE ? unset : formatDouble(v));
    return this;
  }

  /** A double printed as TWS prints it ("0.0", "5800.0"; see formatJavaDouble). */
  double(v: number): this {
    this.fields.push(formatJavaDouble(v));
    return this;
  }

  /** An optional double printed as TWS prints it; unset goes out as TWS's sentinel text. */
  doubleMax(v: number | undefined, unset = UNSET_DOUBLE_TEXT): this {
    this.fields.push(v === undefined || v === UNSET_DOUBLE ? unset : formatJavaDouble(v));
    return this;
  }

  bool(v: boolean | undefined): this {
    this.fields.push(v ? "1" : "0");
    return this;
  }

  /** Sizes and quantities (IB "Decimal"): text as given, unset as empty. */
  decimal(v: string | number | undefined): this {
    this.fields.push(v === undefined ? "" : String(v));
    return this;
  }

  raw(values: readonly string[]): this {
    for (const v of values) this.fields.push(v);
    return this;
  }
}

/** Reads the fields of one message in order; throws ProtocolError when they run out. */
export class FieldReader {
  readonly #fields: readonly string[];
  #pos: number;

  constructor(fields: readonly string[], start = 0) {
    this.#fields = fields;
    this.#pos = start;
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#fields.length - this.#pos;
  }

  #next(what: string): string {
    if (this.#pos >= this.#fields.length) {
      throw new ProtocolError(`message ended before field ${this.#pos} (${what})`);
    }
    return this.#fields[this.#pos++] as string;
  }

  str(): string {
    return this.#next("string");
  }

  /** Lenient as IB's decoders: an empty field reads as 0. */
  int(): number {
    const s = this.#next("int");
    if (s === "") return 0;
    const n = Number(s);
    if (!Number.isFinite(n))
      throw new ProtocolError(`field ${this.#pos - 1} is not an integer: ${JSON.stringify(s)}`);
    return Math.trunc(n);
  }

  /** An optional int: empty or a sentinel reads as undefined. */
  intMax(): number | undefined {
    const s = this.#next("int");
    if (s === "" || UNSET_TEXTS.has(s)) return undefined;
    const n = Number(s);
    if (!Number.isFinite(n))
      throw new ProtocolError(`field ${this.#pos - 1} is not an integer: ${JSON.stringify(s)}`);
    return Math.trunc(n);
  }

  float(): number {
    const s = this.#next("double");
    if (s === "") return 0;
    return parseDouble(s, this.#pos - 1);
  }

  floatMax(): number | undefined {
    const s = this.#next("double");
    if (s === "" || UNSET_TEXTS.has(s)) return undefined;
    return parseDouble(s, this.#pos - 1);
  }

  bool(): boolean {
    const s = this.#next("bool");
    return s !== "" && s !== "0" && s.toLowerCase() !== "false";
  }

  decimal(): string | undefined {
    const s = this.#next("decimal");
    return s === "" || UNSET_TEXTS.has(s) ? undefined : s;
  }

  skip(n = 1): this {
    for (let i = 0; i < n; i++) this.#next("skipped");
    return this;
  }

  rest(): string[] {
    const out = this.#fields.slice(this.#pos);
    this.#pos = this.#fields.length;
    return out;
  }
}

function parseDouble(s: string, index: number): number {
  if (s === "Infinity" || s === "Infinite" || s === "inf") return Number.POSITIVE_INFINITY;
  if (s === "-Infinity" || s === "-Infinite" || s === "-inf") return Number.NEGATIVE_INFINITY;
  const n = Number(s);
  if (Number.isNaN(n)) throw new ProtocolError(`field ${index} is not a number: ${JSON.stringify(s)}`);
  return n;
}
