-- ARGV[4] the new limit. Raising it grants to waiters at once; lowering it evicts no one.
local now = now_ms()
reap(now)
redis.call('SET', K_LIMIT, ARGV[4])
admit(now)
return current_limit()
