-- Compare-and-set of an agent's state: the move was decided from ARGV[1]. The ready set
-- and its change stream change in the same script, so they never disagree with the
-- agents' states. An agent with no record yet is logged out. The move log keeps the
-- latest MOVES_KEPT moves.
-- KEYS: agent, agent's move log, ready set, ready-set changes, the floor's changes
-- ARGV: expected state, new state, now, reason, log entry, agent id, call id or ''
-- Returns 1 moved, 0 the state was not the expected one, -1 busy with another call.
if (redis.call('HGET', KEYS[1], 'state') or 'logged_out') ~= ARGV[1] then return 0 end
if ARGV[7] ~= '' and redis.call('HGET', KEYS[1], 'call') ~= ARGV[7] then return -1 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'since', ARGV[3], 'reason', ARGV[4])
if ARGV[2] == 'ready' then
  redis.call('HSET', KEYS[1], 'idle_since', ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[6])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', CHANGES_KEPT, '*', 'a', ARGV[6], 's', ARGV[3])
elseif redis.call('ZREM', KEYS[3], ARGV[6]) == 1 then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', CHANGES_KEPT, '*', 'a', ARGV[6], 's', '')
end
if ARGV[2] == 'ready' or ARGV[2] == 'not_ready' or ARGV[2] == 'logged_out' then
  redis.call('HDEL', KEYS[1], 'call')
end
redis.call('XADD', KEYS[5], 'MAXLEN', '~', FLOOR_KEPT, '*', 'a', ARGV[6])
redis.call('RPUSH', KEYS[2], ARGV[5])
redis.call('LTRIM', KEYS[2], -MOVES_KEPT, -1)
return 1
