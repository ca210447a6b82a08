"""The Locust peer: FastHttpUser, GET /health, no think time (one process, headless)."""

from locust import FastHttpUser, constant, task


class Bench(FastHttpUser):
    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get("/health")
