"""The controller scale benchmark's harness on a small scale: simulated workers over real
gRPC streams, every snapshot merged, none lost, CPU and merge cost measured."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHES = Path(__file__).resolve().parent.parent / "benches"


def test_scale_harness_merges_every_simulated_snapshot(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(BENCHES))
    import controller_scale

    args = controller_scale.argparse.Namespace(
        workers=12, endpoints=20, requests=50, duration=3, simulators=2
    )
    result = controller_scale.measure(args)
    assert result["lost_workers"] == 0
    assert result["snapshots_merged"] == result["snapshots_sent"] >= 12 * 3
    # Every snapshot carries 20 endpoints x 50 requests; the Done's interval is empty.
    assert result["requests_merged"] == (result["snapshots_sent"] - 12) * 20 * 50
    assert 0 < result["cpu_percent_mean"]
    assert result["merge_us_per_snapshot"] > 0
    assert "controller CPU" in controller_scale.render(result)
    sys.modules.pop("controller_scale", None)
