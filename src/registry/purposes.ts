/**
 * Purposes and their client-id ranges. Each kind of client (UI, workers, checks…) draws from
 * its own range so one kind can never starve or collide with another.
 */
import { InvalidArgumentError } from "../errors.js";

export interface IdRange {
  readonly min: number;
  readonly max: number;
}

export type PurposeRanges = Readonly<Record<string, IdRange>>;

/** Defaults from the seed projects' conventions; id 0 is left alone (TWS gives it manual orders). */
export const DEFAULT_PURPOSES: PurposeRanges = Object.freeze({
  ui: { min: 1, max: 9 },
  workers: { min: 10, max: 99 },
  manual: { min: 100, max: 199 },
  checks: { min: 200, max: 299 },
  agents: { min: 300, max: 399 },
  backfill: { min: 400, max: 499 },
  proxy: { min: 900, max: 999 },
});

/** TWS takes a signed 32-bit client id. */
export const MAX_CLIENT_ID = 2_147_483_647;
/** A range larger than this would make candidate lists and Lua loops unreasonably long. */
export const MAX_RANGE_SIZE = 10_000;

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export interface ResolvedPurpose extends IdRange {
  readonly name: string;
  readonly size: number;
}

/**
 * Validate a purpose table once: names, integer bounds, sizes and no overlaps (overlapping
 * ranges would let two purposes step on each other, the very thing ranges exist to stop).
 */
export function resolvePurposes(
  input: PurposeRanges = DEFAULT_PURPOSES,
): ReadonlyMap<string, ResolvedPurpose> {
  const out = new Map<string, ResolvedPurpose>();
  for (const [name, range] of Object.entries(input)) {
    const field = `purposes.${name}`;
    if (!NAME.test(name)) {
      throw new InvalidArgumentError(field, `purpose name "${name}" must match ${NAME.source}`);
    }
    const { min, max } = range;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max > MAX_CLIENT_ID || min > max) {
      throw new InvalidArgumentError(
        field,
        `purpose "${name}": range ${min}..${max} must be integers with 0 <= min <= max <= ${MAX_CLIENT_ID}`,
      );
    }
    const size = max - min + 1;
    if (size > MAX_RANGE_SIZE) {
      throw new InvalidArgumentError(
        field,
        `purpose "${name}": ${size} ids is over the limit of ${MAX_RANGE_SIZE}`,
      );
    }
    for (const other of out.values()) {
      if (min <= other.max && other.min <= max) {
        throw new InvalidArgumentError(
          field,
          `purpose "${name}" (${min}..${max}) overlaps purpose "${other.name}" (${other.min}..${other.max})`,
        );
      }
    }
    out.set(name, { name, min, max, size });
  }
  if (out.size === 0) throw new InvalidArgumentError("purposes", "at least one purpose is needed");
  return out;
}

/** Parse `ui=1-9,workers=10-99` (flag / env form) into a purpose table. */
export function parsePurposes(text: string): PurposeRanges {
  const table: Record<string, IdRange> = {};
  for (const part of text.split(",")) {
    const m = /^\s*([^=\s]+)\s*=\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new InvalidArgumentError("purposes", `"${part}" is not of the form name=min-max`);
    const min = Number(m[2]);
    table[m[1]!] = { min, max: m[3] === undefined ? min : Number(m[3]) };
  }
  return table;
}
