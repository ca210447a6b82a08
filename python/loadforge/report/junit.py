"""`--junit PATH`: one testcase per threshold, so CI systems list them like tests.

A failed threshold is a <failure> carrying the observed value; a run that broke adds an
<error> testcase saying why. Written from the summary dict, so a saved JSON re-renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from .units import observed


def _observed(v: dict[str, Any]) -> str:
    return observed(v.get("observed"), v.get("unit") or "")


def render(summary: dict[str, Any], name: str = "loadforge") -> str:
    """JUnit XML text for a run summary (`Result.to_dict()`)."""
    verdicts = summary.get("thresholds", [])
    failed = [v for v in verdicts if not v["passed"]]
    broken = summary.get("broken") or ""
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(verdicts) + (1 if broken else 0)),
        failures=str(len(failed)),
        errors="1" if broken else "0",
        time=f"{summary.get('duration_s', 0.0):.3f}",
        timestamp=str(summary.get("started_at", "")),
    )
    for v in verdicts:
        case = ET.SubElement(
            suite, "testcase", classname=f"{name}.thresholds", name=f"{v['scope']}: {v['expr']}"
        )
        if not v["passed"]:
            failure = ET.SubElement(case, "failure", message=f"observed {_observed(v)}")
            failure.text = (
                f"threshold {v['expr']!r} on {v['scope']} failed: observed {_observed(v)}"
            )
    if broken:
        case = ET.SubElement(suite, "testcase", classname=f"{name}.run", name="run")
        ET.SubElement(case, "error", message=broken).text = broken
    total = summary.get("total", {})
    props = ET.SubElement(suite, "properties")
    for key in ("requests", "failures", "rps"):
        ET.SubElement(props, "property", name=key, value=str(total.get(key, "")))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode")


def write(result: Any, path: str) -> None:
    """Write the JUnit XML for a `Result` (or a summary dict) to `path`."""
    summary = result if isinstance(result, dict) else result.to_dict()
    Path(path).write_text(render(summary) + "\n")
