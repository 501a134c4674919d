-- wrk script: what the dispatcher's forwarder sends trace: one stamped Sparrow
-- event per request, a fresh X-Tandem-Id each time, 50 devices in turn.
local counter = 0
local thread_no = 0
function setup(thread)
  thread:set("thread_no", thread_no)
  thread_no = thread_no + 1
end
function request()
  counter = counter + 1
  local id = string.format("0190a1b2-c3d4-7e5f-%04x-%012x", thread_no, counter)
  local device = string.format("dev-%04d", counter % 50)
  local body = '{"event":"purchase product","deviceId":"' .. device ..
      '","properties":{"category":"billing","productName":"workers","note":"mail alice@example.com"}}'
  local headers = {
    ["Content-Type"] = "text/plain",
    ["X-Tandem-Id"] = id,
    ["X-Tandem-Received-At"] = "1764323791000",
    ["X-Tandem-Role"] = "live",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
    ["X-Forwarded-For"] = "198.51.100.24",
    ["Referer"] = "https://shop.example/pricing?utm_source=news",
  }
  return wrk.format("POST", "/v1/events", headers, body)
end
