"""Locust files run unchanged: `from locust import ...`, synchronous tasks, Locust's client,
events and flags, against the real demo target, with loadforge's counts equal to what the
server answered.

Each scenario here is written as a Locust user writes it (no loadforge imports); the runs
go through `loadforge run` in a child process or `loadforge.run()`, so the worker processes,
the engine and the controller are the real ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import loadforge
from loadforge.testing import DemoProcess

pytestmark = pytest.mark.slow


def write(folder: Path, text: str, name: str = "locustfile.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadforge", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **(env or {})},
    )


def served(demo: DemoProcess, path: str) -> int:
    return sum(demo.stats()["http"].get(path, {}).values())


def requests_of(summary: dict[str, Any], name: str, method: str = "GET") -> int:
    for ep in summary["endpoints"]:
        if ep["name"] == name and ep["method"] == method:
            return int(ep["requests"])
    return 0


SHOP = """
    import time
    from locust import HttpUser, SequentialTaskSet, TaskSet, between, constant, tag, task

    def browse(user):
        user.client.get("/", name="home")

    class Checkout(SequentialTaskSet):
        def on_start(self):
            self.client.get("/status/201", name="checkout-enter")

        @task
        def cart(self):
            self.client.get("/status/202", name="cart")

        @task
        def pay(self):
            with self.client.post("/predict", json={"data": [0.5] * 784},
                                  catch_response=True) as r:
                if "prediction" not in r.json():
                    r.failure("no prediction")
            self.interrupt()

    class Browse(TaskSet):
        tasks = {Checkout: 1}

        @task(2)
        def page(self):
            r = self.client.get("/health")
            assert r.status_code == 200 and r.json()["status"] == "healthy"

        @task
        def leave(self):
            self.interrupt()

    class Shopper(HttpUser):
        wait_time = between(0.001, 0.003)
        tasks = [browse, Browse]

        def on_start(self):
            r = self.client.post("/login", json={"username": "ann", "password": "pw"})
            assert r.ok and self.client.cookies.get("session") == "tok-ann"

        @task(2)
        def me(self):
            r = self.client.get("/me")
            assert r.json() == {"user": "ann", "via": "cookie"}, r.text
            time.sleep(0.002)

        @tag("slow")
        @task
        def redirected(self):
            r = self.client.get("/redirect", params={"to": "/status/203", "code": 307})
            assert r.status_code == 203 and [h.status_code for h in r.history] == [307]

    class Admin(HttpUser):
        fixed_count = 1
        def wait_time(self):
            return 0.005

        @task
        def lookup(self):
            with self.client.rename_request("/status/[code]"):
                self.client.get("/status/204")
"""


def test_a_locust_file_runs_unchanged_and_counts_match_the_server(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    path = write(tmp_path, SHOP)
    demo_target.reset()
    result = loadforge.run(
        path, users=6, spawn_rate=100, run_time="2s", host=demo_target.http_url, processes=2
    )
    assert result.stats is not None and result.stats.exceptions == {}, result.stats.exceptions
    assert result.total.failures == 0
    ep = result.endpoints
    # Every request the server answered is in the statistics, under Locust's names.
    assert ep["POST /login"].requests == served(demo_target, "/login") >= 5
    assert ep["GET /me"].requests == served(demo_target, "/me") > 20
    assert ep["GET home"].requests == served(demo_target, "/") > 0
    assert ep["GET /health"].requests == served(demo_target, "/health") > 0
    assert ep["GET checkout-enter"].requests == served(demo_target, "/status/201") > 0
    assert ep["GET cart"].requests == served(demo_target, "/status/202")
    assert ep["POST /predict"].requests == served(demo_target, "/predict") > 0
    # A redirect is one request under the first URL (path with query), timed end to end.
    name = "/redirect?to=%2Fstatus%2F203&code=307"
    assert ep[f"GET {name}"].requests == served(demo_target, "/redirect") > 0
    assert served(demo_target, "/status/203") == served(demo_target, "/redirect")
    assert ep["GET /status/[code]"].requests == served(demo_target, "/status/204") > 50
    # The sequential set ran cart before pay, every time it was entered.
    assert ep["GET cart"].requests >= ep["POST /predict"].requests


def test_exclude_tags_and_user_class_choice_follow_locust(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    write(tmp_path, SHOP)
    demo_target.reset()
    done = cli(
        "run", "-f", "locustfile.py", "Admin", "-H", demo_target.http_url, "-u", "2",
        "-t", "1s", "--headless", "--processes", "1", "--only-summary",
        "--json-file", "out", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "out.json").read_text())
    assert {e["name"] for e in summary["endpoints"]} == {"/status/[code]"}
    assert served(demo_target, "/me") == 0

    demo_target.reset()
    done = cli(
        "run", "-H", demo_target.http_url, "-u", "3", "-t", "1s", "--headless",
        "--processes", "1", "-E", "slow", "--json", "out2.json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert served(demo_target, "/redirect") == 0 and served(demo_target, "/me") > 0


def test_sleeping_sync_users_do_not_block_each_other(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    path = write(
        tmp_path,
        """
        import time
        import gevent
        from locust import HttpUser, constant, task

        class Sleeper(HttpUser):
            wait_time = constant(0)

            @task
            def nap(self):
                time.sleep(0.5)
                self.client.get("/status/200")
                gevent.sleep(0.5)
        """,
    )
    demo_target.reset()
    start = time.monotonic()
    result = loadforge.run(
        path, users=300, spawn_rate=10_000, run_time="3s", host=demo_target.http_url, processes=1
    )
    took = time.monotonic() - start
    # 300 users each sleeping 1 s per request: ~900 requests in 3 s when sleeps overlap,
    # 3 if one sleeper blocked the others.
    assert result.endpoints["GET /status/200"].requests == served(demo_target, "/status/200")
    assert result.endpoints["GET /status/200"].requests >= 500
    assert took < 15


def test_quitting_listener_sets_the_exit_code_from_the_merged_stats(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    write(
        tmp_path,
        """
        import json
        from locust import HttpUser, constant, events, task
        from locust.runners import LocalRunner, MasterRunner, WorkerRunner

        seen = []

        @events.init.add_listener
        def on_init(environment, **kwargs):
            seen.append(type(environment.runner).__name__)

        @events.quitting.add_listener
        def gate(environment, **kwargs):
            total = environment.stats.total
            with open("gate.json", "w") as f:
                json.dump({
                    "requests": total.num_requests, "failures": total.num_failures,
                    "fail_ratio": total.fail_ratio, "p95": total.get_response_time_percentile(0.95),
                    "avg": total.avg_response_time, "rps": total.total_rps,
                    "ok_requests": environment.stats.get("/status/200", "GET").num_requests,
                    "runners": seen,
                }, f)
            if total.fail_ratio > 0.1:
                environment.process_exit_code = 5

        class Mixed(HttpUser):
            wait_time = constant(0.005)

            @task(3)
            def ok(self):
                self.client.get("/status/200")

            @task
            def broken(self):
                self.client.get("/status/503")
        """,
    )
    done = cli(
        "run", "-H", demo_target.http_url, "-u", "4", "-t", "2s", "--headless",
        "--processes", "2", "--json", "run.json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 5, done.stderr
    gate = json.loads((tmp_path / "gate.json").read_text())
    summary = json.loads((tmp_path / "run.json").read_text())
    # The listener read the exact merged figures of both workers.
    assert gate["requests"] == summary["total"]["requests"] > 50
    assert gate["failures"] == summary["total"]["failures"] > 0
    assert gate["p95"] == pytest.approx(summary["total"]["latency_ms"]["p95"])
    assert gate["ok_requests"] == requests_of(summary, "/status/200")
    assert gate["runners"] == ["LocalRunner"]
    assert summary["exit_code"] == 5 and "listener" in summary["verdict"]


def test_without_thresholds_a_failed_request_fails_the_run_as_in_locust(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    write(
        tmp_path,
        """
        from locust import HttpUser, constant, task

        class Api(HttpUser):
            wait_time = constant(0.01)

            @task
            def missing(self):
                self.client.get("/status/404")
        """,
    )
    args = ["run", "-H", demo_target.http_url, "-u", "1", "-t", "1s", "--headless"]
    done = cli(*args, "--processes", "1", cwd=tmp_path)
    assert done.returncode == 1 and "no thresholds" in done.stdout, done.stdout
    done = cli(*args, "--processes", "1", "--exit-code-on-error", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stdout


def test_custom_arguments_reach_listeners_and_users_on_the_workers(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    write(
        tmp_path,
        """
        from locust import HttpUser, constant, events, task

        @events.test_start.add_listener
        def broken_listener(environment, **kwargs):
            raise RuntimeError("boom")

        @events.init_command_line_parser.add_listener
        def arguments(parser):
            parser.add_argument("--status-code", type=int, default=200, help="status to ask for")
            parser.add_argument("--label", type=str, env_var="LOCUST_LABEL", default="none")

        class Api(HttpUser):
            wait_time = constant(0.01)

            @task
            def ask(self):
                options = self.environment.parsed_options
                self.client.get(f"/status/{options.status_code}", name=options.label)
        """,
    )
    demo_target.reset()
    done = cli(
        "run", "-H", demo_target.http_url, "-u", "2", "-t", "1s", "--headless",
        "--processes", "1", "--status-code", "206", "--json", "run.json", cwd=tmp_path,
        env={"LOCUST_LABEL": "labelled"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # A listener that raises is reported (once per place and process), not fatal.
    assert "events.test_start raised RuntimeError: boom" in done.stderr
    summary = json.loads((tmp_path / "run.json").read_text())
    assert requests_of(summary, "labelled") == served(demo_target, "/status/206") > 10
    assert "--status-code" in cli("run", "--help", cwd=tmp_path).stdout


def test_locust_conf_and_locust_variables_configure_the_run(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    write(
        tmp_path,
        """
        from locust import FastHttpUser, constant, task

        class Api(FastHttpUser):
            wait_time = constant(0.01)

            @task
            def predict(self):
                with self.rest("POST", "/predict", json={"data": [0.5] * 784}) as resp:
                    assert resp.js["prediction"] >= 0
                # FastHttpUser names a request by the URL as given (params not included).
                self.client.get("/echo", params={"a": "1"})
        """,
    )
    (tmp_path / "locust.conf").write_text(
        "# as Locust reads it\nheadless = true\nusers = 2\nrun-time = 2s\nspawn-rate = 100\n"
        f"host = {demo_target.http_url}\njson = false\nprocesses = 1\n"
    )
    demo_target.reset()
    done = cli("run", "--json", "run.json", cwd=tmp_path, env={"LOCUST_USERS": "3"})
    assert done.returncode == 0, done.stderr + done.stdout
    summary = json.loads((tmp_path / "run.json").read_text())
    assert requests_of(summary, "/predict", "POST") == served(demo_target, "/predict") > 10
    assert requests_of(summary, "/echo") == served(demo_target, "/echo")
    assert max(p["users"] for p in summary["time_series"]) == 3


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("from locust import HttpLocust\n", "HttpLocust was renamed HttpUser"),
        ("from locust import NoSuchThing\n", "locust.NoSuchThing is not supported"),
        ("import locust.web\n", "module locust.web is not supported"),
        (
            "from locust import HttpUser, task\nclass A(HttpUser):\n    min_wait = 100\n"
            "    @task\n    def t(self):\n        pass\n",
            "use `wait_time = between(min, max)`",
        ),
    ],
)
def test_what_the_layer_lacks_is_named_with_file_and_line_before_firing(
    tmp_path: Path, source: str, message: str
) -> None:
    path = write(tmp_path, source, "bad.py")
    done = cli("run", str(path), "-H", "http://127.0.0.1:9", "-t", "1s", "--headless", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{path}:" in done.stderr and message in done.stderr, done.stderr


def test_unsupported_and_renamed_flags_are_refused(tmp_path: Path) -> None:
    write(tmp_path, SHOP)
    for flag, words in (("--web-port", "web UI"), ("--hatch-rate", "--spawn-rate")):
        done = cli("run", flag, "3", cwd=tmp_path)
        assert done.returncode == 2 and words in done.stderr, done.stderr
    done = cli("run", "-l", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.split() == ["Shopper", "Admin"]


def test_events_request_listeners_and_custom_clients_and_runner_quit(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    write(
        tmp_path,
        """
        import time
        import gevent
        from locust import User, HttpUser, constant, events, task
        from locust.exception import StopUser

        calls = {"n": 0, "failed": 0}

        @events.request.add_listener
        def count(request_type, name, response_time, response_length, exception, **kwargs):
            calls["n"] += 1
            calls["failed"] += exception is not None
            assert response_time >= 0 and "context" in kwargs
            assert request_type == "MQ" or kwargs["response"].status_code > 0

        @events.test_stop.add_listener
        def report(environment, **kwargs):
            from locust.runners import WorkerRunner
            if isinstance(environment.runner, WorkerRunner):
                print("LISTENER", calls["n"], calls["failed"], flush=True)

        class Queue(User):
            wait_time = constant(0.01)

            @task
            def publish(self):
                start = time.perf_counter()
                time.sleep(0.002)
                took_ms = (time.perf_counter() - start) * 1000
                self.environment.events.request.fire(
                    request_type="MQ", name="publish", response_time=took_ms,
                    response_length=10, exception=None, context={},
                )

        class Web(HttpUser):
            wait_time = constant(0.01)

            @task
            def fan_out(self):
                jobs = [gevent.spawn(self.client.get, "/status/200") for _ in range(3)]
                gevent.joinall(jobs)
                assert all(j.value.status_code == 200 for j in jobs)
                self.client.get("/status/500")
                if self.environment.stats.total.num_requests == 0 and time.time() > 0:
                    pass

        class Quitter(HttpUser):
            fixed_count = 1
            wait_time = constant(0.01)

            @task
            def maybe_quit(self):
                self.client.get("/health")
                if not hasattr(self, "started"):
                    self.started = time.time()
                if time.time() - self.started > 1.5:
                    self.environment.runner.quit()
                    raise StopUser()
        """,
    )
    demo_target.reset()
    start = time.monotonic()
    done = cli(
        "run", "-H", demo_target.http_url, "-u", "3", "-r", "100", "-t", "20s", "--headless",
        "--processes", "1", "--json", "run.json", "--exit-code-on-error", "0", cwd=tmp_path,
    )  # fmt: skip
    took = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    assert took < 12, "runner.quit() did not end the run"
    summary = json.loads((tmp_path / "run.json").read_text())
    assert "runner.quit()" in summary["stopped_by"]
    assert requests_of(summary, "publish", "MQ") > 20
    assert requests_of(summary, "/status/200") == served(demo_target, "/status/200")
    assert requests_of(summary, "/status/200") == 3 * requests_of(summary, "/status/500")
    listener = [line for line in done.stdout.splitlines() if line.startswith("LISTENER")]
    n, failed = map(int, listener[0].split()[1:])
    # Every HTTP request and every fired MQ request reached the listener.
    assert n == summary["total"]["requests"]
    assert failed == requests_of(summary, "/status/500")


def test_a_stopped_user_is_not_replaced(tmp_path: Path, demo_target: DemoProcess) -> None:
    path = write(
        tmp_path,
        """
        from locust import HttpUser, constant, task

        class Once(HttpUser):
            wait_time = constant(0)

            @task
            def once(self):
                self.client.get("/status/200")
                self.stop()
        """,
    )
    demo_target.reset()
    result = loadforge.run(
        path, users=5, spawn_rate=100, run_time="1s", host=demo_target.http_url, processes=1
    )
    assert result.endpoints["GET /status/200"].requests == served(demo_target, "/status/200") == 5


def test_same_endpoint_names_as_real_locust(tmp_path: Path, demo_target: DemoProcess) -> None:
    """Where real Locust is installed, the same file gives the same endpoint rows."""
    locust_bin = os.environ.get("LOCUST_BIN") or _real_locust()
    if locust_bin is None:
        pytest.skip("real Locust is not installed (set LOCUST_BIN to a locust executable)")
    write(tmp_path, SHOP)
    done = subprocess.run(
        [locust_bin, "-f", "locustfile.py", "--headless", "-u", "4", "-r", "100", "-t", "2s",
         "-H", demo_target.http_url, "--csv", "real", "--only-summary"],
        cwd=tmp_path, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert (tmp_path / "real_stats.csv").exists(), done.stderr
    ours = cli(
        "run", "-H", demo_target.http_url, "-u", "4", "-r", "100", "-t", "2s", "--headless",
        "--processes", "1", "--csv", "ours", cwd=tmp_path,
    )  # fmt: skip
    assert ours.returncode == 0, ours.stderr

    def rows(prefix: str) -> set[tuple[str, str]]:
        lines = (tmp_path / f"{prefix}_stats.csv").read_text().splitlines()[1:]
        return {tuple(line.split(",")[:2]) for line in lines}  # type: ignore[misc]

    assert rows("ours") == rows("real")


def _real_locust() -> str | None:
    import shutil

    return shutil.which("locust")


def test_sync_grpc_user_tasks_block_per_call(tmp_path: Path) -> None:
    from grpc_target import GrpcTarget, find_endpoint, grpc_scenario

    path = grpc_scenario(
        tmp_path,
        """
        import time
        from echo_pb2 import EchoReply, EchoRequest
        from helloworld_pb2 import HelloReply, HelloRequest
        from loadforge import GrpcUser, constant, task

        class Sync(GrpcUser):
            wait_time = constant(0.001)

            def on_start(self):
                self.client.metadata = {"x-user": "sync"}

            @task
            def hello(self):
                r = self.client.unary("/helloworld.Greeter/SayHello", HelloRequest(name="a"),
                                      HelloReply)
                assert r.ok and r.message.message, r
                time.sleep(0.001)

            @task
            def count(self):
                call = self.client.server_stream(
                    "/echo.Echo/Count", EchoRequest(text="x", count=5), EchoReply)
                seen = [reply.index for reply in call]
                assert not call.result().ok or seen == list(range(5)), seen
        """,
    )
    with GrpcTarget() as target:
        result = loadforge.run(path, host=target.url, users=4, spawn_rate=100, run_time=2,
                               processes=1)  # fmt: skip
    assert result.stats is not None and result.stats.exceptions == {}
    hello = find_endpoint(result, "/helloworld.Greeter/SayHello", "GRPC")
    assert hello.failures == 0 and hello.requests == target.calls["SayHello"] > 20
    count = find_endpoint(result, "/echo.Echo/Count", "GRPC")
    assert count.requests == target.calls["Count"] > 20
    assert any(m.get("x-user") == "sync" for m in target.metadata)


def test_a_task_that_spins_forever_does_not_keep_the_run_from_ending(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    write(
        tmp_path,
        """
        from locust import HttpUser, constant, task

        class Spinner(HttpUser):
            wait_time = constant(0.05)

            @task
            def spin(self):
                self.client.get("/status/200")
                if self.user_id % 2 == 0:
                    while True:
                        pass
        """,
    )
    start = time.monotonic()
    done = cli(
        "run", "-H", demo_target.http_url, "-u", "4", "-r", "100", "-t", "3s", "--headless",
        "--processes", "1", "--json", "run.json", cwd=tmp_path,
    )  # fmt: skip
    took = time.monotonic() - start
    assert done.returncode == 1, done.stderr  # the blocked task counts as a task exception
    assert took < 12
    assert "task 'spin' is blocking the event loop" in done.stderr
    summary = json.loads((tmp_path / "run.json").read_text())
    assert any("held the event loop" in e["traceback"] for e in summary["exceptions"]), summary
    assert summary["broken"] == ""


def test_master_and_worker_flags_run_the_one_path(tmp_path: Path, demo_target: DemoProcess) -> None:
    from loadforge.testing.ports import free_port

    write(
        tmp_path,
        """
        from locust import HttpUser, constant, task

        class Api(HttpUser):
            wait_time = constant(0.01)

            @task
            def ok(self):
                self.client.get("/status/200")
        """,
    )
    port = str(free_port())
    demo_target.reset()
    master = subprocess.Popen(
        [sys.executable, "-m", "loadforge", "run", "-f", "locustfile.py", "--master",
         "--expect-workers", "1", "--master-bind-port", port, "--headless", "-u", "3",
         "-r", "100", "-t", "2s", "-H", demo_target.http_url, "--json", "run.json"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "loadforge", "run", "-f", "locustfile.py", "--worker",
         "--master-host", "127.0.0.1", "--master-port", port],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _, err = master.communicate(timeout=60)
        _, worker_err = worker.communicate(timeout=30)
    finally:
        for proc in (master, worker):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert master.returncode == 0, err
    assert worker.returncode == 0, worker_err
    summary = json.loads((tmp_path / "run.json").read_text())
    assert requests_of(summary, "/status/200") == served(demo_target, "/status/200") > 50
    assert [w["id"] for w in summary["workers"]] and not summary["workers"][0]["lost"]


def test_open_model_runs_sync_users_and_keeps_their_start_delay(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    path = write(
        tmp_path,
        """
        import time
        from locust import HttpUser, task

        class Api(HttpUser):
            def on_start(self):
                self.client.post("/login", json={"username": "o", "password": "pw"})

            @task
            def me(self):
                assert self.client.get("/me").json()["user"] == "o"
                time.sleep(0.01)
        """,
    )
    demo_target.reset()
    result = loadforge.run(
        path, arrival_rate=100, users=50, run_time="2s", host=demo_target.http_url, processes=1
    )
    assert result.stats is not None and result.stats.exceptions == {}
    me = result.endpoints["GET /me"]
    assert me.requests == served(demo_target, "/me")
    assert 150 <= me.requests <= 210  # 100 iterations/s for 2 s
    assert result.open_model and result.dropped_iterations == 0


def test_catch_response_with_plain_with_in_async_def_still_records_the_request(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    path = write(
        tmp_path,
        """
        from loadforge import HttpUser, constant, task

        class Api(HttpUser):
            wait_time = constant(0.01)

            @task
            async def habit(self):
                with self.client.get("/status/200", catch_response=True) as r:
                    r.success()
        """,
        "async_with.py",
    )
    demo_target.reset()
    result = loadforge.run(path, users=2, run_time="1s", host=demo_target.http_url, processes=1)
    served_now = served(demo_target, "/status/200")
    assert result.endpoints["GET /status/200"].requests == served_now > 5
    assert result.stats is not None
    raised = sum(e.count for e in result.stats.exceptions.values())
    assert raised >= served_now - 2  # every such task fails loudly ...
    assert result.exit_code == 1 and "task exception" in result.verdict  # ... and the verdict


def test_what_real_files_do_at_import_and_with_shared_locks(
    tmp_path: Path, demo_target: DemoProcess
) -> None:
    path = write(
        tmp_path,
        """
        from gevent.lock import Semaphore
        from locust import HttpUser, between, run_single_user, runners, stats, task
        from locust.env import Environment

        stats.CSV_STATS_INTERVAL_SEC = 1
        library_env = Environment(user_classes=[], host="http://unused")
        one_at_a_time = Semaphore(1)
        inside = []

        class Api(HttpUser):
            wait_time = between(0.001, 0.002)

            @task
            def locked(self):
                assert self.host.startswith("http://127.0.0.1")  # -H, as Locust sets it
                with one_at_a_time:
                    inside.append(1)
                    assert len(inside) == 1
                    self.client.get(f"{self.host}/status/200", name="locked")
                    inside.pop()

        if __name__ == "__main__":
            run_single_user(Api)
        """,
    )
    demo_target.reset()
    result = loadforge.run(path, users=5, spawn_rate=100, run_time="1s",
                           host=demo_target.http_url, processes=1)  # fmt: skip
    assert result.stats is not None and result.stats.exceptions == {}
    assert result.endpoints["GET locked"].requests == served(demo_target, "/status/200") > 20
