export { type Bar, barTime, toBar } from "./bars.js";
export * from "./client.js";
export * from "./options.js";
export type { Quote } from "./quote.js";
