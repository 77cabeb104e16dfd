-- ARGV[4] holder id, [5] fencing token, [6] lease ttl ms. Returns {1, expiry, now} or {0} when not the holder.
local now = now_ms()
reap(now)
local id = ARGV[4]
local info = holder_info(id)
if not info or info.t ~= ARGV[5] or not redis.call('ZSCORE', K_HOLDERS, id) then
  admit(now)
  return { 0 }
end
local expiry = now + tonumber(ARGV[6])
redis.call('ZADD', K_HOLDERS, 'XX', int(expiry), id)
admit(now)
return { 1, expiry, now }
