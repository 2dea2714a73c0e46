/**
 * Running a Lua script in Redis, and naming a Redis URL without its password: shared by the
 * lease store and the HA group. Only ioredis's type is imported, so a process that never uses
 * Redis never loads it.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

export type Reply = string | number | null | Reply[];

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

/** The URL with its password masked, for logs and messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "redis";
  }
}
