-- ARGV[3] the new limit. Raising it grants to waiters at once; lowering it evicts no one.
local now = now_ms()
reap(now)
redis.call('SET', K_LIMIT, ARGV[3])
admit(now)
return current_limit()
