"""`locust` inside a loadforge run: the names a locustfile imports, over loadforge's engine.

Which names exist and what differs from Locust: docs/locust.md.
"""

import importlib
import importlib.util
from typing import Any

from loadforge.compat import missing
from loadforge.compat.locust import events
from loadforge.compat.locust.users import FastHttpUser, HttpUser, User
from loadforge.scenario.shape import LoadTestShape
from loadforge.scenario.task import tag, task
from loadforge.scenario.taskset import SequentialTaskSet, TaskSet
from loadforge.scenario.wait import between, constant, constant_pacing, constant_throughput

__version__ = "2.47.0"  # the Locust API this layer follows

_RENAMED = {
    "HttpLocust": "HttpLocust was renamed HttpUser in Locust 1.0: "
    "`from locust import HttpUser` and subclass it",
    "Locust": "Locust was renamed User in Locust 1.0: `from locust import User`",
    "TaskSequence": "TaskSequence was renamed SequentialTaskSet in Locust 1.0",
    "seq_task": "seq_task was removed in Locust 1.0: use @task in a SequentialTaskSet, "
    "in the order the tasks should run",
}


def run_single_user(*args: Any, **kwargs: Any) -> None:
    """Locust's in-process debugging run. A file may import it (for `__main__`); calling it
    under loadforge says what to do instead."""
    raise NotImplementedError(
        "run_single_user is not available under loadforge: run the file with "
        "`loadforge run FILE -u 1 -t 10s --headless`"
    )


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    # `from locust import stats` / `runners` / `env`: the layer's submodules.
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise missing("locust", name, _RENAMED.get(name, ""))


__all__ = [
    "FastHttpUser",
    "HttpUser",
    "LoadTestShape",
    "SequentialTaskSet",
    "TaskSet",
    "User",
    "__version__",
    "between",
    "constant",
    "constant_pacing",
    "constant_throughput",
    "events",
    "run_single_user",
    "tag",
    "task",
]
