-- What changed in the ready set since a reader's last look, or else the whole set.
-- If exactly the changes added since then follow the id it saw, none was trimmed away
-- and replaying them is exact. Sets `kind` ('changes' or 'all'), `last`, `total` and
-- `ready` (agent id and idle-since score, or '-' for a removal, joined by \31).
-- KEYS[1] ready set, KEYS[2] its changes; ARGV[1] the change id seen up to, ARGV[2] how
-- many changes seen in all, ARGV[3] how far behind a reader may be and still replay.
local total, last = 0, '0-0'
if redis.call('EXISTS', KEYS[2]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[2])
  for i = 1, #info, 2 do
    if info[i] == 'entries-added' then total = info[i + 1]
    elseif info[i] == 'last-generated-id' then last = info[i + 1] end
  end
end
local kind, ready = 'all', nil
local missed = total - tonumber(ARGV[2])
if ARGV[1] ~= '' and missed >= 0 and missed <= tonumber(ARGV[3]) then
  local entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1], '+')
  if #entries == missed then
    local out = {}
    for _, entry in ipairs(entries) do
      out[#out + 1] = entry[2][2]
      out[#out + 1] = entry[2][4] == '' and '-' or entry[2][4]
    end
    kind, ready = 'changes', table.concat(out, '\31')
  end
end
if ready == nil then
  ready = table.concat(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES'), '\31')
end
