"""Bench: declarative HTTP/1.1 GET /health, no think time (compared with wrk)."""

from loadforge import HttpUser, constant, get


class Bench(HttpUser):
    wait_time = constant(0)
    tasks = {get("/health"): 1}
