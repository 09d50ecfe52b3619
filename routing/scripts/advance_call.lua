-- A call's state moves on only from the state it was seen in: of two engine instances
-- handling the same event, one does the work.
-- KEYS: call; ARGV: expected state, new state. Returns 1 moved, 0 not.
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
