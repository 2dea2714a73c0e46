/**
 * The daemon's TWS-protocol proxy: one ProxyServer on the primary line's switch, bound to the
 * daemon's host and --proxy-port, guarded by the same --allow list as the HTTP API. Its
 * downstream events join the daemon's event log; its downstreams are tenants of the switch,
 * so `status` and /api/ib/pool/status list them with the other tenants.
 */
import type { Clock } from "../clock.js";
import type { DaemonConfig } from "../config/index.js";
import type { BaseEvent } from "../events.js";
import type { Logger } from "../logger.js";
import type { Pacer } from "../pacing/scheduler.js";
import { ProxyServer } from "../proxy/proxy-server.js";
import type { Switch } from "../switch/switch.js";

export interface DaemonProxyDeps {
  config: Pick<DaemonConfig, "host" | "proxyPort" | "allow"> & { strictClientIds?: boolean };
  sw: Switch;
  pacer: Pacer;
  clock: Clock;
  logger: Logger;
  push(e: BaseEvent): void;
}

export async function startDaemonProxy(d: DaemonProxyDeps): Promise<ProxyServer> {
  const proxy = new ProxyServer(d.sw, {
    host: d.config.host,
    port: d.config.proxyPort,
    allow: d.config.allow,
    strictClientIds: d.config.strictClientIds ?? false,
    pacer: d.pacer,
    clock: d.clock,
    logger: d.logger,
  });
  proxy.events.on("downstream.open", d.push);
  proxy.events.on("downstream.close", d.push);
  proxy.events.on("downstream.refused", d.push);
  await proxy.start();
  return proxy;
}
