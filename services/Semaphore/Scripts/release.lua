-- ARGV[3] holder id, [4] fencing token. Frees the slot if this grant still holds it; returns 1 or 0.
local now = now_ms()
reap(now)
local info = holder_info(ARGV[3])
local released = 0
if info and info.t == ARGV[4] then
  remove_holder(ARGV[3])
  released = 1
end
admit(now)
return released
