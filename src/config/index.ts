/** Daemon configuration: one schema for file, env and flags. */
export {
  ConfigError,
  type ConfigSources,
  type DaemonConfig,
  isLoopbackHost,
  type LineConfig,
  loadConfig,
} from "./load.js";
export * from "./schema.js";
