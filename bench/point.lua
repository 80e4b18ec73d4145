-- GET /api/items/<random id in 1..1000>
request = function()
  return wrk.format("GET", "/api/items/" .. math.random(1, 1000))
end
