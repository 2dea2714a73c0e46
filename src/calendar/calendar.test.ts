import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { usEquities, weekdaysUtc } from "./calendars.js";
import { historyWindow, parseDuration } from "./durations.js";
import { dayOf, isoDate, type Session, weekdayOf } from "./sessions.js";
import { NYSE_EARLY_CLOSES, NYSE_HOLIDAYS, US_EQUITY_CALENDAR_YEARS } from "./us-equities.js";
import { localTime, utcOf } from "./zone.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const win = (end: string, duration: string, rth = true) =>
  historyWindow(usEquities, at(end), parseDuration(duration)!, rth);
const dates = (sessions: readonly Session[]) => sessions.map((s) => s.date);

// ---- an independent derivation of NYSE's rule-based holidays, to check the table ----
const nthWeekday = (y: number, m: number, weekday: number, n: number) => {
  const first = dayOf(y, m, 1);
  return first + ((weekday - weekdayOf(first) + 7) % 7) + 7 * (n - 1);
};
const lastWeekday = (y: number, m: number, weekday: number) => {
  const last = dayOf(y, m + 1, 0);
  return last - ((weekdayOf(last) - weekday + 7) % 7);
};
/** Easter Sunday (anonymous Gregorian algorithm). */
const easter = (y: number) => {
  const a = y % 19;
  const b = Math.floor(y / 100);
  const c = y % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayOf(y, month, day);
};
/** Saturday → Friday, Sunday → Monday; a Saturday New Year's Day is not observed. */
const observed = (day: number, newYear = false) => {
  const wd = weekdayOf(day);
  if (wd === 6) return newYear ? undefined : day - 1;
  if (wd === 0) return day + 1;
  return day;
};
function ruleHolidays(y: number): string[] {
  const days = [
    observed(dayOf(y, 1, 1), true),
    nthWeekday(y, 1, 1, 3),
    nthWeekday(y, 2, 1, 3),
    easter(y) - 2,
    lastWeekday(y, 5, 1),
    ...(y >= 2022 ? [observed(dayOf(y, 6, 19))] : []),
    observed(dayOf(y, 7, 4)),
    nthWeekday(y, 9, 1, 1),
    nthWeekday(y, 11, 4, 4),
    observed(dayOf(y, 12, 25)),
  ];
  return days.filter((d): d is number => d !== undefined).map(isoDate);
}

describe("NYSE holidays and early closes", () => {
  it("the table equals the exchange's rules, plus the one proclaimed closing (2025-01-09)", () => {
    const derived: string[] = [];
    for (let y = US_EQUITY_CALENDAR_YEARS.first; y <= US_EQUITY_CALENDAR_YEARS.last; y++)
      derived.push(...ruleHolidays(y));
    expect([...NYSE_HOLIDAYS].sort()).toEqual([...derived, "2025-01-09"].sort());
  });

  it("early closes: the day after Thanksgiving, and July 3 / Dec 24 when they are plain weekdays", () => {
    const derived: string[] = [];
    for (let y = US_EQUITY_CALENDAR_YEARS.first; y <= US_EQUITY_CALENDAR_YEARS.last; y++) {
      derived.push(isoDate(nthWeekday(y, 11, 4, 4) + 1));
      for (const [m, d] of [
        [7, 3],
        [12, 24],
      ] as const) {
        const day = dayOf(y, m, d);
        const wd = weekdayOf(day);
        if (wd === 0 || wd === 6 || NYSE_HOLIDAYS.includes(isoDate(day))) continue;
        derived.push(isoDate(day));
      }
    }
    expect([...NYSE_EARLY_CLOSES].sort()).toEqual(derived.sort());
  });
});

describe("zone arithmetic", () => {
  it("finds the instant of a New York wall time on either side of DST", () => {
    expect(iso(utcOf("America/New_York", 2026, 3, 6, 9, 30))).toBe("2026-03-06T14:30:00.000Z");
    expect(iso(utcOf("America/New_York", 2026, 3, 9, 9, 30))).toBe("2026-03-09T13:30:00.000Z");
    expect(iso(utcOf("America/New_York", 2026, 10, 30, 16, 0))).toBe("2026-10-30T20:00:00.000Z");
    expect(iso(utcOf("America/New_York", 2026, 11, 2, 16, 0))).toBe("2026-11-02T21:00:00.000Z");
  });

  it("utcOf and localTime are inverse for any instant of 2020–2027", () => {
    fc.assert(
      fc.property(fc.integer({ min: at("2020-01-01T00:00:00Z"), max: at("2027-12-31T00:00:00Z") }), (ms) => {
        const whole = Math.floor(ms / 1000) * 1000;
        const t = localTime("America/New_York", whole);
        const back = utcOf("America/New_York", t.year, t.month, t.day, t.hour, t.minute, t.second);
        // The fall-back hour exists twice: either instant shows the same wall time.
        expect(localTime("America/New_York", back)).toEqual(t);
      }),
      { numRuns: 500 },
    );
  });
});

describe("sessions", () => {
  it("regular 09:30–16:00 New York, extended 04:00–20:00, 13:00 early close", () => {
    const tue = usEquities.session(dayOf(2026, 11, 17), true)!;
    expect([iso(tue.open), iso(tue.close), tue.date]).toEqual([
      "2026-11-17T14:30:00.000Z",
      "2026-11-17T21:00:00.000Z",
      "20261117",
    ]);
    const ext = usEquities.session(dayOf(2026, 11, 17), false)!;
    expect([iso(ext.open), iso(ext.close)]).toEqual(["2026-11-17T09:00:00.000Z", "2026-11-18T01:00:00.000Z"]);
    const early = usEquities.session(dayOf(2026, 11, 27), true)!;
    expect([iso(early.close), early.early]).toEqual(["2026-11-27T18:00:00.000Z", true]);
    expect(usEquities.session(dayOf(2026, 11, 26), true)).toBeUndefined(); // Thanksgiving
    expect(usEquities.session(dayOf(2026, 12, 6), true)).toBeUndefined(); // Sunday
  });

  it("the local day of an instant is New York's date, not UTC's", () => {
    // 2026-11-18 01:30 UTC is still the 17th in New York.
    expect(isoDate(usEquities.dayAt(at("2026-11-18T01:30:00Z")))).toBe("2026-11-17");
    expect(isoDate(usEquities.dayAt(at("2026-11-18T05:00:00Z")))).toBe("2026-11-18");
    expect(isoDate(weekdaysUtc.dayAt(at("2026-11-18T01:30:00Z")))).toBe("2026-11-18");
  });
});

describe("how IB counts a duration", () => {
  it("1 D asked on a Sunday is the Friday before", () => {
    const w = win("2026-12-06T15:00:00Z", "1 D");
    expect(dates(w.sessions)).toEqual(["20261204"]);
    expect([iso(w.start), iso(w.end)]).toEqual(["2026-12-04T14:30:00.000Z", "2026-12-04T21:00:00.000Z"]);
  });

  it("1 D on a holiday Monday is the Friday before", () => {
    expect(dates(win("2027-01-18T17:00:00Z", "1 D").sessions)).toEqual(["20270115"]);
  });

  it("2 D on a Monday at 11:00 New York is Friday and Monday's session so far", () => {
    const w = win("2026-12-07T16:00:00Z", "2 D");
    expect(dates(w.sessions)).toEqual(["20261204", "20261207"]);
    expect(iso(w.end)).toBe("2026-12-07T16:00:00.000Z");
  });

  it("1 W is five sessions, holidays skipped", () => {
    expect(dates(win("2026-11-30T22:00:00Z", "1 W").sessions)).toEqual([
      "20261123",
      "20261124",
      "20261125",
      "20261127",
      "20261130",
    ]);
  });

  it("an end before the open moves back to the last close; useRTH=0 counts extended sessions", () => {
    const w = win("2026-11-17T13:00:00Z", "1 D"); // 08:00 New York
    expect(dates(w.sessions)).toEqual(["20261116"]);
    expect(iso(w.end)).toBe("2026-11-16T21:00:00.000Z");
    const x = win("2026-11-17T13:00:00Z", "1 D", false);
    expect(dates(x.sessions)).toEqual(["20261117"]);
    expect(iso(x.start)).toBe("2026-11-17T09:00:00.000Z");
  });

  it("S, M and Y are calendar time", () => {
    const s = win("2026-11-17T16:00:00Z", "3600 S");
    expect(iso(s.start)).toBe("2026-11-17T15:00:00.000Z");
    const m = win("2026-11-17T16:00:00Z", "1 M");
    expect(iso(m.start)).toBe("2026-10-17T16:00:00.000Z");
    expect(m.sessions.length).toBe(22);
    const y = win("2026-11-17T16:00:00Z", "1 Y");
    expect(iso(y.start)).toBe("2025-11-17T16:00:00.000Z");
  });

  it("other instruments: every weekday is a whole UTC day, no holidays", () => {
    const w = historyWindow(weekdaysUtc, at("2026-11-26T12:00:00Z"), parseDuration("2 D")!, true);
    expect(dates(w.sessions)).toEqual(["20261125", "20261126"]);
    expect(iso(w.start)).toBe("2026-11-25T00:00:00.000Z");
  });

  it("a window never ends after its end and holds only sessions that overlap it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at("2020-02-01T00:00:00Z"), max: at("2027-12-31T00:00:00Z") }),
        fc.constantFrom("1 D", "2 D", "1 W", "3600 S", "1 M"),
        fc.boolean(),
        (end, duration, rth) => {
          const w = historyWindow(usEquities, end, parseDuration(duration)!, rth);
          expect(w.end).toBeLessThanOrEqual(end);
          expect(w.sessions.length).toBeGreaterThan(0);
          for (const s of w.sessions) {
            expect(s.open).toBeLessThan(w.end);
            expect(s.close).toBeGreaterThan(w.start);
            expect(NYSE_HOLIDAYS).not.toContain(isoDate(s.day));
          }
          // The end is inside a session or exactly at a close.
          const last = w.sessions[w.sessions.length - 1]!;
          expect(w.end > last.open && w.end <= last.close).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
