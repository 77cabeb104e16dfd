-- Frees every slot and drops every waiter; holders are told their leases are lost, waiters that they
-- were dropped. The limit and the counters stay (fencing tokens keep growing). Returns {holders, waiters}.
local holders = redis.call('ZRANGE', K_HOLDERS, 0, -1)
local tokens = {}
for i, id in ipairs(holders) do
  local info = holder_info(id)
  tokens[i] = info and info.t or '0'
end
local waiters = redis.call('ZRANGE', K_WAITERS, 0, -1)
redis.call('DEL', K_HOLDERS, K_HINFO, K_WAITERS, K_WEXP, K_WINFO)
publish('lost', holders, tokens)
publish('drop', waiters)
return { #holders, #waiters }
