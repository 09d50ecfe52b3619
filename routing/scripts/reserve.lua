-- Pair agents with waiting callers, each pair only if its agent is still ready and its
-- caller still waiting: two engine instances never give one agent two calls. A round's
-- pairs come in one call; each pair is decided on its own, so one refused pair (taken
-- meanwhile by another instance) leaves the others reserved. An agent found in the
-- ready set while not ready (written before the set existed) is taken out of it.
-- KEYS: ready set, ready-set changes, the floor's changes, then per pair: agent, call,
--       the call's waiting line
-- ARGV: now, then per pair: call id, agent id
-- Returns per pair 1 reserved, 0 the agent is not ready, -1 the caller is not waiting.
local out = {}
for i = 1, (#KEYS - 3) / 3 do
  local agent, call, line = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3]
  local call_id, agent_id = ARGV[2 * i], ARGV[2 * i + 1]
  if redis.call('HGET', agent, 'state') ~= 'ready' then
    if redis.call('ZREM', KEYS[1], agent_id) == 1 then
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', CHANGES_KEPT, '*', 'a', agent_id, 's', '')
    end
    out[i] = 0
  elseif redis.call('HGET', call, 'state') ~= 'waiting' then
    out[i] = -1
  else
    redis.call('HSET', agent, 'state', 'reserved', 'since', ARGV[1], 'call', call_id)
    redis.call('HSET', call, 'state', 'offered', 'agent', agent_id)
    redis.call('ZREM', line, call_id)
    redis.call('ZREM', KEYS[1], agent_id)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', CHANGES_KEPT, '*', 'a', agent_id, 's', '')
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', FLOOR_KEPT, '*', 'a', agent_id,
               'q', redis.call('HGET', call, 'queue') or '')
    out[i] = 1
  end
end
return out
