-- ARGV[4] holder id. An admin frees one holder's slot; its lease is told it is lost. Returns 1 or 0.
local now = now_ms()
reap(now)
local id = ARGV[4]
local info = holder_info(id)
local released = 0
if info then
  remove_holder(id)
  publish('lost', { id }, { info.t })
  released = 1
end
admit(now)
return released
