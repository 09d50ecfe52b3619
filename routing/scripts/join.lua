-- A caller joins a queue's line; with a free agent named (the express lane), the pair
-- is reserved in the same call, when nobody else waits in any line (a caller already
-- waiting, in this queue or another the agent could serve, is the matcher's to order)
-- and the agent is still ready.
-- KEYS: call, the queue's waiting line, the lines index, ready set, ready-set changes,
--       the agent (any key when none is named), the floor's changes
-- ARGV: call id, queue, arrived at, tier, boost, channel, number, menu path ('' keeps
--       the one on record), kept for (seconds), agent id ('' for none), now, and '1'
--       for the pair or nothing
-- Returns {outcome, place}: outcome 1 reserved, 0 waiting (no agent named, or others
-- wait), -1 the agent is not ready (waiting); for the pair or nothing, when there is
-- no pair, nothing is written: -2 others wait, -3 the agent is not ready. place: the
-- caller's place at the end of the line (1 when served at once).
local agent_id = ARGV[10]
local alone = agent_id ~= ''
if alone then
  for _, line in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    if redis.call('ZCARD', line) > 0 then alone = false break end
  end
end
local ready = alone and redis.call('HGET', KEYS[6], 'state') == 'ready'
-- The express lane as the call is claimed: the pair, or nothing at all (the caller
-- joins later, the usual way).
if ARGV[12] == '1' and not ready then return {alone and -3 or -2, 0} end
redis.call('HSET', KEYS[1], 'queue', ARGV[2], 'arrived_at', ARGV[3], 'tier', ARGV[4],
           'boost', ARGV[5], 'channel', ARGV[6], 'state', 'waiting', 'number', ARGV[7])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'menu_path', ARGV[8]) end
redis.call('EXPIRE', KEYS[1], ARGV[9])
if not alone then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('SADD', KEYS[3], KEYS[2])
  redis.call('XADD', KEYS[7], 'MAXLEN', '~', FLOOR_KEPT, '*', 'q', ARGV[2])
  return {0, redis.call('ZCARD', KEYS[2])}
end
if not ready then
  if redis.call('ZREM', KEYS[4], agent_id) == 1 then
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', CHANGES_KEPT, '*', 'a', agent_id, 's', '')
  end
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('SADD', KEYS[3], KEYS[2])
  redis.call('XADD', KEYS[7], 'MAXLEN', '~', FLOOR_KEPT, '*', 'q', ARGV[2])
  return {-1, redis.call('ZCARD', KEYS[2])}
end
redis.call('HSET', KEYS[6], 'state', 'reserved', 'since', ARGV[11], 'call', ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'offered', 'agent', agent_id)
redis.call('ZREM', KEYS[4], agent_id)
redis.call('XADD', KEYS[5], 'MAXLEN', '~', CHANGES_KEPT, '*', 'a', agent_id, 's', '')
redis.call('XADD', KEYS[7], 'MAXLEN', '~', FLOOR_KEPT, '*', 'a', agent_id, 'q', ARGV[2])
return {1, 1}
