"""A movie catalogue API: status, lookup by id, lookup by title and year, equal weights.

Meant for a large run against a real catalogue service, e.g. 1000 users at 10/s:

    loadforge run scenarios/movies_api.py -u 1000 -r 10 -t 10m -H http://movies:8080

The ids and titles vary per request, so the tasks are `async def` (they run in the
worker's event loop; the engine still times every request at the socket). Requests are
grouped under templated names (`/api/id/[id]`) so the statistics stay readable.

Note: the built-in demo target has no such API; against it these requests answer 404
and count as failures.
"""

import random
from urllib.parse import quote

from loadforge import HttpUser, between, task

TITLES = [
    ("The Matrix", 1999),
    ("Spirited Away", 2001),
    ("Alien", 1979),
    ("Casablanca", 1942),
    ("Parasite", 2019),
    ("Amelie", 2001),
]


class MovieFan(HttpUser):
    wait_time = between(5, 9)

    @task
    async def status(self):
        await self.client.get("/status")

    @task
    async def by_id(self):
        movie_id = random.randint(1, 10_000)
        await self.client.get(f"/api/id/{movie_id}", name="/api/id/[id]")

    @task
    async def by_title(self):
        title, year = random.choice(TITLES)
        path = f"/api/title/{quote(title)}/{year}"
        await self.client.get(path, name="/api/title/[title]/[year]")
