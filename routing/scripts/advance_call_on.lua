-- A call's state moves on, on an event about it, from the state it was seen in: the
-- read and the move of `advance_call` in one round trip, for the ring's end and the
-- hangup. An event names the call's channel: it is about the call only when that is
-- the channel on record, or, for a customer called back (no channel on record until
-- their leg dials the agent), any channel (`hotline.queues.outcomes.about_the_call`;
-- a caller ID carrying CR/LF can forge an event with any call id, not the channel).
-- A customer called back has their channel on record from the answer on.
-- KEYS: call; ARGV: expected state, new state, the event's channel, then fields to
-- set with the move (name, value, ...).
-- Returns {1 moved or 0 not, the call's fields as they were}.
local flat = redis.call('HGETALL', KEYS[1])
local known, callback, state = '', '', nil
for i = 1, #flat, 2 do
  if flat[i] == 'channel' then known = flat[i + 1]
  elseif flat[i] == 'callback' then callback = flat[i + 1]
  elseif flat[i] == 'state' then state = flat[i + 1] end
end
local about = (known ~= '' and ARGV[3] == known) or
              (known == '' and ARGV[3] ~= '' and callback ~= '')
if not about or state ~= ARGV[1] then return {0, flat} end
redis.call('HSET', KEYS[1], 'state', ARGV[2], unpack(ARGV, 4))
if known == '' then redis.call('HSET', KEYS[1], 'channel', ARGV[3]) end
return {1, flat}
