/** Pacing: IB's rules as data, the shared violation checker, the fair scheduler, error classes. */
export * from "./checker.js";
export * from "./classify.js";
export * from "./errors.js";
export * from "./gateway-budget.js";
export * from "./memory.js";
export type { PacerEvent } from "./pacer-events.js";
export * from "./request.js";
export * from "./rules.js";
export * from "./rules-file.js";
export * from "./scheduler.js";
export * from "./stats.js";
