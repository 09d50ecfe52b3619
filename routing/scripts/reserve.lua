-- Pair an agent with a waiting caller, only if the agent is still ready and the caller
-- still waiting: two engine instances never give one agent two calls. An agent found in
-- the ready set while not ready (written before the set existed) is taken out of it.
-- KEYS: agent, call, the call's waiting line, ready set, ready-set changes
-- ARGV: call id, agent id, now
-- Returns 1 reserved, 0 the agent is not ready, -1 the caller is not waiting.
if redis.call('HGET', KEYS[1], 'state') ~= 'ready' then
  if redis.call('ZREM', KEYS[4], ARGV[2]) == 1 then
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', CHANGES_KEPT, '*', 'a', ARGV[2], 's', '')
  end
  return 0
end
if redis.call('HGET', KEYS[2], 'state') ~= 'waiting' then return -1 end
redis.call('HSET', KEYS[1], 'state', 'reserved', 'since', ARGV[3], 'call', ARGV[1])
redis.call('HSET', KEYS[2], 'state', 'offered', 'agent', ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', CHANGES_KEPT, '*', 'a', ARGV[2], 's', '')
return 1
