export * from "./clock.js";
export * from "./errors.js";
export * from "./events.js";
export * as protocol from "./protocol/index.js";
