import { describe, expect, it } from "vitest";
import { classifyIbError, parseIbDateTimeMs, parseIbDurationMs, retryDelayMs } from "./classify.js";

const HMDS = "Historical Market Data Service error message:";

describe("classifyIbError", () => {
  const table: [number, string, string, boolean, boolean][] = [
    // code, text, class, retryable, terminal
    [100, "Max rate of messages per second has been exceeded", "pacing", true, false],
    [101, "Max number of tickers has been reached", "pacing", true, true],
    [309, "Max number (3) of market depth requests has been reached", "pacing", true, true],
    [162, `${HMDS}Historical data request pacing violation`, "pacing", true, true],
    [162, `${HMDS}HMDS query returned no data: AAPL@SMART Trades`, "no_data", false, true],
    [162, `${HMDS}API historical data query cancelled: 1234`, "cancelled", false, true],
    [162, `${HMDS}No market data permissions for NYSE STK`, "no_permission", false, true],
    [162, `${HMDS}Trading TWS session is connected from a different IP address`, "other", true, true],
    [162, `${HMDS}Time length exceed max.`, "invalid_request", false, true],
    [162, `${HMDS}something new`, "other", true, true],
    [
      165,
      "Historical Market Data Service query message:HMDS server connection was successful",
      "other",
      false,
      false,
    ],
    [166, "HMDS Expired Contract Violation", "invalid_request", false, true],
    [200, "No security definition has been found for the request", "invalid_request", false, true],
    [320, "Server error when reading an API client request", "invalid_request", false, true],
    [321, "Error validating request", "invalid_request", false, true],
    [
      322,
      "Error processing request:Maximum number of account summary requests exceeded",
      "pacing",
      true,
      true,
    ],
    [322, "Error processing request:Duplicate ticker id", "invalid_request", false, true],
    [354, "Requested market data is not subscribed", "no_permission", false, true],
    [366, "No historical data query found for ticker id:7", "cancelled", false, false],
    [420, "Invalid Real-time Query:Historical data request pacing violation", "pacing", true, true],
    [
      420,
      "Invalid Real-time Query:Trading TWS session is connected from a different IP address",
      "other",
      true,
      true,
    ],
    [420, "Invalid Real-time Query:No market data permissions", "invalid_request", false, true],
    [10089, "Requested market data requires additional subscription for API", "no_permission", false, true],
    [10090, "Part of requested market data is not subscribed", "no_permission", false, false],
    [
      10167,
      "Requested market data is not subscribed. Displaying delayed market data.",
      "no_permission",
      false,
      false,
    ],
    [
      10168,
      "Requested market data is not subscribed. Delayed market data is not enabled.",
      "no_permission",
      false,
      true,
    ],
    [10197, "No market data during competing live session", "other", true, true],
    [2104, "Market data farm connection is OK:usfarm", "other", false, false],
    [10190, "Max number of tick-by-tick requests has been reached.", "pacing", true, true],
    [504, "Not connected", "other", false, true],
  ];
  it.each(table)("%i %s → %s", (code, text, cls, retryable, terminal) => {
    const r = classifyIbError(code, text);
    expect(r.class).toBe(cls);
    expect(r.retryable).toBe(retryable);
    expect(r.terminal).toBe(terminal);
    expect(r.violation).toBe(cls === "pacing");
    if (retryable) expect(r.backoffMs).toBeGreaterThan(0);
  });

  it("uses the head timestamp to tell 'no data before this date' from pacing", () => {
    const head = Date.UTC(2010, 0, 4);
    const pacing = `${HMDS}Historical data request pacing violation`;
    const before = classifyIbError(162, pacing, {
      requestEndMs: Date.UTC(2009, 5, 1),
      headTimestampMs: head,
    });
    expect(before).toMatchObject({ class: "no_data", reason: "before_head_timestamp", retryable: false });
    const after = classifyIbError(162, pacing, { requestEndMs: Date.UTC(2011, 5, 1), headTimestampMs: head });
    expect(after.class).toBe("pacing");
    // A cancel confirmation stays a cancel even before the head.
    const cancel = classifyIbError(162, `${HMDS}API historical data query cancelled: 1`, {
      requestEndMs: 0,
      headTimestampMs: head,
    });
    expect(cancel.class).toBe("cancelled");
  });
});

describe("retry helpers", () => {
  it("backs off exponentially with jitter, scaled, capped, and only for retryable errors", () => {
    const pacing = classifyIbError(162, `${HMDS}Historical data request pacing violation`);
    expect(retryDelayMs(pacing, 0, { random: () => 0 })).toBe(7_500);
    expect(retryDelayMs(pacing, 1, { random: () => 1 })).toBe(30_000);
    expect(retryDelayMs(pacing, 0, { random: () => 1, timeScale: 10 })).toBe(1_500);
    expect(retryDelayMs(pacing, 9, { random: () => 1, maxAttempts: 20 })).toBe(120_000);
    expect(retryDelayMs(pacing, 5, { random: () => 1 })).toBeUndefined();
    expect(retryDelayMs(classifyIbError(200, ""), 0, { random: () => 1 })).toBeUndefined();
  });

  it("parses IB durations and dates", () => {
    expect(parseIbDurationMs("30 S")).toBe(30_000);
    expect(parseIbDurationMs("2 W")).toBe(14 * 86_400_000);
    expect(parseIbDurationMs("1 fortnight")).toBeUndefined();
    expect(parseIbDateTimeMs("20240102-14:30:00")).toBe(Date.UTC(2024, 0, 2, 14, 30));
    expect(parseIbDateTimeMs("20240102 09:30:00 US/Eastern")).toBe(Date.UTC(2024, 0, 2, 9, 30));
    expect(parseIbDateTimeMs("20240102")).toBe(Date.UTC(2024, 0, 2));
    expect(parseIbDateTimeMs("1704205800")).toBe(1_704_205_800_000);
    expect(parseIbDateTimeMs("")).toBeUndefined();
  });
});
