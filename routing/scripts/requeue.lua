-- A caller whose offer failed goes back to the line with the arrival time kept: the
-- oldest waiting caller stays first.
-- KEYS: call, the queue's waiting line, the lines index, the floor's changes;
-- ARGV: call id.
if redis.call('HGET', KEYS[1], 'state') ~= 'offered' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'waiting')
redis.call('HDEL', KEYS[1], 'agent')
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'arrived_at'), ARGV[1])
redis.call('SADD', KEYS[3], KEYS[2])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', FLOOR_KEPT, '*', 'q',
           redis.call('HGET', KEYS[1], 'queue') or '')
return 1
