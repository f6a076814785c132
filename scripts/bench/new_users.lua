-- wrk script: every request a unit never seen before (a per-thread counter under a per-run
-- prefix), with the same context, for pg_ab's /api/v1/assign (AB_TARGET=pg_ab, the default)
-- or Unleash Edge's frontend API /api/frontend (AB_TARGET=edge). AB_TOKEN: the SDK token
-- (pg_ab) or a frontend token (Edge).
local target = os.getenv("AB_TARGET") or "pg_ab"
local token = os.getenv("AB_TOKEN")
local started = os.time()
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("prefix", string.format("new-%d-%d", started, threads))
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if target == "edge" then
  wrk.headers["Authorization"] = token
else
  wrk.headers["Authorization"] = "Bearer " .. token
end

local sent = 0
request = function()
  sent = sent + 1
  local user = string.format("%s-%d", prefix, sent)
  local body
  if target == "edge" then
    body = string.format('{"userId":"%s","properties":{"country":"US","platform":"ios"}}', user)
  else
    body = string.format('{"user_id":"%s","context":{"country":"US","platform":"ios"}}', user)
  end
  return wrk.format(nil, nil, nil, body)
end
