-- Returns {now, holders, waiters}: holders flat as id, worker, token, since, expiry;
-- waiters flat, in order of service, as id, worker, priority, since.
local now = now_ms()
reap(now)
admit(now)
local holders = {}
local h = redis.call('ZRANGE', K_HOLDERS, 0, -1, 'WITHSCORES')
for i = 1, #h, 2 do
  local info = holder_info(h[i]) or { w = '', t = '0', s = '0' }
  holders[#holders + 1] = h[i]
  holders[#holders + 1] = info.w
  holders[#holders + 1] = info.t
  holders[#holders + 1] = info.s
  holders[#holders + 1] = h[i + 1]
end
local waiters = {}
for _, id in ipairs(redis.call('ZRANGE', K_WAITERS, 0, -1)) do
  local w = cjson.decode(redis.call('HGET', K_WINFO, id))
  waiters[#waiters + 1] = id
  waiters[#waiters + 1] = w.w
  waiters[#waiters + 1] = tostring(w.p)
  waiters[#waiters + 1] = w.s
end
return { now, holders, waiters }
