-- Shared by every script (prepended to each). All state lives under one hash tag, named by KEYS:
--   1 limit    string: the number of slots (absent: ARGV[2], the configured default)
--   2 holders  zset:   holder id -> lease expiry (ms, Redis clock)
--   3 hinfo    hash:   holder id -> {w: worker, t: fencing token, s: since ms, c: claimed 0/1}
--   4 waiters  zset:   holder id -> order of service ((MAX_PRIORITY - priority) * 2^40 + arrival sequence)
--   5 wexp     zset:   holder id -> waiter entry expiry (ms): refreshed by the waiter's heartbeat
--   6 winfo    hash:   holder id -> {w: worker, p: priority, s: since ms, g: grant ttl ms}
--   7 seq      counter: arrival sequence
--   8 fence    counter: fencing tokens (never deleted, so tokens only grow)
-- ARGV[1] is the pub/sub channel, ARGV[2] the default limit; a script's own arguments start at ARGV[3].
local K_LIMIT, K_HOLDERS, K_HINFO, K_WAITERS, K_WEXP, K_WINFO, K_SEQ, K_FENCE =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local CHANNEL = ARGV[1]
local DEFAULT_LIMIT = tonumber(ARGV[2])
local MAX_PRIORITY = 1000

-- Lua turns numbers into strings with 14 significant digits: format integers ourselves.
local function int(x)
  return string.format('%.0f', x)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function current_limit()
  local v = redis.call('GET', K_LIMIT)
  if v then return tonumber(v) end
  return DEFAULT_LIMIT
end

local function publish(event, ids, tokens)
  if #ids == 0 then return end
  local msg = { e = event, ids = ids }
  if tokens then msg.t = tokens end
  redis.call('PUBLISH', CHANNEL, cjson.encode(msg))
end

local function holder_info(id)
  local raw = redis.call('HGET', K_HINFO, id)
  if raw then return cjson.decode(raw) end
  return nil
end

local function remove_holder(id)
  redis.call('ZREM', K_HOLDERS, id)
  redis.call('HDEL', K_HINFO, id)
end

local function remove_waiter(id)
  redis.call('ZREM', K_WAITERS, id)
  redis.call('ZREM', K_WEXP, id)
  redis.call('HDEL', K_WINFO, id)
end

-- Expired leases and waiter entries whose process stopped heartbeating are removed; their owners are told.
local function reap(now)
  local expired = redis.call('ZRANGEBYSCORE', K_HOLDERS, '-inf', int(now))
  local tokens = {}
  for i, id in ipairs(expired) do
    local info = holder_info(id)
    tokens[i] = info and info.t or '0'
    remove_holder(id)
  end
  publish('lost', expired, tokens)
  local gone = redis.call('ZRANGEBYSCORE', K_WEXP, '-inf', int(now))
  for _, id in ipairs(gone) do remove_waiter(id) end
  publish('drop', gone)
end

-- Grants free slots to the head(s) of the queue, in order, and tells the grantees. A grant is held
-- for the waiter's own short ttl until its process claims it (claim.lua) and starts renewing.
local function admit(now)
  local free = current_limit() - redis.call('ZCARD', K_HOLDERS)
  local granted = {}
  while free > 0 do
    local head = redis.call('ZRANGE', K_WAITERS, 0, 0)[1]
    if not head then break end
    local w = cjson.decode(redis.call('HGET', K_WINFO, head))
    remove_waiter(head)
    local token = redis.call('INCR', K_FENCE)
    redis.call('ZADD', K_HOLDERS, int(now + tonumber(w.g)), head)
    redis.call('HSET', K_HINFO, head, cjson.encode({ w = w.w, t = int(token), s = int(now), c = 0 }))
    granted[#granted + 1] = head
    free = free - 1
  end
  publish('grant', granted)
end

-- The earliest moment something may expire (ms, Redis clock), or -1: waiters set a timer to it.
local function nearest_expiry()
  local n = -1
  local h = redis.call('ZRANGE', K_HOLDERS, 0, 0, 'WITHSCORES')
  if h[2] then n = tonumber(h[2]) end
  local w = redis.call('ZRANGE', K_WEXP, 0, 0, 'WITHSCORES')
  if w[2] and (n < 0 or tonumber(w[2]) < n) then n = tonumber(w[2]) end
  return n
end
