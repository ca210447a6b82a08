"""TLS and mutual TLS between controller and workers, with certificates made by the test.

A worker that cannot verify the controller, or that the controller cannot verify, must
stop with a clear message (exit 3) having received nothing of the plan: the demo target
then has served no request at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed_run import Run, served
from tls_certs import CertificateAuthority, Pair

from loadforge.testing import DemoProcess


@pytest.fixture
def demo(demo_target: DemoProcess) -> Iterator[DemoProcess]:
    demo_target.reset()
    yield demo_target


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    folder = tmp_path / "pki"
    folder.mkdir()
    return CertificateAuthority(folder)


@pytest.fixture
def controller_pair(ca: CertificateAuthority) -> Pair:
    return ca.issue("controller", server=True)


@pytest.fixture
def runs(tmp_path: Path, demo: DemoProcess) -> Iterator[list[Run]]:
    started: list[Run] = []
    yield started
    for run in started:
        run.kill_all()


def _start(runs: list[Run], tmp: Path, demo: DemoProcess, *args: str) -> Run:
    run = Run(tmp, demo, *args)
    runs.append(run)
    return run


def test_tls_worker_trusting_the_ca_runs_the_plan(
    runs: list[Run],
    tmp_path: Path,
    demo: DemoProcess,
    ca: CertificateAuthority,
    controller_pair: Pair,
) -> None:
    run = _start(
        runs, tmp_path, demo, "-u", "2", "-t", "2s",
        "--tls-cert", controller_pair.cert, "--tls-key", controller_pair.key,
    )  # fmt: skip
    worker = run.worker("tls-worker", "--tls-ca", ca.ca)
    code, summary, err = run.finish()
    assert code == 0, err
    assert worker.returncode == 0
    assert summary["total"]["requests"] > 0  # type: ignore[index]
    assert summary["total"]["requests"] == served(demo)  # type: ignore[index]


def test_worker_that_does_not_trust_the_controller_stops_with_a_clear_message(
    runs: list[Run], tmp_path: Path, demo: DemoProcess, controller_pair: Pair
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    stranger_ca = CertificateAuthority(other, "some other CA")
    run = _start(
        runs, tmp_path, demo, "-u", "2", "-t", "2s", "--expect-timeout", "4",
        "--tls-cert", controller_pair.cert, "--tls-key", controller_pair.key,
    )  # fmt: skip
    worker = run.worker("doubter", "--tls-ca", stranger_ca.ca, "--connect-timeout", "15")
    _, err = worker.communicate(timeout=20)
    assert worker.returncode == 3
    assert "TLS handshake with the controller failed" in err
    assert "CERTIFICATE_VERIFY_FAILED" in err
    code, _, ctl_err = run.finish()
    assert code == 3
    assert "expected 1 worker" in ctl_err
    assert served(demo) == 0


def test_mutual_tls_refuses_a_worker_without_a_client_certificate(
    runs: list[Run],
    tmp_path: Path,
    demo: DemoProcess,
    ca: CertificateAuthority,
    controller_pair: Pair,
) -> None:
    run = _start(
        runs, tmp_path, demo, "-u", "2", "-t", "2s", "--expect-timeout", "15",
        "--tls-cert", controller_pair.cert, "--tls-key", controller_pair.key, "--tls-ca", ca.ca,
    )  # fmt: skip
    anonymous = run.worker("anonymous", "--tls-ca", ca.ca, "--connect-timeout", "15")
    _, err = anonymous.communicate(timeout=20)
    assert anonymous.returncode == 3
    assert "requires a client certificate" in err
    assert served(demo) == 0, "a refused worker fired"

    # The same controller admits a worker whose certificate its CA signed.
    client = ca.issue("worker-1", server=False)
    admitted = run.worker(
        "admitted", "--tls-ca", ca.ca, "--tls-cert", client.cert, "--tls-key", client.key
    )
    code, summary, ctl_err = run.finish()
    assert code == 0, ctl_err
    assert admitted.returncode == 0
    assert [w["id"] for w in summary["workers"]] == ["admitted"]  # type: ignore[attr-defined]
    assert summary["total"]["requests"] == served(demo) > 0  # type: ignore[index]
