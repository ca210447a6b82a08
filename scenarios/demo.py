"""The README demo: a few declarative requests against the built-in demo target.

    loadforge demo-server --port 8000 &
    loadforge run scenarios/demo.py -u 20 -r 10 -t 15s -H http://127.0.0.1:8000 --headless

Every request is declarative, so the Rust engine fires them with no Python per request.
"""

from loadforge import HttpUser, constant, get, post


class Visitor(HttpUser):
    wait_time = constant(0.1)
    tasks = {
        get("/health", status=200, json_path="status", json_equals="healthy"): 5,
        get("/", status=200): 1,
        post("/predict", json={"data": [0.5] * 784}, status=200, json_path="prediction"): 4,
    }


thresholds = ["p95 < 1s", "fail_ratio < 1%", ("POST /predict", "p99 < 2s")]
