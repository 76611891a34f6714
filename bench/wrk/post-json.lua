-- wrk script for the POST workloads: an empty JSON object, as `POST /api/actions/:id/runs` takes.
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
