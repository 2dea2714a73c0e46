/** Backfill planning: the step table's chunks, sessions only, newest first, head and coverage. */
import { describe, expect, it } from "vitest";
import { usEquities, weekdaysUtc } from "../calendar/calendars.js";
import { isCovered, planChunks } from "./plan.js";

const NOW = Date.parse("2026-11-17T16:00:00Z");
const base = { calendar: usEquities, rth: true, now: NOW, covered: [] };
const iso = (ms: number) => new Date(ms).toISOString();

describe("planChunks", () => {
  it("1 min: one 1 D request per session, newest first, no weekend or holiday (Thanksgiving 2026)", () => {
    const chunks = planChunks({
      ...base,
      barSize: "1 min",
      from: "2026-11-23",
      to: "2026-11-27",
      now: Date.parse("2026-12-01T00:00:00Z"),
    });
    expect(chunks.map((c) => c.duration)).toEqual(["1 D", "1 D", "1 D", "1 D"]);
    expect(chunks.map((c) => iso(c.span.start).slice(0, 10))).toEqual([
      "2026-11-27",
      "2026-11-25",
      "2026-11-24",
      "2026-11-23",
    ]);
    // The day after Thanksgiving closes at 13:00 New York.
    expect(iso(chunks[0]!.endMs)).toBe("2026-11-27T18:00:00.000Z");
    expect(chunks[1]!.span).toEqual({
      start: Date.parse("2026-11-25T14:30:00Z"),
      end: Date.parse("2026-11-25T21:00:00Z"),
    });
  });

  it("5 mins: the step table's 1 W, five sessions a request", () => {
    const chunks = planChunks({ ...base, barSize: "5 mins", from: "2026-10-01", to: "2026-10-31" });
    expect(chunks.map((c) => c.duration)).toEqual(["5 D", "5 D", "5 D", "5 D", "2 D"]);
    expect(chunks[0]!.endMs).toBe(Date.parse("2026-10-30T20:00:00Z"));
  });

  it("30 secs: 28800 S slices back from each close (extended hours: 16 h a session)", () => {
    const chunks = planChunks({
      ...base,
      rth: false,
      barSize: "30 secs",
      from: "2026-11-16",
      to: "2026-11-16",
    });
    expect(chunks.map((c) => c.duration)).toEqual(["28800 S", "28800 S"]);
    expect(chunks[0]!.span.end).toBe(Date.parse("2026-11-17T01:00:00Z"));
    expect(chunks[1]!.span.start).toBe(Date.parse("2026-11-16T09:00:00Z"));
  });

  it("skips recorded spans and everything before the head timestamp; a session in progress waits", () => {
    const all = planChunks({ ...base, barSize: "1 min", from: "2026-11-09", to: "2026-11-17" });
    // 2026-11-17 is in progress at NOW: not planned.
    expect(all).toHaveLength(6);
    const covered = [all[1]!.span, all[3]!.span];
    const rest = planChunks({ ...base, barSize: "1 min", from: "2026-11-09", to: "2026-11-17", covered });
    expect(rest.map((c) => c.span)).toEqual([all[0], all[2], all[4], all[5]].map((c) => c!.span));
    const head = Date.parse("2026-11-12T15:00:00Z");
    const afterHead = planChunks({ ...base, barSize: "1 min", from: "2026-11-09", to: "2026-11-17", head });
    expect(afterHead.map((c) => iso(c.span.start).slice(0, 10))).toEqual([
      "2026-11-16",
      "2026-11-13",
      "2026-11-12",
    ]);
  });

  it("other instruments: every weekday a whole UTC day", () => {
    const chunks = planChunks({
      ...base,
      calendar: weekdaysUtc,
      barSize: "1 hour",
      from: "2026-11-02",
      to: "2026-11-15",
    });
    expect(chunks.map((c) => c.duration)).toEqual(["10 D"]);
    expect(chunks[0]!.span).toEqual({
      start: Date.parse("2026-11-02T00:00:00Z"),
      end: Date.parse("2026-11-14T00:00:00Z"),
    });
  });

  it("refuses an unknown bar size and a reversed range", () => {
    expect(() => planChunks({ ...base, barSize: "7 mins", from: "2026-11-02", to: "2026-11-03" })).toThrow(
      /bar size/,
    );
    expect(() => planChunks({ ...base, barSize: "1 min", from: "2026-11-03", to: "2026-11-02" })).toThrow(
      /after/,
    );
  });
});

describe("isCovered", () => {
  it("needs the union of spans to hold the whole span", () => {
    expect(
      isCovered({ start: 0, end: 10 }, [
        { start: 0, end: 4 },
        { start: 4, end: 10 },
      ]),
    ).toBe(true);
    expect(
      isCovered({ start: 0, end: 10 }, [
        { start: 0, end: 4 },
        { start: 5, end: 10 },
      ]),
    ).toBe(false);
    expect(isCovered({ start: 0, end: 10 }, [])).toBe(false);
  });
});
