/**
 * An HA group keeps its orders, identity and fencing counter in Redis, so Redis must not lose
 * a write it acknowledged: `appendonly yes` and `appendfsync always` (each write on disk before
 * its reply). Checked with CONFIG GET at start; anything else is a start error (exit 2).
 */
import type { Redis } from "ioredis";
import { RedisPersistenceError } from "./errors.js";

/** What the check needs of Redis's configuration. */
export interface RedisPersistenceConfig {
  readonly appendonly: string | undefined;
  readonly appendfsync: string | undefined;
}

/** Pure rule: why this configuration is not safe for an HA group, or undefined when it is. */
export function persistenceProblem(c: RedisPersistenceConfig): string | undefined {
  const problems: string[] = [];
  if (c.appendonly !== "yes") problems.push(`appendonly is "${c.appendonly ?? "unknown"}", needs "yes"`);
  if (c.appendfsync !== "always")
    problems.push(`appendfsync is "${c.appendfsync ?? "unknown"}", needs "always"`);
  if (problems.length === 0) return undefined;
  return (
    `the Redis of an HA group must persist every write before answering (${problems.join("; ")}): ` +
    "set `appendonly yes` and `appendfsync always` in redis.conf (or CONFIG SET them and CONFIG REWRITE)"
  );
}

/** CONFIG GET both settings; throws RedisPersistenceError when they are not safe or cannot be read. */
export async function checkRedisPersistence(redis: Redis, where: string): Promise<void> {
  let c: RedisPersistenceConfig;
  try {
    const [aof, fsync] = await Promise.all([
      redis.config("GET", "appendonly") as Promise<string[]>,
      redis.config("GET", "appendfsync") as Promise<string[]>,
    ]);
    c = { appendonly: aof[1], appendfsync: fsync[1] };
  } catch (err) {
    throw new RedisPersistenceError(
      `cannot read the persistence settings of the Redis at ${where} with CONFIG GET ` +
        `(${(err as Error).message}): an HA group needs \`appendonly yes\` and \`appendfsync always\`, ` +
        "and CONFIG GET allowed to check them",
      err,
    );
  }
  const problem = persistenceProblem(c);
  if (problem !== undefined) throw new RedisPersistenceError(`${problem} (Redis at ${where})`);
}
