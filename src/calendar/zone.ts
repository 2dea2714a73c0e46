/**
 * Local wall time in a named zone ↔ UTC instants, through Intl (the zone data Node ships),
 * so DST changes are right to the minute without a table of our own.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

export interface LocalTime {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall time a zone shows at an instant (throws RangeError on an unknown zone). */
export function localTime(zone: string, atMs: number): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(atMs)))
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
  };
}

/** Offset of a zone from UTC at an instant, in ms (east positive). */
export function zoneOffsetMs(zone: string, atMs: number): number {
  if (zone === "UTC" || zone === "GMT") return 0;
  const t = localTime(zone, atMs);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - Math.floor(atMs / 1000) * 1000;
}

/**
 * The instant a zone's clocks show the given wall time. Two passes settle the offset on
 * either side of a DST change; a wall time that does not exist (the spring gap) resolves to
 * the instant one offset later, as most libraries do.
 */
export function utcOf(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  if (zone === "UTC" || zone === "GMT") return wall;
  const first = wall - zoneOffsetMs(zone, wall);
  return wall - zoneOffsetMs(zone, first);
}
