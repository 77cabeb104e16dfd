-- ARGV[4] waiter ttl ms, ARGV[5..] the ids this process waits for.
-- Refreshes their entries; returns {nearest, now, status...} with status 0 waiting, 1 granted, 2 gone.
local now = now_ms()
reap(now)
local ttl = tonumber(ARGV[4])
for i = 5, #ARGV do
  if redis.call('ZSCORE', K_WAITERS, ARGV[i]) then
    redis.call('ZADD', K_WEXP, int(now + ttl), ARGV[i])
  end
end
admit(now)
local result = { nearest_expiry(), now }
for i = 5, #ARGV do
  local status = 2
  if redis.call('ZSCORE', K_HOLDERS, ARGV[i]) then
    status = 1
  elseif redis.call('ZSCORE', K_WAITERS, ARGV[i]) then
    status = 0
  end
  result[#result + 1] = status
end
return result
