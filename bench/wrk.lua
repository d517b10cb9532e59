-- wrk script of bench/http.py. BENCH_HEADER names a header (Cookie or
-- Authorization) and BENCH_VALUES its values, one a line: each request takes
-- the next one, so several values are several signed-in sessions. At the end,
-- one line of JSON with what bench/http.py reports.
local name = os.getenv("BENCH_HEADER") or ""
local values = {}
for value in string.gmatch(os.getenv("BENCH_VALUES") or "", "[^\n]+") do
  table.insert(values, value)
end

local requests = {}
local next_one = 1

function init(args)
  if name == "" or #values == 0 then
    table.insert(requests, wrk.format())
  else
    for _, value in ipairs(values) do
      table.insert(requests, wrk.format(nil, nil, { [name] = value }))
    end
  end
end

function request()
  local req = requests[next_one]
  next_one = next_one % #requests + 1
  return req
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
