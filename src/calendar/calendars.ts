/** The calendars the mock knows: US stocks (NYSE hours and holidays) and plain weekdays. */
import { type CalendarSpec, ExchangeCalendar } from "./sessions.js";
import { NYSE_EARLY_CLOSES, NYSE_HOLIDAYS } from "./us-equities.js";

const h = (hh: number, mm = 0) => hh * 60 + mm;

/** 09:30–16:00 New York (useRTH=0: 04:00–20:00); early closes at 13:00 (late session 17:00). */
export const US_EQUITIES: CalendarSpec = {
  name: "us-equities",
  zone: "America/New_York",
  // What TWS writes after a bar time (formatDate=1) for US stocks.
  zoneLabel: "US/Eastern",
  regular: { open: h(9, 30), close: h(16) },
  extended: { open: h(4), close: h(20) },
  earlyRegular: { open: h(9, 30), close: h(13) },
  earlyExtended: { open: h(4), close: h(17) },
  holidays: new Set(NYSE_HOLIDAYS),
  earlyCloses: new Set(NYSE_EARLY_CLOSES),
};

/** Every other instrument of the mock: each weekday a whole UTC day, no holidays. */
export const WEEKDAYS_UTC: CalendarSpec = {
  name: "weekdays",
  zone: "UTC",
  zoneLabel: "UTC",
  regular: { open: 0, close: h(24) },
  extended: { open: 0, close: h(24) },
  holidays: new Set(),
  earlyCloses: new Set(),
};

export const usEquities = new ExchangeCalendar(US_EQUITIES);
export const weekdaysUtc = new ExchangeCalendar(WEEKDAYS_UTC);

/** US stocks (and ETFs) follow NYSE; everything else trades every weekday. */
export function calendarFor(contract: { secType: string; currency: string }): ExchangeCalendar {
  return contract.secType === "STK" && contract.currency === "USD" ? usEquities : weekdaysUtc;
}
