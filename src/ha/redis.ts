/**
 * The HA group's connection to Redis. Commands fail at once while Redis is unreachable (no
 * offline queue): an order must get 201 then, not wait; the connection itself keeps trying to
 * come back (capped backoff), since the group's state lives there.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

export const DEFAULT_HA_COMMAND_TIMEOUT_MS = 2_000;

export type Reply = string | number | null | Reply[];

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

const shas = new Map<string, string>();

/** EVALSHA, loading the script on first use or after a Redis restart (NOSCRIPT). */
export async function runScript(redis: Redis, script: string, args: readonly string[]): Promise<Reply> {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash("sha1").update(script).digest("hex");
    shas.set(script, sha);
  }
  try {
    return (await redis.evalsha(sha, 0, ...args)) as Reply;
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
    return (await redis.eval(script, 0, ...args)) as Reply;
  }
}

export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "redis";
  }
}
