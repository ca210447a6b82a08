"""The loader: every kind of bad scenario is a short ScenarioError naming file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from loadforge.scenario import ScenarioError, load_scenario

HEADER = "from loadforge.scenario import HttpUser, task, between, constant, get, post, tag\n"


def write(tmp_path: Path, body: str, name: str = "scenario.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def error_of(path: Path, **kwargs: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)  # type: ignore[arg-type]
    err = info.value
    # Short: one line, no traceback text.
    assert "\n" not in str(err)
    assert "Traceback" not in str(err)
    return err


def line_of(path: Path, needle: str) -> int:
    return next(i for i, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = {get("/health"): 1
        x = = 2
    """,
    )
    err = error_of(path)
    assert err.file == str(path)
    assert err.line is not None and err.line >= 3
    assert str(err).startswith(f"{path}:{err.line}: syntax error")


def test_import_error_points_at_the_import_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        import os
        import no_such_module_here
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "no_such_module_here")
    assert "ModuleNotFoundError" in str(err)
    assert "no_such_module_here" in str(err)


def test_exception_in_helper_module_points_at_the_scenario_line(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("def boom():\n    raise RuntimeError('bad config')\n")
    path = write(
        tmp_path,
        """
        import helper
        VALUE = helper.boom()
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "helper.boom()")
    assert "RuntimeError: bad config" in str(err)


def test_no_user_classes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Base(HttpUser):
            abstract = True
            tasks = [get("/")]
    """,
    )
    err = error_of(path)
    assert "no user classes" in str(err)
    assert err.file == str(path)


def test_task_that_is_not_callable(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            wait_time = constant(0)
            tasks = {"/health": 1}
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "tasks = {")
    assert "not callable" in str(err)


def test_a_plain_def_task_loads_as_a_python_task(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            @task
            def index(self):
                pass
    """,
    )
    scenario = load_scenario(path)
    assert [t.python for t in scenario.users[0].tasks] == ["index"]
    assert scenario.users[0].python


def test_a_non_callable_task_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = [42]
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "tasks = [42]")
    assert "not callable" in str(err)


def test_bad_wait_time(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = [get("/")]
            wait_time = "fast"
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "wait_time =")
    assert "wait_time" in str(err)


def test_between_with_min_above_max_fails_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = [get("/")]
            wait_time = between(3, 1)
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "between(3, 1)")


def test_bad_weight(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = [get("/")]
            weight = 0
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "weight = 0")
    assert "weight" in str(err)


def test_bad_task_weight_in_dict(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = {get("/"): -2}
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "tasks = {")


def test_bad_task_decorator_weight(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            @task("often")
            async def index(self):
                pass
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, '@task("often")')


def test_host_that_is_not_http(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            host = "ftp://example"
            tasks = [get("/")]
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "host =")
    assert "http://" in str(err)


def test_bad_threshold_names_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = [get("/")]

        thresholds = [
            "p95 < 2s",
            "p95 < fast",
        ]
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "p95 < fast")
    assert "invalid threshold" in str(err)


def test_missing_data_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = [get("/")]

        data_files = ["missing.csv"]
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "missing.csv")


def test_class_with_no_tasks(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            wait_time = constant(1)
    """,
    )
    err = error_of(path)
    assert err.line == line_of(path, "class Api")
    assert "no tasks" in str(err)


def test_missing_file() -> None:
    err = error_of(Path("/nonexistent/scenario.py"))
    assert "not found" in str(err)


def test_good_scenario_with_helper_module_data_and_shape(tmp_path: Path) -> None:
    (tmp_path / "payloads.py").write_text("DATA = {'data': [0.5] * 784}\n")
    (tmp_path / "users.csv").write_text("alice\nbob\n")
    path = write(
        tmp_path,
        """
        from payloads import DATA
        from loadforge.scenario import LoadTestShape

        class Base(HttpUser):
            abstract = True
            wait_time = between(1, 3)

        class Api(Base):
            tasks = {get("/health"): 2, post("/predict", json=DATA): 10}

            @task(3)
            async def scripted(self):
                await self.client.get("/")

        class Steps(LoadTestShape):
            def tick(self):
                return None

        thresholds = ["p95 < 2s", ("POST /predict", "p99 < 500ms")]
        data_files = ["users.csv"]
    """,
    )
    scenario = load_scenario(path)
    assert [u.name for u in scenario.users] == ["Api"]
    api = scenario.users[0]
    assert api.python
    assert sorted((t.label, t.weight) for t in api.tasks) == [
        ("GET /health", 2),
        ("POST /predict", 10),
        ("scripted", 3),
    ]
    assert scenario.shape is not None and scenario.shape.__name__ == "Steps"
    assert [t.scope for t in scenario.thresholds] == ["total", "POST /predict"]
    files = {f.path: f for f in scenario.bundle.files}
    assert scenario.bundle.entry == "scenario.py"
    assert set(files) == {"scenario.py", "payloads.py", "users.csv"}
    import hashlib

    assert files["users.csv"].sha256 == hashlib.sha256(b"alice\nbob\n").hexdigest()


def test_tags_select_tasks_and_drop_empty_classes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class Api(HttpUser):
            tasks = [tag("smoke")(get("/health")), get("/")]

            @tag("slow")
            @task
            async def heavy(self):
                pass

        class Other(HttpUser):
            tasks = [get("/other")]
    """,
    )
    smoke = load_scenario(path, tags=["smoke"])
    assert [(u.name, [t.label for t in u.tasks]) for u in smoke.users] == [("Api", ["GET /health"])]
    no_slow = load_scenario(path, exclude_tags=["slow"])
    assert [t.label for t in no_slow.user("Api").tasks] == ["GET /health", "GET /"]
    with pytest.raises(ScenarioError, match="no tasks match"):
        load_scenario(path, tags=["nothing"])


def test_classes_select_by_name_or_type(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        class A(HttpUser):
            tasks = [get("/a")]

        class B(HttpUser):
            tasks = [get("/b")]
    """,
    )
    assert [u.name for u in load_scenario(path, classes=["B"]).users] == ["B"]
    with pytest.raises(ScenarioError, match="no user class named 'C'"):
        load_scenario(path, classes=["C"])


def test_inline_classes_without_a_path() -> None:
    from loadforge.scenario import HttpUser, get

    class Inline(HttpUser):
        host = "http://127.0.0.1:9"
        tasks = [get("/x")]

    scenario = load_scenario(None, classes=[Inline])
    assert scenario.classes == [Inline]
    assert scenario.path == Path(__file__).resolve()


def test_module_level_function_tasks_are_attached(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        async def visit(user):
            pass

        class Api(HttpUser):
            tasks = {visit: 2}
    """,
    )
    spec = load_scenario(path).users[0]
    (only,) = spec.tasks
    assert only.weight == 2
    assert getattr(spec.cls, only.python or "").__name__ == "visit"


def test_bundle_takes_packages_but_not_plain_folders(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "payload_pb2.py").write_text("X = 1\n")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "other.py").write_text("Y = 2\n")
    path = write(
        tmp_path,
        """
        import sys
        sys.path.append(str(__import__("pathlib").Path(__file__).parent / "plain"))
        import other
        from pkg import payload_pb2

        class Api(HttpUser):
            tasks = [get("/")]
    """,
        name="bundled_scenario.py",
    )
    scenario = load_scenario(path)
    assert sorted(f.path for f in scenario.bundle.files) == [
        "bundled_scenario.py",
        "pkg/__init__.py",
        "pkg/payload_pb2.py",
    ]
