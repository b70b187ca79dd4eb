-- wrk script for the HTTP API benchmark (see http-api.sh).
-- Arguments after "--": IDS_FILE [ids|constant]
--   ids:      GET /cgroup/<id>, the id drawn at random from IDS_FILE (one decimal id per line)
--   constant: GET /bench/constant, the reference route (same body size, no lookup)
-- Both modes build every request in Lua, so the per-request script cost is the same.
local ids = {}
local constant = false

function init(args)
  for line in io.lines(args[1]) do
    ids[#ids + 1] = line
  end
  constant = args[2] == "constant"
  -- a different sequence per thread
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  if constant then
    return wrk.format("GET", "/bench/constant")
  end
  return wrk.format("GET", "/cgroup/" .. ids[math.random(#ids)])
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.0f p50_us=%d p99_us=%d max_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
