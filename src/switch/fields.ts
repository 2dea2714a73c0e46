/** Pure helpers for reading and rewriting id fields of a message by index. */
import { type FieldIndex, fieldIndex } from "../protocol/routing.js";

export function readId(fields: readonly string[], index: FieldIndex, version: number): number | undefined {
  const raw = fields[fieldIndex(index, version)];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  return Number.isInteger(n) ? n : undefined;
}

/** A copy of `fields` with the field at `index` replaced; the input is never mutated. */
export function withId(fields: readonly string[], index: FieldIndex, version: number, id: number): string[] {
  const out = fields.slice();
  const i = fieldIndex(index, version);
  if (i < out.length) out[i] = String(id);
  return out;
}

export function setField(fields: string[], index: FieldIndex, version: number, value: string): void {
  const i = fieldIndex(index, version);
  if (i < fields.length) fields[i] = value;
}
