/**
 * Trading sessions of an exchange calendar: which days trade, when each session opens and
 * closes in UTC, and walking sessions back from (or forward to) an instant. Pure: no clock.
 *
 * A day is named by its local date; `day` numbers count local dates from 1970-01-01 so that
 * weekday and month arithmetic never touch a zone. The regular session (RTH) and the
 * extended one (useRTH=0) are both sessions of the same day.
 */
import { utcOf } from "./zone.js";

const DAY_MS = 86_400_000;

/** Minutes after local midnight. */
interface Hours {
  open: number;
  close: number;
}

export interface CalendarSpec {
  readonly name: string;
  /** IANA zone of the exchange. */
  readonly zone: string;
  /** The zone name TWS writes after times of this calendar ("US/Eastern"). */
  readonly zoneLabel: string;
  readonly regular: Hours;
  readonly extended: Hours;
  /** Hours on an early-close day (none: early closes do not apply). */
  readonly earlyRegular?: Hours;
  readonly earlyExtended?: Hours;
  /** "yyyy-mm-dd" local dates. */
  readonly holidays: ReadonlySet<string>;
  readonly earlyCloses: ReadonlySet<string>;
}

export interface Session {
  /** Local date as a day number (days since 1970-01-01). */
  readonly day: number;
  /** Local date "yyyyMMdd", as IB dates daily bars. */
  readonly date: string;
  /** UTC instants. */
  readonly open: number;
  readonly close: number;
  /** UTC instant of the local midnight that starts the day: bar boundaries count from it. */
  readonly dayStart: number;
  readonly early: boolean;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Year, month (1..12) and day of a day number. */
export function ymdOf(day: number): { year: number; month: number; day: number } {
  const d = new Date(day * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function dayOf(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / DAY_MS);
}

/** 0 Sunday … 6 Saturday. */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function isoDate(day: number): string {
  const d = ymdOf(day);
  return `${d.year}-${pad(d.month)}-${pad(d.day)}`;
}

export class ExchangeCalendar {
  readonly spec: CalendarSpec;
  readonly #cache = new Map<number, Session | null>();

  constructor(spec: CalendarSpec) {
    this.spec = spec;
  }

  get zone(): string {
    return this.spec.zone;
  }

  /** The local day number of an instant. */
  dayAt(ms: number): number {
    // Local midnight of the UTC day, of the day before and after: the one at or before ms.
    const utcDay = Math.floor(ms / DAY_MS);
    for (const d of [utcDay + 1, utcDay, utcDay - 1]) {
      const { year, month, day } = ymdOf(d);
      if (utcOf(this.spec.zone, year, month, day) <= ms) return d;
    }
    return utcDay - 1;
  }

  isTradingDay(day: number): boolean {
    const wd = weekdayOf(day);
    return wd !== 0 && wd !== 6 && !this.spec.holidays.has(isoDate(day));
  }

  /** The session of a local day (undefined on weekends and holidays). */
  session(day: number, rth: boolean): Session | undefined {
    const key = rth ? day * 2 : day * 2 + 1;
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const s = this.#build(day, rth);
    if (this.#cache.size > 20_000) this.#cache.clear();
    this.#cache.set(key, s ?? null);
    return s;
  }

  #build(day: number, rth: boolean): Session | undefined {
    if (!this.isTradingDay(day)) return undefined;
    const iso = isoDate(day);
    const early = this.spec.earlyCloses.has(iso);
    const hours =
      (early ? (rth ? this.spec.earlyRegular : this.spec.earlyExtended) : undefined) ??
      (rth ? this.spec.regular : this.spec.extended);
    const { year, month, day: dom } = ymdOf(day);
    const at = (minutes: number) =>
      utcOf(this.spec.zone, year, month, dom, Math.floor(minutes / 60), minutes % 60);
    return {
      day,
      date: `${year}${pad(month)}${pad(dom)}`,
      open: at(hours.open),
      // 24:00 is the next local midnight, which utcOf reaches through the date overflow.
      close: at(hours.close),
      dayStart: utcOf(this.spec.zone, year, month, dom),
      early,
    };
  }

  /** Sessions that opened before `endMs`, newest first (the one in progress included). */
  *sessionsBefore(endMs: number, rth: boolean): Generator<Session> {
    for (let d = this.dayAt(endMs); ; d--) {
      const s = this.session(d, rth);
      if (s && s.open < endMs) yield s;
    }
  }

  /** Sessions that close after `startMs`, oldest first. */
  *sessionsAfter(startMs: number, rth: boolean): Generator<Session> {
    for (let d = this.dayAt(startMs); ; d++) {
      const s = this.session(d, rth);
      if (s && s.close > startMs) yield s;
    }
  }

  /** The session in progress at `ms`, if any. */
  sessionAt(ms: number, rth: boolean): Session | undefined {
    const s = this.session(this.dayAt(ms), rth);
    return s && s.open <= ms && ms < s.close ? s : undefined;
  }

  /**
   * Where data asked to end at `endMs` really ends: `endMs` inside a session, else the close
   * of the last session before it (a request ending on a weekend ends at Friday's close).
   */
  effectiveEnd(endMs: number, rth: boolean): { end: number; session: Session } {
    const s = this.sessionsBefore(endMs, rth).next().value as Session;
    return { end: Math.min(endMs, s.close), session: s };
  }
}
