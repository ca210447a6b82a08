"""Bench: declarative HTTP/2 (h2c) GET /health, no think time (compared with h2load).

Every request of the class goes over HTTP/2 (`http2 = True`). On one engine thread the
users share 4 h2c connections (rust/core/src/session.rs), so 100 users = 100 streams in
flight, as h2load's `-c10 -m10`.
"""

from loadforge import HttpUser, constant, get


class Bench(HttpUser):
    http2 = True
    wait_time = constant(0)
    tasks = {get("/health"): 1}
