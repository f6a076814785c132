-- wrk script: POST /api/v1/assign for users drawn from AB_USERS (default 100000) with a
-- context, authenticated with the SDK token in AB_TOKEN.
local token = os.getenv("AB_TOKEN")
local users = tonumber(os.getenv("AB_USERS") or "100000")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

request = function()
  local body = string.format('{"user_id":"user-%d","context":{"country":"US","platform":"ios"}}', math.random(1, users))
  return wrk.format(nil, nil, nil, body)
end
