-- wrk script: POST /api/v1/events, one event per request, each with an event id, stamped
-- AB_TIMESTAMP; authenticated with the SDK token in AB_TOKEN. With AB_RACING=1 every wrk
-- thread sends the same ids in the same order at the same time (an SDK retrying requests
-- still in flight, a pipeline replaying); otherwise each thread's ids are its own.
local token = os.getenv("AB_TOKEN")
local stamp = os.getenv("AB_TIMESTAMP")
local racing = os.getenv("AB_RACING") == "1"
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
  prefix = racing and "race" or ("t" .. thread_id)
end

request = function()
  sent = sent + 1
  local body = string.format(
    '{"event_id":"%s-%d","user_id":"user-%d","event_type":"view","timestamp":"%s","metrics":{"n":1}}',
    prefix, sent, sent % 100000, stamp)
  return wrk.format(nil, nil, nil, body)
end
