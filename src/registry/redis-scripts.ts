/**
 * Lua scripts of the Redis store. Each runs atomically inside Redis, so no two clients on any
 * host can take the same id. Layout per upstream, under `<prefix><upstream>:`:
 *   lease:<id>  the lease JSON, with PX = its TTL, so a crashed host's leases vanish by themselves
 *   index       hash id -> lease JSON, to notice (and report) leases whose key has expired
 *   cool        hash id -> until (ms), ids on cool-down after error 326
 * and `<prefix>upstreams`, the set of upstream names seen. Scripts build key names from the
 * prefix, so this store targets a single Redis (not Redis Cluster).
 */

/** Remove index entries whose lease key expired; returns their JSON. Shared prelude. */
const SWEEP = `
local function sweep(base)
  local expired = {}
  local idx = redis.call('HGETALL', base .. 'index')
  for i = 1, #idx, 2 do
    if redis.call('EXISTS', base .. 'lease:' .. idx[i]) == 0 then
      table.insert(expired, idx[i + 1])
      redis.call('HDEL', base .. 'index', idx[i])
    end
  end
  return expired
end
local function cooling(base, now)
  local out = {}
  local cool = redis.call('HGETALL', base .. 'cool')
  for i = 1, #cool, 2 do
    if tonumber(cool[i + 1]) > now then out[cool[i]] = tonumber(cool[i + 1])
    else redis.call('HDEL', base .. 'cool', cool[i]) end
  end
  return out
end
`;

/** ARGV: base, upstreamsKey, upstream, now, ttlMs, leaseJson, candidate ids… → {leaseJson|'', expired[]} */
export const ACQUIRE = `${SWEEP}
local base, now, ttl = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('SADD', ARGV[2], ARGV[3])
local expired = sweep(base)
local cool = cooling(base, now)
local lease = cjson.decode(ARGV[6])
for i = 7, #ARGV do
  local id = ARGV[i]
  if cool[id] == nil and redis.call('EXISTS', base .. 'lease:' .. id) == 0 then
    lease['clientId'] = tonumber(id)
    local json = cjson.encode(lease)
    redis.call('SET', base .. 'lease:' .. id, json, 'PX', ttl)
    redis.call('HSET', base .. 'index', id, json)
    return {json, expired}
  end
end
return {'', expired}
`;

/** Shared checks of renew and release. ARGV: base, id, token, force('1'|'0') → status, json */
const CHECK = `
local base, id = ARGV[1], ARGV[2]
local key = base .. 'lease:' .. id
local json = redis.call('GET', key)
if not json then
  local old = redis.call('HGET', base .. 'index', id)
  if old then
    redis.call('HDEL', base .. 'index', id)
    return {'expired', old}
  end
  return {'not_found', ''}
end
local lease = cjson.decode(json)
if ARGV[4] ~= '1' and lease['token'] ~= ARGV[3] then return {'bad_token', json} end
`;

/** ARGV: base, id, token, '0', now, ttlMs */
export const RENEW = `${CHECK}
local now, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
lease['expiresAt'] = now + ttl
json = cjson.encode(lease)
redis.call('SET', key, json, 'PX', ttl)
redis.call('HSET', base .. 'index', id, json)
return {'ok', json}
`;

/** ARGV: base, id, token, force */
export const RELEASE = `${CHECK}
redis.call('DEL', key)
redis.call('HDEL', base .. 'index', id)
return {'ok', json}
`;

/** ARGV: base, upstreamsKey, upstream, id, until → until (a longer existing cool-down wins) */
export const REJECT = `
local base, id, untilMs = ARGV[1], ARGV[4], tonumber(ARGV[5])
redis.call('SADD', ARGV[2], ARGV[3])
local prior = tonumber(redis.call('HGET', base .. 'cool', id) or '0')
if prior > untilMs then untilMs = prior end
redis.call('HSET', base .. 'cool', id, string.format('%d', untilMs))
return string.format('%d', untilMs)
`;

/** ARGV: prefix, upstreamsKey, now → {leases[], cools[] as upstream,id,until triples, expired[]} */
export const LIST = `${SWEEP}
local prefix, now = ARGV[1], tonumber(ARGV[3])
local leases, cools, expired = {}, {}, {}
for _, up in ipairs(redis.call('SMEMBERS', ARGV[2])) do
  local base = prefix .. up .. ':'
  for _, e in ipairs(sweep(base)) do table.insert(expired, e) end
  local idx = redis.call('HKEYS', base .. 'index')
  for _, id in ipairs(idx) do
    local json = redis.call('GET', base .. 'lease:' .. id)
    if json then table.insert(leases, json) end
  end
  for id, untilMs in pairs(cooling(base, now)) do
    table.insert(cools, up)
    table.insert(cools, id)
    table.insert(cools, string.format('%d', untilMs))
  end
end
return {leases, cools, expired}
`;
