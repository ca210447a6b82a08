"""Bench: a Python `async def` task doing GET /health (compared with Locust FastHttpUser)."""

from loadforge import HttpUser, constant, task


class Bench(HttpUser):
    wait_time = constant(0)

    @task
    async def health(self) -> None:
        await self.client.get("/health")
