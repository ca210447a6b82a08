"""Across hosts: target, controller and worker each in a network namespace this test builds
itself (`ip netns`, veth pairs), so the plan, the snapshots and the load really cross
network interfaces.

    ns "ctl" 10.231.1.1 --veth-- 10.231.1.2 ns "wrk" 10.231.2.2 --veth-- 10.231.2.1 ns "tgt"
       controller                         worker                          demo target

The private addresses exist only inside these namespaces; the namespaces get unique names
per run and are deleted afterwards. Needs root and iproute2; skipped otherwise.
"""

from __future__ import annotations

import os
import secrets
import selectors
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from distributed_run import SCENARIO, controller_port

CTL_ADDR, WRK_CTL_ADDR = "10.231.1.1", "10.231.1.2"
TGT_ADDR, WRK_TGT_ADDR = "10.231.2.1", "10.231.2.2"
TOKEN = "netns-test-token"


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


class Namespaces:
    """Network namespaces and veth pairs made for one test; `close()` removes them all."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(3)
        self.names: list[str] = []
        self.procs: list[subprocess.Popen[str]] = []

    def add(self, role: str) -> str:
        name = f"lf-{role}-{os.getpid()}-{self.tag}"
        done = _ip("netns", "add", name)
        if done.returncode != 0:
            raise OSError(f"ip netns add {name}: {done.stderr.strip()}")
        self.names.append(name)
        self._in(name, "ip", "link", "set", "lo", "up")
        return name

    def link(self, a: str, addr_a: str, b: str, addr_b: str) -> tuple[str, str]:
        """A veth pair between namespaces a and b on a /24; the interface names."""
        end_a, end_b = f"v{secrets.token_hex(3)}a", f"v{secrets.token_hex(3)}b"
        done = _ip("link", "add", end_a, "netns", a, "type", "veth", "peer", "name", end_b,
                   "netns", b)  # fmt: skip
        if done.returncode != 0:
            raise OSError(f"ip link add veth: {done.stderr.strip()}")
        for ns, end, addr in ((a, end_a, addr_a), (b, end_b, addr_b)):
            self._in(ns, "ip", "addr", "add", f"{addr}/24", "dev", end)
            self._in(ns, "ip", "link", "set", end, "up")
        return end_a, end_b

    def _in(self, ns: str, *cmd: str) -> str:
        done = subprocess.run(
            ["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, timeout=10
        )
        if done.returncode != 0:
            raise OSError(f"in {ns}: {' '.join(cmd)}: {done.stderr.strip()}")
        return done.stdout

    def python(self, ns: str, *args: str) -> subprocess.Popen[str]:
        """`python ARGS` inside namespace `ns`, output captured."""
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        return proc

    def counter(self, ns: str, interface: str, name: str) -> int:
        return int(self._in(ns, "cat", f"/sys/class/net/{interface}/statistics/{name}"))

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        for name in self.names:
            _ip("netns", "del", name)


@pytest.fixture
def namespaces() -> Iterator[Namespaces]:
    if os.geteuid() != 0:
        pytest.skip("building network namespaces needs root")
    if shutil.which("ip") is None:
        pytest.skip("iproute2's `ip` is not installed")
    nets = Namespaces()
    try:
        try:
            nets.add("probe")
        except OSError as err:
            pytest.skip(f"`ip netns` is unavailable here: {err}")
        yield nets
    finally:
        nets.close()
    leftover = _ip("netns", "list").stdout
    assert nets.tag not in leftover, f"namespaces left behind: {leftover}"


def _banner(proc: subprocess.Popen[str], timeout_s: float = 15.0) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            raise AssertionError("demo target did not start in its namespace")
    return proc.stdout.readline().strip()


def _served(nets: Namespaces, ns: str, url: str) -> int:
    """The target's own count, asked from inside its namespace."""
    probe = nets.python(
        ns,
        "-c",
        f"import urllib.request; print(urllib.request.urlopen('{url}/stats').read().decode())",
    )
    out, err = probe.communicate(timeout=15)
    assert probe.returncode == 0, err
    return int(orjson.loads(out)["http_total"])


def test_controller_worker_and_target_in_separate_namespaces(
    namespaces: Namespaces, tmp_path: Path
) -> None:
    nets = namespaces
    ctl, wrk, tgt = nets.add("ctl"), nets.add("wrk"), nets.add("tgt")
    _, wrk_to_ctl = nets.link(ctl, CTL_ADDR, wrk, WRK_CTL_ADDR)
    _, wrk_to_tgt = nets.link(tgt, TGT_ADDR, wrk, WRK_TGT_ADDR)

    demo = nets.python(tgt, "-m", "loadforge.demo", "--host", TGT_ADDR, "--port", "0",
                       "--grpc-port", "0")  # fmt: skip
    words = _banner(demo).split()
    assert words[:2] == ["demo", "target:"], words
    target_url = words[2]
    assert target_url.startswith(f"http://{TGT_ADDR}:")

    scenario = tmp_path / "scenario.py"
    scenario.write_text(SCENARIO)
    summary_path = tmp_path / "result.json"
    controller = nets.python(
        ctl, "-m", "loadforge", "controller", str(scenario), "-H", target_url,
        "--bind", f"{CTL_ADDR}:0", "--token", TOKEN, "-u", "4", "-r", "100", "-t", "3s",
        "--expect-workers", "1", "--expect-timeout", "15", "--json", str(summary_path), "-q",
    )  # fmt: skip
    port = controller_port(controller)
    worker = nets.python(wrk, "-m", "loadforge", "worker", "--controller", f"{CTL_ADDR}:{port}",
                         "--token", TOKEN, "--id", "netns-worker")  # fmt: skip

    _, ctl_err = controller.communicate(timeout=40)
    _, wrk_err = worker.communicate(timeout=20)
    assert controller.returncode == 0, ctl_err
    assert worker.returncode == 0, wrk_err
    summary = orjson.loads(summary_path.read_bytes())
    total = summary["total"]["requests"]
    assert total > 0
    assert [w["id"] for w in summary["workers"]] == ["netns-worker"]
    assert total == _served(nets, tgt, target_url)
    # Every request left the worker's namespace through its veth towards the target, and
    # the plan and snapshots went through the one towards the controller.
    assert nets.counter(wrk, wrk_to_tgt, "tx_packets") >= total
    assert nets.counter(wrk, wrk_to_ctl, "tx_bytes") > 0
    assert nets.counter(wrk, wrk_to_ctl, "rx_bytes") > 0
