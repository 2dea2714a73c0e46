/** Instants given by users (`--now`, `mockNow`): explicit about their zone. */

/** ISO 8601 with a date and time, or epoch ms; undefined for anything else. */
export function parseInstant(value: string | number | Date): number | undefined {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.getTime() : undefined;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  const text = value.trim();
  // A bare date or a time without a zone would depend on the machine's zone: refuse both.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
