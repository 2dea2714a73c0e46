/** Daemon configuration: one schema for file, env and flags. */
export { isLoopbackHost, parseCidr } from "../access/allow-list.js";
export { ConfigError, type ConfigSources, type DaemonConfig, type LineConfig, loadConfig } from "./load.js";
export * from "./schema.js";
