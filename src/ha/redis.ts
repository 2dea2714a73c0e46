/**
 * The HA group's connection to Redis. Commands fail at once while Redis is unreachable (no
 * offline queue): an order must get 201 then, not wait; the connection itself keeps trying to
 * come back (capped backoff), since the group's state lives there.
 */
import type { Redis } from "ioredis";

export const DEFAULT_HA_COMMAND_TIMEOUT_MS = 2_000;

export async function connectHaRedis(
  url: string,
  o: { commandTimeoutMs?: number; connectTimeoutMs?: number } = {},
): Promise<Redis> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: o.connectTimeoutMs ?? 3_000,
    commandTimeout: o.commandTimeoutMs ?? DEFAULT_HA_COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(50 * times, 500),
  });
  // Failures surface through the failing command; an unhandled 'error' event would crash the process.
  redis.on("error", () => undefined);
  await redis.connect();
  return redis;
}
