-- The waiting callers of the lines asked for, as rows "line index, call id, queue,
-- arrived at, tier, boost" (fields joined by \31, rows by \30), in `lines`.
-- The lines are named in ARGV, not KEYS: encoding a hundred keys cost the client more
-- than the script's whole run. Every key carries the `{routing}` hash tag, so the script
-- still touches one Cluster slot (KEYS route it).
-- With ARGV[6] = 'indexed', only the lines in KEYS[3] are visited: the lines that may
-- have callers (added to when a caller joins, taken out here when found empty).
-- Visiting a hundred empty lines every round cost Redis twenty times the rest.
-- ARGV[4] the call records' key prefix, ARGV[5] the lines' keys joined by \31.
local open = nil
if ARGV[6] == 'indexed' then
  open = {}
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[3])) do open[key] = true end
end
local rows, i = {}, 0
for key in string.gmatch(ARGV[5], '[^\31]+') do
  i = i + 1
  if open == nil or open[key] then
    local ids = redis.call('ZRANGE', key, 0, -1)
    if open and #ids == 0 then redis.call('SREM', KEYS[3], key) end
    for _, id in ipairs(ids) do
      local f = redis.call('HMGET', ARGV[4] .. id, 'state', 'queue', 'arrived_at', 'tier',
                           'boost')
      if f[1] == 'waiting' then
        rows[#rows + 1] = table.concat({i, id, f[2] or '', f[3] or '0', f[4] or 'normal',
                                        f[5] or '0'}, '\31')
      end
    end
  end
end
local lines = table.concat(rows, '\30')
