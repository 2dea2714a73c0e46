export * from "./calendars.js";
export * from "./durations.js";
export * from "./instant.js";
export * from "./sessions.js";
export * from "./us-equities.js";
export * from "./zone.js";
