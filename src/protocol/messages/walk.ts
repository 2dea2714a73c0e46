/**
 * A field walk describes a long message's layout once, for both directions. Reading, each
 * step takes the next field of the message and records its text under the step's name;
 * writing, each step writes the text the writer has for that name. Blocks that are present
 * only when an earlier field says so are decided by the same code in both directions, on the
 * text just read or written, so the reader and the writer cannot disagree on the layout.
 *
 * Invariant: a name is visited at most once per message (repeated groups index their names).
 */
import { ProtocolError } from "../../errors.js";
import type { FieldReader, FieldWriter } from "../fields.js";

export interface FieldWalk {
  readonly version: number;
  /** One field: its text, read or written. */
  field(name: string): string;
}

/** Reads fields in layout order and keeps every text by name. */
export class ReadWalk implements FieldWalk {
  readonly texts = new Map<string, string>();
  readonly #r: FieldReader;
  readonly version: number;

  constructor(r: FieldReader, version: number) {
    this.#r = r;
    this.version = version;
  }

  field(name: string): string {
    const t = this.#r.str();
    this.texts.set(name, t);
    return t;
  }
}

/** Writes, for each name in layout order, the text `textOf` gives for it. */
export class WriteWalk implements FieldWalk {
  readonly #w: FieldWriter;
  readonly #textOf: (name: string) => string;
  readonly version: number;

  constructor(w: FieldWriter, version: number, textOf: (name: string) => string) {
    this.#w = w;
    this.version = version;
    this.#textOf = textOf;
  }

  field(name: string): string {
    const t = this.#textOf(name);
    this.#w.str(t);
    return t;
  }
}

/** Largest count of a repeated group we accept; a bigger one means a misread layout. */
const MAX_GROUP = 10_000;

/** The count field of a repeated group (empty is 0, as IB's decoders read it). */
export function groupCount(text: string, name: string): number {
  if (text === "") return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > MAX_GROUP) {
    throw new ProtocolError(`${name} is not a count: ${JSON.stringify(text)}`);
  }
  return n;
}

/** `count` repetitions of `names`, each visited as `<group>.<i>.<name>`. */
export function walkGroup(walk: FieldWalk, group: string, count: number, names: readonly string[]): void {
  for (let i = 0; i < count; i++) for (const n of names) walk.field(`${group}.${i}.${n}`);
}
