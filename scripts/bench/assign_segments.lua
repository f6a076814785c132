-- wrk script: POST /api/v1/assign for users drawn from AB_USERS (default 100000), each in
-- one of 100 segments; all eligible experiments, or only AB_EXPERIMENT when it is set.
local token = os.getenv("AB_TOKEN")
local users = tonumber(os.getenv("AB_USERS") or "100000")
local experiment = os.getenv("AB_EXPERIMENT")
if experiment == "" then experiment = nil end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

request = function()
  local user = math.random(1, users)
  local named = experiment and string.format(',"experiments":["%s"]', experiment) or ""
  local body = string.format('{"user_id":"user-%d","context":{"segment":"seg-%d"}%s}', user, user % 100, named)
  return wrk.format(nil, nil, nil, body)
end
