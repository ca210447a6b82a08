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

from .units import observed

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
flex:1 1 100px}
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
.card.bad .v{color:#d64545}
footer{color:#8a93a3;font-size:12px;text-align:center;padding:4px 0 24px}
"""

_SCRIPT = """
const S = JSON.parse(document.getElementById('summary').textContent);
const ts = S.time_series || [];
const x = ts.map(p => p.elapsed_s);
// A second without requests has no latency: leave a gap rather than draw a zero.
const lat = k => ts.map(p => (p.rps > 0 ? p[k] : null));
const font = {family:'system-ui,-apple-system,Segoe UI,Roboto,sans-serif', size:12,
  color:'#3b4252'};
function layout(title, ytitle, extra) {
  return Object.assign({font:font, title:{text:title, x:0.01, xanchor:'left',
      font:{size:15, color:'#1d2330'}},
    margin:{t:44,r:16,b:36,l:56}, legend:{orientation:'h', y:-0.14},
    hovermode:'x unified', plot_bgcolor:'#fff', paper_bgcolor:'#fff',
    xaxis:{ticksuffix:' s', gridcolor:'#eef0f3', zeroline:false},
    yaxis:{title:{text:ytitle}, gridcolor:'#eef0f3', rangemode:'tozero'}}, extra || {});
}
const cfg = {displaylogo:false, responsive:true,
  modeBarButtonsToRemove:['lasso2d','select2d']};
function line(y, name, color, extra) {
  return Object.assign({x:x, y:y, name:name, type:'scatter', mode:'lines',
    line:{color:color, width:2}}, extra || {});
}
Plotly.newPlot('chart-rps', [
  line(ts.map(p => p.rps), 'requests/s', '#2f6fde',
    {fill:'tozeroy', fillcolor:'rgba(47,111,222,0.12)'}),
  line(ts.map(p => p.failures_per_s), 'failures/s', '#d64545',
    {fill:'tozeroy', fillcolor:'rgba(214,69,69,0.15)'})],
  layout('Throughput', 'per second'), cfg);
Plotly.newPlot('chart-latency', [
  line(lat('p50'), 'p50', '#1f9d55'),
  line(lat('p95'), 'p95', '#e6a23c'),
  line(lat('p99'), 'p99', '#d64545')],
  layout('Response time (per second)', 'ms'), cfg);
Plotly.newPlot('chart-users', [
  line(ts.map(p => p.users), 'users', '#7a4fd6',
    {line:{shape:'hv', color:'#7a4fd6', width:2}, fill:'tozeroy',
     fillcolor:'rgba(122,79,214,0.10)'})],
  layout(S.model === 'open' ? 'Iterations in flight' : 'Users', 'users'), cfg);
// HDR percentile plot: x is 1/(1 - q), so each "nine" gets the same width.
const nines = c => 100 / (100 - Math.min(c[0], 99.9999));
function curve(points, name, color, dash) {
  return {x: points.map(nines), y: points.map(c => c[1]), text: points.map(c => 'p' + c[0]),
    name: name, type:'scatter', mode: dash ? 'lines' : 'lines+markers',
    line:{color:color, width:2, dash:dash || 'solid'}, marker:{size:5},
    hovertemplate:'%{text}: %{y:.3f} ms<extra>' + name + '</extra>'};
}
const dist = [curve((S.total && S.total.percentile_curve) || [], 'latency', '#2f6fde')];
if (S.total && S.total.service_percentile_curve) {
  dist.push(curve(S.total.service_percentile_curve, 'service time (uncorrected)', '#8a93a3',
    'dot'));
}
Plotly.newPlot('chart-dist', dist, layout('Latency by percentile (HDR)', 'ms', {
  hovermode:'closest',
  xaxis:{type:'log', title:{text:'percentile'}, gridcolor:'#eef0f3',
    tickvals:[1,10,100,1000,10000,100000,1000000],
    ticktext:['0%','90%','99%','99.9%','99.99%','99.999%','max']}}), cfg);
"""


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def _version() -> str:
    from loadforge._version import __version__

    return str(__version__)


def _when(started_at: Any) -> str:
    """`2026-01-02T03:04:05.678+00:00` → `2026-01-02 03:04:05 UTC`."""
    text = str(started_at)
    if text.endswith("+00:00") and "T" in text:
        return text.replace("T", " ").split(".")[0].removesuffix("+00:00") + " UTC"
    return text


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


def _observed(verdict: dict[str, Any]) -> str:
    return observed(verdict.get("observed"), verdict.get("unit") or "")


def _threshold_rows(summary: dict[str, Any]) -> str:
    rows = []
    for v in summary.get("thresholds", []):
        verdict = '<td class="ok">pass</td>' if v["passed"] else '<td class="bad">FAIL</td>'
        rows.append(
            f"<tr><td>{html.escape(v['scope'])}</td><td>{html.escape(v['expr'])}</td>"
            f"<td>{html.escape(_observed(v))}</td>{verdict}</tr>"
        )
    return "\n".join(rows) or '<tr><td colspan="4">no thresholds</td></tr>'


def _error_rows(summary: dict[str, Any]) -> str:
    rows = []
    for ep in summary.get("endpoints", []):
        for err in ep.get("errors", []):
            rows.append(
                f"<tr><td>{html.escape(ep['method'])}</td><td>{html.escape(ep['name'])}</td>"
                f"<td>{html.escape(str(err.get('kind', '')))}</td><td>{err.get('count', 0):,}</td>"
                f"<td>{html.escape(str(err.get('sample', ''))[:200])}</td>"
                f"<td><code>{html.escape(str(err.get('body', '')))}</code></td></tr>"
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
        f'<div class="card{" bad" if k == "failures" and v != "0" else ""}">'
        f'<div class="v">{v}</div><div class="k">{k}</div></div>'
        for k, v in cards
    )
    errors = _error_rows(summary)
    error_section = (
        "<section><h2>Failures</h2><table><tr><th>Method</th><th>Name</th><th>Kind</th>"
        f"<th>Count</th><th>Sample</th><th>Response body</th></tr>{errors}</table></section>"
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
    # Which rule decided, in words ("no thresholds, and 58 request(s) failed").
    verdict = summary.get("verdict", "")
    verdict_html = (
        f" · {html.escape(verdict)} (exit {summary.get('exit_code', '')})" if verdict else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style>
<script>{_plotly_js()}</script></head>
<body><header><h1>{html.escape(title)}{badge}</h1>
<div class="sub">started {html.escape(_when(summary.get("started_at", "")))} ·
{summary.get("model", "closed")} model · {len(summary.get("workers", []))} worker(s)
{verdict_html}</div></header>
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
<footer>loadforge {html.escape(_version())} · latencies from merged HDR histograms</footer>
<script type="application/json" id="summary">{data}</script>
<script>{_SCRIPT}</script></body></html>
"""


def write(result: Any, path: str) -> None:
    """Write the HTML report for a `Result` (or a summary dict) to `path`."""
    summary = result if isinstance(result, dict) else result.to_dict()
    Path(path).write_text(render(summary))
