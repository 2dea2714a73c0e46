export { AllowList, isLoopbackHost, parseCidr } from "../access/allow-list.js";
export * from "./options.js";
export type {
  DownstreamSnapshot,
  DownstreamState,
  ProxyCounters,
  ProxyEvent,
  ProxySnapshot,
  ProxyState,
} from "./proxy-events.js";
export { ProxyServer, type ProxyStartInfo } from "./proxy-server.js";
