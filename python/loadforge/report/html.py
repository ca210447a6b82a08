"""`--html PATH`: one self-contained report file that opens offline.

Charts are drawn by plotly.js, taken from the `plotly` Python package (which ships it) and
inlined, so the file needs no CDN. Rendered from the summary dict, so `loadforge report
results.json --html out.html` re-renders any saved run.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import orjson

_PERCENTILE_KEYS = ("p50", "p90", "p95", "p99", "p99.9", "max")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;
color:#1d2330}
header{background:#1d2330;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px} header .sub{opacity:.75;font-size:13px;margin-top:4px}
main{padding:20px 32px;max-width:1400px;margin:auto}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;font-size:13px;
margin-left:10px}
.pass{background:#1f9d55;color:#fff}.fail{background:#d64545;color:#fff}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0 20px}
.card{background:#fff;border-radius:8px;padding:12px 18px;box-shadow:0 1px 2px #0002;
min-width:120px}
.card .v{font-size:22px;font-weight:600}.card .k{font-size:12px;color:#667}
section{background:#fff;border-radius:8px;padding:14px 18px;margin-bottom:18px;
box-shadow:0 1px 2px #0002}
h2{font-size:16px;margin:0 0 10px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid #e5e7eb;text-align:right}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2){text-align:left}
tr.agg td{font-weight:600;border-top:2px solid #ccd}
td.ok{color:#1f9d55;font-weight:600}td.bad{color:#d64545;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:18px}
.chart{height:340px}
"""

_SCRIPT = """
const S = JSON.parse(document.getElementById('summary').textContent);
const ts = S.time_series || [];
const x = ts.map(p => p.elapsed_s);
const base = {margin:{t:30,r:20,b:40,l:60}, legend:{orientation:'h'}, hovermode:'x unified',
  xaxis:{title:{text:'elapsed (s)'}}};
const cfg = {displaylogo:false, responsive:true};
function line(y, name, color, extra) {
  return Object.assign({x:x, y:y, name:name, type:'scatter', mode:'lines',
    line:{color:color, width:2}}, extra || {});
}
Plotly.newPlot('chart-rps', [
  line(ts.map(p => p.rps), 'requests/s', '#2f6fde'),
  line(ts.map(p => p.failures_per_s), 'failures/s', '#d64545')],
  Object.assign({}, base, {title:{text:'Throughput'}, yaxis:{title:{text:'per second'}}}), cfg);
Plotly.newPlot('chart-latency', [
  line(ts.map(p => p.p50), 'p50', '#1f9d55'),
  line(ts.map(p => p.p95), 'p95', '#e6a23c'),
  line(ts.map(p => p.p99), 'p99', '#d64545')],
  Object.assign({}, base, {title:{text:'Response time (per second)'},
    yaxis:{title:{text:'ms'}}}), cfg);
Plotly.newPlot('chart-users', [
  line(ts.map(p => p.users), 'users', '#7a4fd6', {line:{shape:'hv', color:'#7a4fd6'}})],
  Object.assign({}, base, {title:{text:'Users'}, yaxis:{title:{text:'users'}}}), cfg);
const curve = (S.total && S.total.percentile_curve) || [];
const dist = [{x: curve.map(c => 100 / (100 - Math.min(c[0], 99.9999))),
  y: curve.map(c => c[1]), text: curve.map(c => 'p' + c[0]), name: 'latency',
  type:'scatter', mode:'lines+markers', line:{color:'#2f6fde'},
  hovertemplate:'%{text}: %{y:.3f} ms<extra></extra>'}];
if (S.total && S.total.service_percentile_curve) {
  const sc = S.total.service_percentile_curve;
  dist.push({x: sc.map(c => 100 / (100 - Math.min(c[0], 99.9999))), y: sc.map(c => c[1]),
    text: sc.map(c => 'p' + c[0]), name: 'service time (uncorrected)', type:'scatter',
    mode:'lines', line:{color:'#999', dash:'dot'},
    hovertemplate:'%{text}: %{y:.3f} ms<extra></extra>'});
}
Plotly.newPlot('chart-dist', dist, {margin:{t:30,r:20,b:50,l:60}, legend:{orientation:'h'},
  title:{text:'Latency by percentile (HDR)'},
  xaxis:{type:'log', title:{text:'percentile'}, tickvals:[1,2,10,100,1000,10000,100000],
    ticktext:['0%','50%','90%','99%','99.9%','99.99%','99.999%']},
  yaxis:{title:{text:'ms'}}}, cfg);
"""


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def _ms(value: Any) -> str:
    return "" if value is None else f"{value:,.2f}"


def _endpoint_rows(summary: dict[str, Any]) -> str:
    rows = []
    items = [*summary.get("endpoints", []), {**summary.get("total", {}), "_agg": True}]
    for ep in items:
        lat = ep.get("latency_ms", {})
        cls = ' class="agg"' if ep.get("_agg") else ""
        method = "" if ep.get("_agg") else html.escape(ep.get("method", ""))
        name = "Aggregated" if ep.get("_agg") else html.escape(ep.get("name", ""))
        cells = [
            method,
            name,
            f"{ep.get('requests', 0):,}",
            f"{ep.get('failures', 0):,}",
            f"{ep.get('rps', 0.0):,.1f}",
            _ms(lat.get("mean")),
            *(_ms(lat.get(k)) for k in _PERCENTILE_KEYS),
        ]
        rows.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "\n".join(rows)


def _threshold_rows(summary: dict[str, Any]) -> str:
    rows = []
    for v in summary.get("thresholds", []):
        verdict = '<td class="ok">pass</td>' if v["passed"] else '<td class="bad">FAIL</td>'
        observed = "no requests" if v.get("observed") is None else f"{v['observed']:.6g}"
        rows.append(
            f"<tr><td>{html.escape(v['scope'])}</td><td>{html.escape(v['expr'])}</td>"
            f"<td>{observed} {html.escape(v.get('unit') or '')}</td>{verdict}</tr>"
        )
    return "\n".join(rows) or '<tr><td colspan="4">no thresholds</td></tr>'


def _error_rows(summary: dict[str, Any]) -> str:
    rows = []
    for ep in summary.get("endpoints", []):
        for err in ep.get("errors", []):
            rows.append(
                f"<tr><td>{html.escape(ep['method'])}</td><td>{html.escape(ep['name'])}</td>"
                f"<td>{html.escape(str(err.get('kind', '')))}</td><td>{err.get('count', 0):,}</td>"
                f"<td>{html.escape(str(err.get('sample', ''))[:200])}</td></tr>"
            )
    return "\n".join(rows)


def render(summary: dict[str, Any], title: str = "loadforge report") -> str:
    """The whole report as one HTML document."""
    total = summary.get("total", {})
    lat = total.get("latency_ms", {})
    passed = summary.get("passed", False)
    badge = (
        '<span class="badge pass">PASSED</span>'
        if passed
        else ('<span class="badge fail">FAILED</span>')
    )
    cards = [
        ("requests", f"{total.get('requests', 0):,}"),
        ("failures", f"{total.get('failures', 0):,}"),
        ("requests/s", f"{total.get('rps', 0.0):,.1f}"),
        *((f"{k} (ms)", _ms(lat.get(k))) for k in ("p50", "p95", "p99", "max")),
        ("duration (s)", f"{summary.get('duration_s', 0.0):,.1f}"),
    ]
    if summary.get("model") == "open":
        cards.append(("dropped iterations", f"{total.get('dropped_iterations', 0):,}"))
    card_html = "".join(
        f'<div class="card"><div class="v">{v}</div><div class="k">{k}</div></div>'
        for k, v in cards
    )
    errors = _error_rows(summary)
    error_section = (
        "<section><h2>Failures</h2><table><tr><th>Method</th><th>Name</th><th>Kind</th>"
        f"<th>Count</th><th>Sample</th></tr>{errors}</table></section>"
        if errors
        else ""
    )
    head = "".join(f"<th>{k}</th>" for k in _PERCENTILE_KEYS)
    data = orjson.dumps(summary).decode().replace("</", "<\\/")
    broken = summary.get("broken")
    broken_html = (
        f'<section class="bad"><h2>Run broke</h2>{html.escape(broken)}</section>'
        if (broken)
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style>
<script>{_plotly_js()}</script></head>
<body><header><h1>{html.escape(title)}{badge}</h1>
<div class="sub">started {html.escape(str(summary.get("started_at", "")))} ·
{summary.get("model", "closed")} model · {len(summary.get("workers", []))} worker(s)</div></header>
<main>{broken_html}<div class="cards">{card_html}</div>
<section><h2>Thresholds</h2><table><tr><th>Scope</th><th>Expression</th><th>Observed</th>
<th>Verdict</th></tr>{_threshold_rows(summary)}</table></section>
<section><h2>Endpoints (latency in ms)</h2><table><tr><th>Method</th><th>Name</th>
<th>Requests</th><th>Failures</th><th>req/s</th><th>mean</th>{head}</tr>
{_endpoint_rows(summary)}</table></section>
{error_section}
<div class="grid">
<section><div id="chart-rps" class="chart"></div></section>
<section><div id="chart-latency" class="chart"></div></section>
<section><div id="chart-users" class="chart"></div></section>
<section><div id="chart-dist" class="chart"></div></section>
</div></main>
<script type="application/json" id="summary">{data}</script>
<script>{_SCRIPT}</script></body></html>
"""


def write(result: Any, path: str) -> None:
    """Write the HTML report for a `Result` (or a summary dict) to `path`."""
    summary = result if isinstance(result, dict) else result.to_dict()
    Path(path).write_text(render(summary))
