-- ARGV[4] holder id. A waiter gives up (timeout, cancellation): its entry goes, and so does a grant
-- it has not claimed yet. Returns 1 if something was removed.
local now = now_ms()
reap(now)
local id = ARGV[4]
local removed = redis.call('ZREM', K_WAITERS, id)
remove_waiter(id)
local info = holder_info(id)
if info and tonumber(info.c) == 0 then
  remove_holder(id)
  removed = 1
end
admit(now)
return removed
