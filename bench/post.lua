-- POST /api/items with a name unique to this run, thread and request.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  tag = args[1] or tostring(os.time())
  counter = 0
end
request = function()
  counter = counter + 1
  local body = '{"name": "bench ' .. tag .. ' ' .. tid .. ' ' .. counter .. '"}'
  return wrk.format("POST", "/api/items", {["Content-Type"] = "application/json"}, body)
end
