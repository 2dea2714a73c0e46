/**
 * ib-switchboard: one managed line to IB TWS / Gateway that every app can share.
 * The main entry points are exported by name; each part is also available as a namespace.
 */

export * as client from "./client/index.js";
export { type Bar, type CallOptions, type HistoryRequest, IbClient, type Quote } from "./client/index.js";
export * from "./clock.js";
export * as doctor from "./doctor/index.js";
export * from "./errors.js";
export * from "./events.js";
export * as line from "./line/index.js";
export { Line, type LineEvent, type LineOptions, type LineSnapshot, type LineState } from "./line/index.js";
export { createLogger, type Logger, silentLogger } from "./logger.js";
export * as pacing from "./pacing/index.js";
export { Pacer, type PacingRules, resolveRules } from "./pacing/index.js";
export { Switchboard, type SwitchboardOptions } from "./pool/index.js";
export * as protocol from "./protocol/index.js";
export * as proxy from "./proxy/index.js";
export { type ProxyOptions, ProxyServer, type ProxySnapshot } from "./proxy/index.js";
export * as registry from "./registry/index.js";
export { Registry, type RegistryOptions } from "./registry/index.js";
export * as switchboard from "./switch/index.js";
export { Switch, Tenant } from "./switch/index.js";
