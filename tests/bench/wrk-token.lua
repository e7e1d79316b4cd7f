-- wrk script for scripts/bench: every request carries the API token
-- (environment variable BENCH_TOKEN) as DRF's "Authorization: Token".
-- No response() hook: wrk then skips parsing bodies, and still counts
-- answers that are not 2xx/3xx ("Non-2xx or 3xx responses").
local token = os.getenv("BENCH_TOKEN")
if token == nil or token == "" then
	error("BENCH_TOKEN is not set")
end
wrk.headers["Authorization"] = "Token " .. token
