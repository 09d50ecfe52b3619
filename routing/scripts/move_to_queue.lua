-- Overflow, or a removed queue: the caller moves to another line and keeps the arrival
-- time, so their place among the callers there is what it would have been.
-- KEYS: the old line, the new line, call, the lines index, the floor's changes;
-- ARGV: call id, new queue.
local arrived = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if arrived then
  redis.call('ZADD', KEYS[2], arrived, ARGV[1])
  redis.call('SADD', KEYS[4], KEYS[2])
end
redis.call('HSET', KEYS[3], 'queue', ARGV[2])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', FLOOR_KEPT, '*', 'q', ARGV[2])
return arrived and 1 or 0
