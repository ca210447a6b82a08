"""An MNIST-style inference API: most users browse and predict, a few hammer /predict.

    loadforge run scenarios/mnist_api.py -u 50 -r 10 -t 2m -H http://127.0.0.1:8000 --headless

Targets the demo server (`loadforge demo-server`): `POST /predict` takes
`{"data": [784 floats]}` and answers 422 on malformed input, which the "invalid" task
expects (a 422 there counts as a success). The edge cases (all zeros, all ones) are
grouped under their own names so their latency shows separately.
"""

import random

from loadforge import HttpUser, between, get, post

# A fixed pseudo-random digit image: the same bytes every run, encoded once.
_rng = random.Random(784)
DIGIT = [round(_rng.random(), 4) for _ in range(784)]


class MnistUser(HttpUser):
    """A typical client: mostly predictions, some health checks, a look at the index."""

    weight = 4
    wait_time = between(1, 3)
    tasks = {
        post("/predict", json={"data": DIGIT}, status=200, json_path="prediction"): 10,
        get("/health", status=200, json_path="status", json_equals="healthy"): 2,
        get("/", status=200): 1,
        post("/predict", json={"data": [0.0] * 784}, name="/predict [zeros]", status=200): 1,
        post("/predict", json={"data": [1.0] * 784}, name="/predict [ones]", status=200): 1,
        post("/predict", json={"data": [0.5] * 10}, name="/predict [invalid]", status=422): 1,
    }


class StressUser(HttpUser):
    """Predictions only, with short pauses: the load that finds the knee."""

    weight = 1
    wait_time = between(0.1, 0.5)
    tasks = [post("/predict", json={"data": DIGIT}, status=200, json_path="prediction")]


thresholds = ["p95 < 2s", "p99 < 5s", "fail_ratio < 1%", "rps > 10"]
