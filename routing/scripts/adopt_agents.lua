-- Agents made ready before the ready set existed (an upgrade with agents logged in).
-- KEYS: ready set, ready-set changes, then one agent record per ARGV agent id.
-- Returns how many agents were taken into the set.
local n = 0
for i = 3, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'state', 'idle_since')
  if f[1] == 'ready' and not redis.call('ZSCORE', KEYS[1], ARGV[i - 2]) then
    redis.call('ZADD', KEYS[1], f[2] or '0', ARGV[i - 2])
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', CHANGES_KEPT, '*', 'a', ARGV[i - 2],
               's', f[2] or '0')
    n = n + 1
  end
end
return n
