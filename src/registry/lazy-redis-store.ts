/**
 * The Redis store, loaded on first use: ioredis is a large module, and a daemon or CLI that
 * never touches Redis (the default file store) should not pay for loading it at start.
 */
import { redactRedisUrl } from "./redis-eval.js";
import type { RedisLeaseStoreOptions } from "./redis-store.js";
import type { LeaseStore } from "./store.js";

export function lazyRedisLeaseStore(options: RedisLeaseStoreOptions): LeaseStore {
  let store: Promise<LeaseStore> | undefined;
  const get = () => {
    store ??= import("./redis-store.js").then((m) => new m.RedisLeaseStore(options));
    return store;
  };
  return {
    kind: "redis",
    location: redactRedisUrl(options.url),
    acquire: async (req) => (await get()).acquire(req),
    renew: async (req) => (await get()).renew(req),
    release: async (req) => (await get()).release(req),
    reject: async (req) => (await get()).reject(req),
    list: async (now) => (await get()).list(now),
    async close() {
      if (store) await (await store).close();
    },
  };
}
