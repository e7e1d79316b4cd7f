-- wrk script for scripts/bench: as wrk-token.lua (the API token from
-- BENCH_TOKEN), and counts the answers by nginx's X-Bulkclaims-Cache
-- header (HIT, MISS, EXPIRED, BYPASS; "-" when absent) and by status.
-- The response() hook makes wrk parse every answer, which costs it CPU
-- on a shared machine: scripts/bench runs this apart from the timed
-- runs, only to say where the answers came from.  Prints one line
-- "cache HIT=n MISS=n ... status 200=n ..." at the end.
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
	error("BENCH_TOKEN is not set")
end
wrk.headers["Authorization"] = "Token " .. token

local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	cache = {}
	status = {}
end

function response(code, headers, body)
	local c = "-"
	for k, v in pairs(headers) do
		if string.lower(k) == "x-bulkclaims-cache" then
			c = v
		end
	end
	cache[c] = (cache[c] or 0) + 1
	status[code] = (status[code] or 0) + 1
end

-- Sums the threads' counters (each thread has its own Lua state).
local function total(name)
	local sum = {}
	for _, t in ipairs(threads) do
		for k, v in pairs(t:get(name)) do
			sum[k] = (sum[k] or 0) + v
		end
	end
	local keys = {}
	for k in pairs(sum) do
		table.insert(keys, tostring(k))
	end
	table.sort(keys)
	local out = {}
	for _, k in ipairs(keys) do
		table.insert(out, k .. "=" .. (sum[k] or sum[tonumber(k)]))
	end
	return table.concat(out, " ")
end

function done(summary, latency, requests)
	io.write("cache " .. total("cache") .. " status " .. total("status") .. "\n")
end
