/**
 * Lua scripts of an HA group (keys in keys.ts). Each runs atomically inside Redis; together
 * they implement lease-rule.ts. Key names come in ARGV (built from the prefix), so a group
 * targets one Redis, not Redis Cluster.
 */

/**
 * The group's line client-id leases (registry keys `<idsPrefix><line>:lease:<id>`, owner =
 * the group) are kept alive with the HA lease and, on a grant, pass to the new holder (their
 * token becomes the holder's secret) in the same atomic step. Nobody else can take them while
 * the group lives: their key never lapses while some daemon of the group holds or renews the
 * HA lease.
 */
const LINE_LEASES = `
local function lineLeases(idsPrefix, owner, now, ttl, secret, first)
  for i = first, #ARGV do
    local base = idsPrefix .. ARGV[i] .. ':'
    local idx = redis.call('HGETALL', base .. 'index')
    for j = 1, #idx, 2 do
      local key = base .. 'lease:' .. idx[j]
      local json = redis.call('GET', key)
      if json then
        local l = cjson.decode(json)
        if l['owner'] == owner then
          if secret then l['token'] = secret end
          l['expiresAt'] = now + ttl
          json = cjson.encode(l)
          redis.call('SET', key, json, 'PX', ttl)
          redis.call('HSET', base .. 'index', idx[j], json)
        end
      end
    end
  end
end
`;

/**
 * Grant (expected token '') or renew (expected token = the holder's) the HA lease.
 * ARGV: leaseKey, fenceKey, holder, expectedToken, leaseMs, holderJson, idsPrefix,
 *       groupOwner, now (ms since epoch, for the line leases' expiresAt), lineLeaseTtlMs,
 *       holderSecret, configKey, configHash, line names…
 * → {status, token, currentLeaseJson}; status granted | renewed | held | lost | mismatch
 * (mismatch: the lease is held by a daemon of this group whose lines differ from ours). A
 * grant records our config hash: the group's lines are those of its active daemon.
 */
export const GRANT_OR_RENEW = `${LINE_LEASES}
local leaseKey, fenceKey, holder, expected = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local leaseMs, now, lineTtl = tonumber(ARGV[5]), tonumber(ARGV[9]), tonumber(ARGV[10])
local cur = redis.call('GET', leaseKey)
if expected ~= '' then
  if not cur then return {'lost', '0', ''} end
  local l = cjson.decode(cur)
  if l['holder'] ~= holder or tostring(l['token']) ~= expected then return {'lost', '0', cur} end
  redis.call('PEXPIRE', leaseKey, leaseMs)
  lineLeases(ARGV[7], ARGV[8], now, lineTtl, false, 14)
  return {'renewed', expected, cur}
end
if cur then
  local prior = redis.call('GET', ARGV[12])
  if prior and prior ~= ARGV[13] then return {'mismatch', '0', cur} end
  return {'held', '0', cur}
end
local token = redis.call('INCR', fenceKey)
local l = cjson.decode(ARGV[6])
l['holder'] = holder
l['token'] = token
local json = cjson.encode(l)
redis.call('SET', leaseKey, json, 'PX', leaseMs)
redis.call('SET', ARGV[12], ARGV[13])
lineLeases(ARGV[7], ARGV[8], now, lineTtl, ARGV[11], 14)
return {'granted', tostring(token), json}
`;

/** ARGV: leaseKey, holder, token → released | not_held */
export const RELEASE = `
local cur = redis.call('GET', ARGV[1])
if not cur then return 'not_held' end
local l = cjson.decode(cur)
if l['holder'] ~= ARGV[2] or tostring(l['token']) ~= ARGV[3] then return 'not_held' end
redis.call('DEL', ARGV[1])
return 'released'
`;

/**
 * A write of the group's state, applied only while \`token\` is the current lease's token.
 * ARGV: leaseKey, token, then operations, each an opcode and its arguments:
 *   HSET key field value · HMAX key field number (raise, never lower) · HDEL key field ·
 *   SET key value · DEL key
 * → {'ok'} or {'fenced', currentLeaseJson}
 */
export const FENCED_WRITE = `
local cur = redis.call('GET', ARGV[1])
if not cur then return {'fenced', ''} end
local l = cjson.decode(cur)
if tostring(l['token']) ~= ARGV[2] then return {'fenced', cur} end
local i = 3
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'HSET' then redis.call('HSET', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]); i = i + 4
  elseif op == 'HMAX' then
    local prior = tonumber(redis.call('HGET', ARGV[i + 1], ARGV[i + 2]) or '0')
    if tonumber(ARGV[i + 3]) > prior then redis.call('HSET', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]) end
    i = i + 4
  elseif op == 'HDEL' then redis.call('HDEL', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'SET' then redis.call('SET', ARGV[i + 1], ARGV[i + 2]); i = i + 3
  elseif op == 'DEL' then redis.call('DEL', ARGV[i + 1]); i = i + 2
  else return redis.error_reply('unknown fenced op ' .. tostring(op)) end
end
return {'ok', ''}
`;

/**
 * Record the group's config hash, or compare with it. Only a daemon that could become active
 * right now (no lease held by another) may replace it: a running group keeps its lines.
 * ARGV: configKey, leaseKey, holder, hash → same | set | mismatch
 */
export const CONFIG_CHECK = `
local prior = redis.call('GET', ARGV[1])
if prior == ARGV[4] then return 'same' end
local cur = redis.call('GET', ARGV[2])
if prior and cur then
  local l = cjson.decode(cur)
  if l['holder'] ~= ARGV[3] then return 'mismatch' end
end
redis.call('SET', ARGV[1], ARGV[4])
return 'set'
`;
