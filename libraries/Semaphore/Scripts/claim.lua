-- ARGV[4] holder id, [5] lease ttl ms. Turns a grant into a lease.
-- Returns {1, token, since, expiry, now} or {0} when the grant is gone (expired or released by an admin).
local now = now_ms()
reap(now)
local id = ARGV[4]
local info = holder_info(id)
if not info or not redis.call('ZSCORE', K_HOLDERS, id) then
  admit(now)
  return { 0 }
end
local expiry = now + tonumber(ARGV[5])
info.c = 1
redis.call('HSET', K_HINFO, id, cjson.encode(info))
redis.call('ZADD', K_HOLDERS, 'XX', int(expiry), id)
admit(now)
return { 1, tonumber(info.t), tonumber(info.s), expiry, now }
