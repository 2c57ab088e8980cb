package redis

import goredis "github.com/redis/go-redis/v9"

// Each room has two keys sharing a hash tag (one cluster slot): a stream of its recent events,
// whose entry ids are "<seq>-0", and a hash with its epoch (e), last seq (s) and the epoch's
// birth time in ms (b). Scripts keep the three in step atomically.

// nowMS is Redis's clock in ms as a string (exact, unlike a Lua double printed with %.14g).
const nowMS = `local t = redis.call('TIME')
local now = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
`

// publishScript appends an event and publishes it in one step, so the seq order of the history
// is the order in which every node receives the events (like centrifuge's
// broker_history_add_stream.lua).
// KEYS: stream, meta. ARGV: data, maxlen, ttl seconds, channel, epoch to start when none.
// Returns {epoch, seq}.
var publishScript = goredis.NewScript(nowMS + `
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[5]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch, 's', 0, 'b', now)
end
local seq = redis.call('HINCRBY', KEYS[2], 's', 1)
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'd', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], 'e' .. epoch .. ' ' .. seq .. ' ' .. ARGV[1])
return {epoch, seq}
`)

// historyScript reads the position and, when the history holds every event after since in the
// same epoch, those events. An unknown room starts its epoch at seq 0.
// KEYS: stream, meta. ARGV: since epoch, since seq, epoch to start when none, ttl seconds.
// Returns {epoch, seq} (cannot resume) or {epoch, seq, entries} (resume with entries).
var historyScript = goredis.NewScript(nowMS + `
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[3]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch, 's', 0, 'b', now)
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  return {epoch, 0}
end
local seq = tonumber(redis.call('HGET', KEYS[2], 's'))
local since = tonumber(ARGV[2])
if ARGV[1] ~= epoch or since > seq then
  return {epoch, seq}
end
if since == seq then
  return {epoch, seq, {}}
end
local first = (since + 1) .. '-0'
local entries = redis.call('XRANGE', KEYS[1], first, '+')
if #entries == 0 or entries[1][1] ~= first then
  return {epoch, seq}
end
return {epoch, seq, entries}
`)

// renewSrc starts a new epoch after this node's outage, unless another node already did so
// since this node reconnected (its epoch was born after ARGV[2]): the outage's local events
// never reached the shared history, so every node's clients must take a snapshot, once.
// KEYS: stream, meta. ARGV: new epoch, reconnect time in ms, ttl seconds, channel, reset message.
// Returns 1 when renewed (and the reset message published), 0 otherwise.
// It runs in a pipeline (one per room), where EVALSHA's NOSCRIPT fallback is not available.
const renewSrc = nowMS + `
local born = tonumber(redis.call('HGET', KEYS[2], 'b') or '0')
if born > tonumber(ARGV[2]) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[2], 'e', ARGV[1], 's', 0, 'b', now)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`
