/**
 * Bars as the library and the HTTP API give them: numbers and an ISO 8601 time, one shape
 * for both (interfaces.md, "Data shapes"). The wire's bar (src/protocol) keeps IB's strings:
 * `date` is epoch seconds for intraday bars (formatDate=2) or yyyyMMdd for daily ones, and
 * volume / WAP are decimals IB sends as text.
 */
import type { Bar as WireBar } from "../protocol/messages/history.js";

export interface Bar {
  /** ISO 8601 start of the bar, UTC (a daily bar: its session's date at 00:00Z). */
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Volume-weighted average price; 0 when IB sent none. */
  wap: number;
  /** Trades in the bar. */
  count: number;
}

/** IB's bar date → ISO 8601: epoch seconds, or yyyyMMdd[ HH:mm:ss]. */
export function barTime(date: string): string {
  const t = date.trim();
  if (/^\d{9,}$/.test(t)) return new Date(Number(t) * 1000).toISOString();
  const d = /^(\d{4})(\d{2})(\d{2})(?:[ -](\d{2}):(\d{2}):(\d{2}))?/.exec(t);
  if (d) {
    const [, y, mo, da, h = "00", mi = "00", s = "00"] = d;
    return `${y}-${mo}-${da}T${h}:${mi}:${s}.000Z`;
  }
  return t;
}

export function toBar(b: WireBar): Bar {
  const num = (v: string | undefined) => (v === undefined || v === "" ? 0 : Number(v));
  return {
    time: barTime(b.date),
    open: b.open,
    high: b.high,
    low: b.low,
    close: b.close,
    volume: num(b.volume),
    wap: num(b.wap),
    count: b.barCount,
  };
}
