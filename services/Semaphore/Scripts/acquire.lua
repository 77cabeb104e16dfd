-- ARGV[3] holder id, [4] worker id, [5] priority, [6] waiter ttl ms, [7] lease ttl ms.
-- Returns {1, token, nearest, now} when granted at once (the grant is claimed here: a lease of the lease
-- ttl), {0, position, nearest, now} when queued, {2} when the id already holds a slot.
local now = now_ms()
reap(now)
local id = ARGV[3]
if redis.call('ZSCORE', K_HOLDERS, id) then
  admit(now)
  return { 2 }
end
local ttl = tonumber(ARGV[6])
if not redis.call('ZSCORE', K_WAITERS, id) then
  local priority = tonumber(ARGV[5])
  local seq = redis.call('INCR', K_SEQ)
  redis.call('ZADD', K_WAITERS, int((MAX_PRIORITY - priority) * 1099511627776 + seq), id)
  redis.call('HSET', K_WINFO, id, cjson.encode({ w = ARGV[4], p = priority, s = int(now), g = int(ttl) }))
end
redis.call('ZADD', K_WEXP, int(now + ttl), id)
admit(now)
if redis.call('ZSCORE', K_HOLDERS, id) then
  local info = holder_info(id)
  info.c = 1
  redis.call('HSET', K_HINFO, id, cjson.encode(info))
  redis.call('ZADD', K_HOLDERS, 'XX', int(now + tonumber(ARGV[7])), id)
  return { 1, tonumber(info.t), nearest_expiry(), now }
end
return { 0, redis.call('ZRANK', K_WAITERS, id) + 1, nearest_expiry(), now }
