-- ARGV[4] holder id, [5] worker id, [6] the fencing token of its lost lease, [7] waiter ttl ms, [8] lease ttl ms.
-- A lease whose entry Redis lost with its data asks for its slot again. It waits ahead of every other waiter (and,
-- during the grace after the reset, it alone is served), within the limit once the limit is known; each call refreshes
-- its place. Returns {1, token} when it holds the slot again (claimed: a lease of the lease ttl, a new token larger than
-- the lost one), {0, position, limit known 0/1} while it waits.
local now = now_ms()
reap(now)
local id = ARGV[4]
if tonumber(redis.call('GET', K_FENCE) or '0') < tonumber(ARGV[6]) then
  redis.call('SET', K_FENCE, ARGV[6])
end
if not redis.call('ZSCORE', K_HOLDERS, id) then
  local ttl = tonumber(ARGV[7])
  if not redis.call('ZSCORE', K_WAITERS, id) then
    local seq = redis.call('INCR', K_SEQ)
    redis.call('ZADD', K_WAITERS, int((MAX_PRIORITY - RECLAIM_PRIORITY) * 1099511627776 + seq), id)
    redis.call('HSET', K_WINFO, id, cjson.encode({ w = ARGV[5], p = RECLAIM_PRIORITY, s = int(now), g = int(ttl) }))
  end
  redis.call('ZADD', K_WEXP, int(now + ttl), id)
  admit(now)
end
if redis.call('ZSCORE', K_HOLDERS, id) then
  local info = holder_info(id)
  info.c = 1
  redis.call('HSET', K_HINFO, id, cjson.encode(info))
  redis.call('ZADD', K_HOLDERS, 'XX', int(now + tonumber(ARGV[8])), id)
  admit(now)
  return { 1, tonumber(info.t) }
end
return { 0, redis.call('ZRANK', K_WAITERS, id) + 1, current_limit() and 1 or 0 }
