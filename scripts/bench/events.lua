-- wrk script: POST /api/v1/events in batches of 1000 events with unique event ids, stamped
-- AB_TIMESTAMP; authenticated with the SDK token in AB_TOKEN.
local token = os.getenv("AB_TOKEN")
local stamp = os.getenv("AB_TIMESTAMP")
local threads = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  sent = 0
end

request = function()
  sent = sent + 1
  local events = {}
  for i = 1, 1000 do
    events[i] = string.format(
      '{"event_id":"%d-%d-%d","user_id":"user-%d","event_type":"purchase","timestamp":"%s","metrics":{"revenue":%d.25},"properties":{"sku":"sku-%d"}}',
      thread_id, sent, i, math.random(1, 100000), stamp, i % 97, i % 13)
  end
  return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(events, ",") .. ']}')
end
