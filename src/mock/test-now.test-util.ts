/**
 * The instants tests pin the mock's calendar to, so no test depends on the machine's clock.
 * TEST_NOW is a plain Tuesday in the middle of the New York session.
 */

/** Tuesday 2026-11-17 11:00 New York (EST). */
export const TEST_NOW = "2026-11-17T16:00:00Z";
