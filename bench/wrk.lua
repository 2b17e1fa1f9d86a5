-- wrk script of the REST benchmark: GET or POST /todos as the benchmark's
-- members, their bearer tokens taken in turn from the file $BENCH_TOKENS
-- (one a line). $BENCH_METHOD is GET (default) or POST.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
assert(#tokens > 0, "no tokens in $BENCH_TOKENS")
local method = os.getenv("BENCH_METHOD") or "GET"

-- each thread starts at its own place in the token list
local threads = 0
function setup(thread)
  thread:set("first", threads * 17)
  threads = threads + 1
end

local n
function init(args)
  n = first or 0
end

local body = '{"title":"wrk todo","completed":false}'
function request()
  n = n + 1
  local t = tokens[(n % #tokens) + 1]
  if method == "POST" then
    return wrk.format("POST", "/todos", {
      ["Authorization"] = "Bearer " .. t,
      ["Content-Type"] = "application/json",
    }, body)
  end
  return wrk.format("GET", "/todos", { ["Authorization"] = "Bearer " .. t })
end
