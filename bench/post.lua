-- wrk script: POST one Sparrow event (~130 bytes), as a browser would.
wrk.method = "POST"
wrk.body = '{"event":"purchase product","deviceId":"0b5c2a8e-3f1d-4c6a-9e7b-2d4f6a8c","properties":{"category":"billing","productName":"workers"}}'
wrk.headers["Content-Type"] = "application/json"
