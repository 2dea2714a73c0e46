/**
 * IB's time strings as the history code speaks them: request end times in UTC
 * ("yyyyMMdd-HH:mm:ss") and answer times with formatDate=2 (epoch seconds for intraday bars
 * and head timestamps, "yyyyMMdd" for daily bars, dated by session).
 */

/** IB's end time in UTC: "yyyyMMdd-HH:mm:ss". */
export function ibUtc(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** formatDate=2: epoch seconds for intraday bars, yyyyMMdd for daily ones (dated by session). */
export function ibTime(date: string): number {
  const t = date.trim();
  if (/^\d{9,}$/.test(t)) return Number(t) * 1000;
  const d = /^(\d{4})(\d{2})(\d{2})/.exec(t);
  if (d) return Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
  throw new RangeError(`unreadable bar time "${date}"`);
}
