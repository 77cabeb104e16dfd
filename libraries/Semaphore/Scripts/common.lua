-- Shared by every script (prepended to each; the script's own text becomes the function body() below, and every
-- script returns {epoch, what body() returns}). All state lives under one hash tag, named by KEYS:
--   1 limit    string: the number of slots; absent, the limit is unknown and nothing is granted (Settings sets it)
--   2 holders  zset:   holder id -> lease expiry (ms, Redis clock)
--   3 hinfo    hash:   holder id -> {w: worker, t: fencing token, s: since ms, c: claimed 0/1}
--   4 waiters  zset:   holder id -> order of service ((MAX_PRIORITY - priority) * 2^40 + arrival sequence)
--   5 wexp     zset:   holder id -> waiter entry expiry (ms): refreshed by the waiter's heartbeat
--   6 winfo    hash:   holder id -> {w: worker, p: priority, s: since ms, g: grant ttl ms}
--   7 seq      counter: arrival sequence
--   8 fence    string: the last fencing token (never deleted; tokens only grow, see next_token)
--   9 epoch    string: when this Redis's copy of the semaphore began (Redis clock, us). Only a loss of Redis's data
--              removes it (ClearAsync keeps it), so a holder whose entry is gone while the epoch changed lost it to a
--              reset, not to an admin or an expiry.
--  10 grace    string with a ttl: while it exists, only leases of the lost epoch that re-claim their slot are granted
-- ARGV[1] is the pub/sub channel, ARGV[2] the epoch the caller saw last ('' if none), ARGV[3] the reset grace (ms: half
-- the caller's lease ttl; a lease renews every third of it, so every lease still alive has found out and queued to
-- re-claim by then); a script's own arguments start at ARGV[4].
local K_LIMIT, K_HOLDERS, K_HINFO, K_WAITERS, K_WEXP, K_WINFO, K_SEQ, K_FENCE, K_EPOCH, K_GRACE =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local CHANNEL = ARGV[1]
local KNOWN_EPOCH = ARGV[2]
local GRACE_MS = tonumber(ARGV[3])
local MAX_PRIORITY = 1000
-- A lease re-claiming its slot after a reset waits ahead of every other waiter.
local RECLAIM_PRIORITY = MAX_PRIORITY + 1

-- Lua turns numbers into strings with 14 significant digits: format integers ourselves.
local function int(x)
  return string.format('%.0f', x)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- The limit, or nil while it is unknown (never set, or lost with Redis's data): then nothing is granted.
local function current_limit()
  local v = redis.call('GET', K_LIMIT)
  if v then return tonumber(v) end
  return nil
end

-- The next fencing token: one more than the last, and at least Redis's clock in microseconds. So tokens keep growing
-- when the counter is lost (a restart without data, or the last second of an AOF written every second): a token issued
-- before the loss is at most its issue time plus the grants that ran ahead of the clock, each of which needed a script
-- call of its own (more than a microsecond) since the last time the clock caught up. Below 2^53 until the year 2255.
local function next_token()
  local last = tonumber(redis.call('GET', K_FENCE) or '0')
  local token = math.max(last + 1, now_us())
  redis.call('SET', K_FENCE, int(token))
  return token
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
-- Nothing while the limit is unknown; during the grace after a reset, only leases that re-claim their slot.
local function admit(now)
  local limit = current_limit()
  if not limit then return end
  local free = limit - redis.call('ZCARD', K_HOLDERS)
  local grace = redis.call('EXISTS', K_GRACE) == 1
  local granted = {}
  while free > 0 do
    local head = redis.call('ZRANGE', K_WAITERS, 0, 0)[1]
    if not head then break end
    local w = cjson.decode(redis.call('HGET', K_WINFO, head))
    if grace and tonumber(w.p) <= MAX_PRIORITY then break end
    remove_waiter(head)
    local token = next_token()
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

-- The epoch, made when a script finds none: on a fresh farm, or after Redis lost its data. When the caller saw another
-- epoch before (it was running when the data went), the first grace ms of the new epoch are kept for the leases it
-- lost: they re-claim their slots before any new waiter is served, so builds that still run are not outnumbered.
local EPOCH = redis.call('GET', K_EPOCH)
if not EPOCH then
  EPOCH = int(now_us())
  redis.call('SET', K_EPOCH, EPOCH)
end
if KNOWN_EPOCH ~= '' and KNOWN_EPOCH ~= EPOCH and redis.call('EXISTS', K_GRACE) == 0 then
  local left = math.floor(tonumber(EPOCH) / 1000) + GRACE_MS - now_ms()
  if left > 0 then
    redis.call('SET', K_GRACE, '1', 'PX', int(left))
  end
end
