-- ARGV[4] holder id, [5] fencing token. Frees the slot if this grant still holds it; returns 1 or 0.
local now = now_ms()
reap(now)
local info = holder_info(ARGV[4])
local released = 0
if info and info.t == ARGV[5] then
  remove_holder(ARGV[4])
  released = 1
end
admit(now)
return released
