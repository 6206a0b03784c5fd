-- wrk script: POST the GraphQL bodies of $BODY_FILE (one JSON body per line), each in turn
-- (bench/varied.py shuffles them: every request of a run is different while there are more
-- bodies than requests); print a JSON summary at the end (as post.lua).
local bodies = {}
local path = os.getenv("BODY_FILE")
assert(path, "BODY_FILE not set")
for line in io.lines(path) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
assert(#bodies > 0, "no bodies in BODY_FILE")
local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json"}
for line in string.gmatch(os.getenv("EXTRA_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
end
-- a random start: the warm-up and the timed run do not begin with the same bodies
math.randomseed(os.time())
local next_body = math.random(#bodies) - 1

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, headers, bodies[next_body])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
