import { describe, expect, it } from "vitest";
import { attemptAfterLoss, exponentialBackoff } from "./backoff.js";

describe("exponentialBackoff", () => {
  const backoff = exponentialBackoff({ initialMs: 250, maxMs: 30_000 });

  it.each([
    // attempt, random, expected ms
    [1, 0, 0],
    [1, 0.5, 125],
    [1, 0.999_999, 250],
    [2, 1, 500],
    [3, 1, 1_000],
    [4, 0.5, 1_000],
    [5, 1, 4_000],
    [7, 1, 16_000],
    [8, 1, 30_000],
    [8, 0.5, 15_000],
    [9, 1, 30_000],
    [60, 1, 30_000],
    [2_000, 0.25, 7_500],
  ])("attempt %i with random %f waits %i ms", (attempt, random, expected) => {
    expect(backoff(attempt, random)).toBe(expected);
  });

  it("clamps random draws outside [0, 1]", () => {
    expect(backoff(1, -1)).toBe(0);
    expect(backoff(1, 2)).toBe(250);
  });

  it("gives up after maxAttempts", () => {
    const limited = exponentialBackoff({ initialMs: 100, maxMs: 1_000, maxAttempts: 3 });
    expect(limited(3, 1)).toBe(400);
    expect(limited(4, 1)).toBeNull();
  });
});

describe("attemptAfterLoss", () => {
  it.each([
    [5, 60_000, 60_000, 0],
    [5, 120_000, 60_000, 0],
    [5, 59_999, 60_000, 5],
    [0, 0, 60_000, 0],
  ])("attempt %i after %i ms ready (stable %i) → %i", (attempt, readyFor, stable, expected) => {
    expect(attemptAfterLoss(attempt, readyFor, stable)).toBe(expected);
  });
});
