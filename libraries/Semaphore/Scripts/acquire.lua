-- ARGV[4] holder id, [5] worker id, [6] priority, [7] waiter ttl ms, [8] lease ttl ms.
-- Returns {1, token, nearest, now} when granted at once (the grant is claimed here: a lease of the lease
-- ttl), {0, position, nearest, now, limit known 0/1} when queued, {2} when the id already holds a slot.
local now = now_ms()
reap(now)
local id = ARGV[4]
if redis.call('ZSCORE', K_HOLDERS, id) then
  admit(now)
  return { 2 }
end
local ttl = tonumber(ARGV[7])
if not redis.call('ZSCORE', K_WAITERS, id) then
  local priority = tonumber(ARGV[6])
  local seq = redis.call('INCR', K_SEQ)
  redis.call('ZADD', K_WAITERS, int((MAX_PRIORITY - priority) * 1099511627776 + seq), id)
  redis.call('HSET', K_WINFO, id, cjson.encode({ w = ARGV[5], p = priority, s = int(now), g = int(ttl) }))
end
redis.call('ZADD', K_WEXP, int(now + ttl), id)
admit(now)
if redis.call('ZSCORE', K_HOLDERS, id) then
  local info = holder_info(id)
  info.c = 1
  redis.call('HSET', K_HINFO, id, cjson.encode(info))
  redis.call('ZADD', K_HOLDERS, 'XX', int(now + tonumber(ARGV[8])), id)
  return { 1, tonumber(info.t), nearest_expiry(), now }
end
return { 0, redis.call('ZRANK', K_WAITERS, id) + 1, nearest_expiry(), now, current_limit() and 1 or 0 }
