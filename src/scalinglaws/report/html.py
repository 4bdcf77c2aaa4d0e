"""The report page: one self-contained HTML file rendered from the report's numbers.

:func:`render_html` reads nothing but ``report.json``'s content and the figures' PNG bytes.  Every
text that goes into the page is escaped; each cell that shows a number carries ``data-key``, a
JSON Pointer into report.json, and the exact value (``data-value``), so that the two can be
checked against each other.
"""

from __future__ import annotations

import base64
import json
import math
from html import escape
from typing import Any

from scalinglaws.fit.result import HEAVY_TAIL_WORDS
from scalinglaws.report.formatting import format_value, kind_of
from scalinglaws.report.numbers import APPROACH_NAMES

SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("data", "Data"),
    ("fits", "Fits"),
    ("allocation", "Compute-optimal allocation"),
    ("figures", "Figures"),
    ("diagnostics", "Diagnostics and warnings"),
    ("backtest", "Backtest"),
    ("presets", "Published presets"),
    ("method", "Method"),
)

_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1d2430;
background:#fafafa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:0 24px 48px}
header{background:#0b3d66;color:#fff;padding:20px 24px}
header h1{margin:0 0 4px;font-size:24px} header p{margin:2px 0;opacity:.9}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:8px 24px;z-index:2}
nav a{margin-right:14px;color:#0b3d66;text-decoration:none;font-size:14px}
h2{border-bottom:2px solid #0b3d66;padding-bottom:4px;margin-top:36px}
h3{margin-top:24px}
table{border-collapse:collapse;margin:10px 0;font-size:13.5px;background:#fff}
th,td{border:1px solid #d8dde3;padding:4px 9px;text-align:right;vertical-align:top}
th{background:#eef2f6} td:first-child,th:first-child{text-align:left}
td.text{text-align:left}
.headline{font-size:16px;background:#fff;border-left:4px solid #0b3d66;padding:10px 14px}
figure{margin:18px 0;background:#fff;border:1px solid #e2e6ea;padding:10px;overflow-x:auto}
figure img{display:block;max-width:100%;height:auto} figcaption{font-size:13.5px;color:#444}
.sev-warning{color:#a35400;font-weight:600} .sev-error{color:#b00020;font-weight:600}
.sev-info{color:#44617b}
.note{color:#555;font-size:13.5px} code{background:#eef2f6;padding:0 3px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;font-size:13.5px}
dt{font-weight:600;color:#333} dd{margin:0}
"""


def _ptr(*parts: Any) -> str:
    """A JSON Pointer (RFC 6901) to a value of report.json."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _num(value: Any, kind: str, *path: Any, tag: str = "td") -> str:
    """A cell showing a number, tagged with its JSON Pointer and exact value."""
    text = escape(format_value(value, kind))
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f"<{tag}>{text}</{tag}>"
    return (
        f'<{tag} data-key="{escape(_ptr(*path))}" data-value="{escape(repr(value))}" '
        f'data-format="{kind}">{text}</{tag}>'
    )


def _interval_cell(ci: Any, kind: str, *path: Any) -> str:
    if not ci:
        return "<td>—</td>"
    lo = _num(ci[0], kind, *path, 0, tag="span")
    hi = _num(ci[1], kind, *path, 1, tag="span")
    return f"<td>[{lo}, {hi}]</td>"


def _text(value: Any) -> str:
    return escape(str(value))


def render_html(numbers: dict[str, Any], pngs: dict[str, bytes]) -> str:
    """The report page: every section rendered from ``numbers`` (report.json) and the PNG
    bytes of the figures, with the numbers embedded as JSON."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(numbers['title'])}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_text(numbers['title'])}</h1>",
        f"<p>Source: {_text(numbers['source']['text'])} ({_text(numbers['source']['kind'])})</p>",
        f"<p>scalinglaws {_text(numbers['settings']['package_version'])}; "
        f"{numbers['settings']['n_bootstrap']} bootstrap replicates, seed "
        f"{numbers['settings']['seed']}</p></header>",
        "<nav>" + "".join(f'<a href="#{sid}">{name}</a>' for sid, name in SECTIONS) + "</nav>",
        "<main>",
        _summary_html(numbers),
        _data_html(numbers),
        _fits_html(numbers),
        _allocation_html(numbers),
        _figures_html(numbers, pngs),
        _diagnostics_html(numbers),
        _backtest_html(numbers),
        _presets_html(numbers),
        _method_html(numbers),
        "</main>",
        '<script type="application/json" id="report-data">' + _island(numbers) + "</script>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _island(numbers: dict[str, Any]) -> str:
    """``numbers`` as JSON to embed in a ``<script>`` element: every ``<``, ``>`` and ``&`` (in
    JSON they occur only inside strings) written as a \\u escape, so that no text of the data
    (a run id such as ``<!--<script>``, a ``</script>``) can end the element early or make the
    HTML parser read past its end; ``JSON.parse`` gives back the same values."""
    text = json.dumps(numbers)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _section(sid: str, body: str) -> str:
    name = dict(SECTIONS)[sid]
    return f'<section id="{sid}"><h2>{name}</h2>\n{body}\n</section>'


def _summary_html(nb: dict[str, Any]) -> str:
    rows = nb["allocation"]
    items = []
    for i, row in enumerate(rows):
        a = row["approach"]
        ci = row.get("N_interval")
        lvl = nb["fits"].get(a, {}).get("level", 0.95)
        interval = (
            " ["
            + _num(ci[0], "count", "allocation", i, "N_interval", 0, tag="span")
            + "–"
            + _num(ci[1], "count", "allocation", i, "N_interval", 1, tag="span")
            + f", {100 * lvl:g}%]"
            if ci
            else ""
        )
        items.append(
            "<li>"
            + f"Approach {_text(a)} at "
            + _num(row["C"], "flops", "allocation", i, "C", tag="span")
            + " FLOPs: train "
            + _num(row["N"], "count", "allocation", i, "N", tag="span")
            + f" parameters{interval} on "
            + _num(row["D"], "count", "allocation", i, "D", tag="span")
            + " tokens ("
            + _num(
                row["tokens_per_param"], "float", "allocation", i, "tokens_per_param", tag="span"
            )
            + " tokens per parameter), expected loss "
            + _num(row["L"], "float", "allocation", i, "L", tag="span")
            + " nats per token."
            + "</li>"
        )
    body = '<div class="headline"><ul>' + "".join(items) + "</ul></div>"
    if not rows:
        body = '<p class="headline">No approach could be fitted; see Fits.</p>'
    a3 = nb["fits"].get("3")
    if a3 and "a" in a3["derived"]:
        body += (
            "<p>Approach 3 puts parameters and data in the ratio N* ∝ C<sup>a</sup> with a = "
            + _num(a3["derived"]["a"], "float", "fits", "3", "derived", "a", tag="span")
            + " (Hoffmann et al. 2022 print 0.46 for their Approach 3 and 0.49–0.50 for "
            "Approaches 1 and 2; Kaplan et al. 2020 0.73).</p>"
        )
    worst = [d for d in nb["diagnostics"] if d["severity"] in ("warning", "error")]
    if worst:
        body += (
            f'<p class="sev-warning">{len(worst)} warning(s) about the fits: see '
            '<a href="#diagnostics">Diagnostics</a>.</p>'
        )
    return _section("summary", body)


def _data_html(nb: dict[str, Any]) -> str:
    from scalinglaws.flops import CONVENTION_SOURCES

    d = nb["data"]
    if d.get("from_fit"):
        rec = d.get("recorded", {})
        recorded = "".join(f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in rec.items())
        body = (
            "<p>This report was made from a saved fit; the runs are not available. The fit "
            f"records its data as:</p><dl>{recorded}</dl>"
        )
        return _section("data", body)
    rows = [
        ("rows fitted (final losses)", _num(d["rows"], "int", "data", "rows")),
        ("runs", _num(d["runs"], "int", "data", "runs")),
        ("distinct model sizes", _num(d["model_sizes"], "int", "data", "model_sizes")),
    ]
    if d.get("has_curves"):
        rows.append(("checkpoints (curves)", _num(d["checkpoints"], "int", "data", "checkpoints")))
    if "isoflop_budgets" in d:
        rows.append(
            ("IsoFLOP budgets found", _num(d["isoflop_budgets"], "int", "data", "isoflop_budgets"))
        )
    for key, label, kind in (
        ("N_range", "parameters N", "count"),
        ("D_range", "tokens D", "count"),
        ("C_range", "compute C (FLOPs)", "flops"),
        ("L_range", "loss L (nats per token)", "float"),
        ("tokens_per_param_range", "tokens per parameter D/N", "float"),
    ):
        lo = _num(d[key][0], kind, "data", key, 0, tag="span")
        hi = _num(d[key][1], kind, "data", key, 1, tag="span")
        rows.append((label, f"<td>{lo} to {hi}</td>"))
    table = "<table>" + "".join(f"<tr><th>{_text(a)}</th>{b}</tr>" for a, b in rows) + "</table>"
    filters = d["filters"] or ["none"]
    convention = f"Compute convention: {_text(d['compute_convention'])}."
    sweep = nb["settings"].get("sweep_flops")
    if sweep:
        check = d.get("flops_check") or {}
        convention = (
            f"Compute convention: {_text(d['compute_convention'])}: C = f(N)·D with f(N) the "
            f"training FLOPs per token of the family's model of N non-embedding parameters "
            f"under the {_text(sweep['convention'])} convention "
            f"({_text(CONVENTION_SOURCES.get(sweep['convention'], 'scalinglaws.flops'))}), "
            f"smoothed by a {_text(sweep['interpolation'])}; every approach splits its budgets "
            "this way. f(N)·D reproduces the runs' recorded C to a relative difference of at "
            "most "
            + _num(check.get("max"), "float", "data", "flops_check", "max", tag="span")
            + " (median "
            + _num(check.get("median"), "float", "data", "flops_check", "median", tag="span")
            + ")."
        )
    body = (
        f"<p>Source: <code>{_text(d['source'])}</code>. Columns: {_text(d['columns'])}. "
        f"{convention}</p>"
        + table
        + "<p>Filters applied:</p><ul>"
        + "".join(f"<li>{_text(f)}</li>" for f in filters)
        + "</ul>"
    )
    return _section("data", body)


def _param_rows(fnb: dict[str, Any], a: str, table: str) -> str:
    out = []
    for name, value in fnb[table].items():
        kind = kind_of(name)
        se = fnb["stderr"].get(name)
        ci = fnb["intervals"].get(name)
        out.append(
            f"<tr><td>{_text(name)}</td>"
            + _num(value, kind, "fits", a, table, name)
            + (_num(se, kind, "fits", a, "stderr", name) if se is not None else "<td>—</td>")
            + _interval_cell(ci, kind, "fits", a, "intervals", name)
            + "</tr>"
        )
    return "".join(out)


def _fits_html(nb: dict[str, Any]) -> str:
    parts = []
    for a in ("3", "2", "1", "power"):
        f = nb["fits"].get(a)
        if f is None:
            continue
        pct = f"{100 * f['level']:g}%"
        head = f"<tr><th>quantity</th><th>estimate</th><th>std err</th><th>{pct} interval</th></tr>"
        conv = "converged" if f["converged"] else "DID NOT CONVERGE"
        method = "".join(
            f"<dt>{_text(k)}</dt>"
            + (
                _num(v, "float", "fits", a, "method", k, tag="dd")
                if isinstance(v, (int, float)) and not isinstance(v, bool)
                else f"<dd>{_text(v)}</dd>"
            )
            for k, v in f["method"].items()
        )
        parts.append(
            f"<h3>{_text(f['title'])}</h3>"
            f"<p>Law: <code>{_text(f['formula'])}</code>; {conv}"
            + (f" ({_text(f['message'])})" if f["message"] else "")
            + f". Saved as <code>{_text(f['file'])}</code>.</p>"
            + "<table>"
            + head
            + _param_rows(f, a, "params")
            + _param_rows(f, a, "derived")
            + "</table>"
            + (
                f"<p class='note'>{_text(HEAVY_TAIL_WORDS)}.</p>"
                if any(v is None for v in f["stderr"].values())
                else ""
            )
            + f"<details><summary>How it was estimated</summary><dl>{method}</dl></details>"
        )
    for a, reason in nb["not_fitted"].items():
        parts.append(
            f"<h3>{_text(APPROACH_NAMES.get(a, a))}</h3><p class='note'>Not fitted: "
            f"{_text(reason.rstrip('.'))}.</p>"
        )
    return _section("fits", "".join(parts) or "<p>No fit.</p>")


def _allocation_html(nb: dict[str, Any]) -> str:
    hw = nb["settings"]["hardware"]
    cols = [
        "approach",
        "budget C (FLOPs)",
        "PF-days",
        "N* (parameters)",
        "interval",
        "D* (tokens)",
        "interval",
        "tokens / parameter",
        "L* (nats)",
        "interval",
    ]
    if hw:
        cols += ["days", "device-hours"]
    head = "<tr>" + "".join(f"<th>{c}</th>" for c in cols) + "</tr>"
    body = []
    for i, r in enumerate(nb["allocation"]):
        p = ("allocation", i)
        cells = [
            f"<td>{_text(r['approach'])}</td>",
            _num(r["C"], "flops", *p, "C"),
            _num(r["pf_days"], "float", *p, "pf_days"),
            _num(r["N"], "count", *p, "N"),
            _interval_cell(r["N_interval"], "count", *p, "N_interval"),
            _num(r["D"], "count", *p, "D"),
            _interval_cell(r["D_interval"], "count", *p, "D_interval"),
            _num(r["tokens_per_param"], "float", *p, "tokens_per_param"),
            _num(r["L"], "float", *p, "L"),
            _interval_cell(r["L_interval"], "float", *p, "L_interval"),
        ]
        if hw:
            cells += [
                _num(r["days"], "float", *p, "days"),
                _num(r["device_hours"], "float", *p, "device_hours"),
            ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    if hw:
        hw_text = (
            f"<p>Time on {_text(hw['accelerator'] or 'the stated accelerator')}: "
            + _num(hw["devices"], "int", "settings", "hardware", "devices", tag="span")
            + " device(s) at "
            + _num(hw["peak_flops"], "flops", "settings", "hardware", "peak_flops", tag="span")
            + " FLOP/s peak and MFU "
            + _num(hw["mfu"], "float", "settings", "hardware", "mfu", tag="span")
            + ": t = C / (devices · peak · MFU).</p>"
        )
    else:
        hw_text = (
            "<p class='note'>Give an accelerator (e.g. <code>--accelerator h100 --devices 8 "
            "--mfu 0.4</code>) to see the training time of each budget.</p>"
        )
    convention = nb["settings"].get("compute_convention")
    body_text = (
        "<p>The compute-optimal model size N*, tokens D* and loss L* at each requested budget, "
        "with bootstrap intervals; 1 PF-day = 8.64e19 FLOPs. "
        + (f"Compute convention of every row: {_text(convention)}." if convention else "")
        + (
            " Approaches 1 and 2 give N* by their fitted rule and D* = C/f(N*)."
            if nb["settings"].get("sweep_flops")
            else ""
        )
        + "</p>"
        + f"<table>{head}{''.join(body)}</table>"
        + hw_text
    )
    return _section("allocation", body_text)


#: A figure is shown at its natural size (96 CSS px per inch of the figure, as printed), never
#: larger, and in a narrow window no smaller than this fraction of it (its smallest text, 8 pt,
#: stays >= 10 CSS px); narrower still, the figure scrolls sideways.
MIN_FIGURE_SCALE = 0.94


def png_css_width(png: bytes) -> float | None:
    """The natural width in CSS px (96 per inch) of a PNG that records its resolution (the
    pHYs chunk, which matplotlib writes); None when it records none."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    width = int.from_bytes(png[16:20], "big")
    pos = 8
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        kind = png[pos + 4 : pos + 8]
        if kind == b"pHYs" and length >= 9:
            per_metre = int.from_bytes(png[pos + 8 : pos + 12], "big")
            if png[pos + 16] == 1 and per_metre > 0:  # unit: metre
                return width * 96.0 / (per_metre * 0.0254)
            return None
        if kind in (b"IDAT", b"IEND"):
            return None
        pos += 12 + length
    return None


def _img_style(png: bytes) -> str:
    """The inline size of a figure's image: its natural width, at least
    :data:`MIN_FIGURE_SCALE` of it."""
    width = png_css_width(png)
    if width is None:
        return ""
    return f' style="width:{width:.0f}px;min-width:{MIN_FIGURE_SCALE * width:.0f}px"'


def _figures_html(nb: dict[str, Any], pngs: dict[str, bytes]) -> str:
    parts = []
    for name, info in nb["figures"].items():
        data = base64.b64encode(pngs[name]).decode("ascii")
        svg = next((f for f in info["files"] if f.endswith(".svg")), None)
        link = f' (<a href="{escape(svg)}">SVG</a>)' if svg else ""
        parts.append(
            f'<figure id="figure-{escape(name)}"><img alt="{escape(name)}"{_img_style(pngs[name])} '
            f'src="data:image/png;base64,{data}"><figcaption><b>{_text(name)}</b>: '
            f"{_text(info['caption'])}{link}</figcaption></figure>"
        )
    return _section("figures", "".join(parts))


def _diagnostics_html(nb: dict[str, Any]) -> str:
    items = [
        f"<li><span class='sev-{_text(d['severity'])}'>{_text(d['severity'])}</span> "
        f"(approach {_text(d['approach'])}, <code>{_text(d['code'])}</code>): "
        f"{_text(d['message'])}</li>"
        for d in nb["diagnostics"]
    ]
    body = "<h3>Findings about the fits</h3>" + (
        "<ul>" + "".join(items) + "</ul>" if items else "<p>None.</p>"
    )
    body += "<h3>Warnings raised while loading and fitting</h3>" + (
        "<ul>" + "".join(f"<li>{_text(w)}</li>" for w in nb["warnings"]) + "</ul>"
        if nb["warnings"]
        else "<p>None.</p>"
    )
    if nb["notes"]:
        body += "<h3>Notes</h3><ul>" + "".join(f"<li>{_text(n)}</li>" for n in nb["notes"])
        body += "</ul>"
    return _section("diagnostics", body)


def _backtest_html(nb: dict[str, Any]) -> str:
    bt = nb["backtest"]
    if not bt.get("done"):
        reason = str(bt.get("reason") or "").rstrip(".")
        return _section("backtest", f"<p class='note'>Not run: {_text(reason)}.</p>")
    p = ("backtest",)
    cov = (
        ", and "
        + _num(bt["coverage"], "percent", *p, "coverage", tag="span")
        + f" of the held-out losses fall inside their {100 * bt['level']:g}% prediction "
        "intervals"
        if bt["coverage"] is not None
        else " (no intervals: the fit was not bootstrapped)"
    )
    text = (
        "<p>Approach 3 was fitted to the "
        + _num(bt["n_train_runs"], "int", *p, "n_train_runs", tag="span")
        + " runs whose compute is at or below "
        + _num(bt["cut"], "flops", *p, "cut", tag="span")
        + " FLOPs and predicted the "
        + _num(bt["n_test_runs"], "int", *p, "n_test_runs", tag="span")
        + " runs above it: mean absolute relative error "
        + _num(bt["mean_abs_rel_error"], "percent", *p, "mean_abs_rel_error", tag="span")
        + " (largest "
        + _num(bt["max_abs_rel_error"], "percent", *p, "max_abs_rel_error", tag="span")
        + ")"
        + cov
        + ".</p>"
    )
    has_ci = any("low" in h for h in bt["held_out"])
    cols = ["run", "N", "D", "C (FLOPs)", "L", "predicted L̂", "|L̂ − L| / L"]
    cols += ["low", "high", "inside"] if has_ci else []
    rows = []
    for i, h in enumerate(bt["held_out"]):
        q = ("backtest", "held_out", i)
        cells = [
            f"<td>{_text(h['run_id'])}</td>",
            _num(h["N"], "count", *q, "N"),
            _num(h["D"], "count", *q, "D"),
            _num(h["C"], "flops", *q, "C"),
            _num(h["L"], "float", *q, "L"),
            _num(h["L_pred"], "float", *q, "L_pred"),
            _num(h["rel_error"], "percent", *q, "rel_error"),
        ]
        if has_ci:
            cells += [
                _num(h["low"], "float", *q, "low"),
                _num(h["high"], "float", *q, "high"),
                f"<td>{'yes' if h['inside'] else 'no'}</td>",
            ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    shown = len(bt["held_out"])
    summary = (
        "Held-out runs"
        if shown >= bt["n_test_runs"]
        else f"Held-out runs: {shown:,} of {bt['n_test_runs']:,}, evenly spaced in compute"
    )
    table = (
        f"<details><summary>{_text(summary)}</summary><table><tr>"
        + "".join(f"<th>{c}</th>" for c in cols)
        + "</tr>"
        + "".join(rows)
        + "</table></details>"
    )
    notes = "".join(f"<li>{_text(n)}</li>" for n in bt["notes"])
    method = f"<p class='note'>Intervals: {_text(bt['interval_method'])}.</p>"
    return _section("backtest", text + table + method + (f"<ul>{notes}</ul>" if notes else ""))


def _presets_html(nb: dict[str, Any]) -> str:
    s_k = nb["settings"]["flops_per_param_token"]
    cols = ["preset", "N counts", "budget C", "N*", "D*", "tokens / parameter", "L*"]
    rows = []
    for i, r in enumerate(nb["presets"]):
        q = ("presets", i)
        rows.append(
            "<tr>"
            + f"<td title='{_text(r['citation'])}'>{_text(r['label'])}</td>"
            + f"<td>{_text(r['n_counts'])}</td>"
            + _num(r["C"], "flops", *q, "C")
            + _num(r["N"], "count", *q, "N")
            + _num(r["D"], "count", *q, "D")
            + _num(r["tokens_per_param"], "float", *q, "tokens_per_param")
            + _num(r["L"], "float", *q, "L")
            + "</tr>"
        )
    mine = []
    for i, r in enumerate(nb["allocation"]):
        q = ("allocation", i)
        mine.append(
            "<tr>"
            + f"<td><b>your fit, approach {_text(r['approach'])}</b></td><td>as your N column</td>"
            + _num(r["C"], "flops", *q, "C")
            + _num(r["N"], "count", *q, "N")
            + _num(r["D"], "count", *q, "D")
            + _num(r["tokens_per_param"], "float", *q, "tokens_per_param")
            + _num(r["L"], "float", *q, "L")
            + "</tr>"
        )
    body = (
        "<p>The same budgets under every published preset. Kaplan et al. 2020 count "
        "non-embedding parameters, the others all parameters; presets without a published "
        "loss law show no L*, nor do presets at budgets more than two decades below their "
        "paper's smallest run (a dash). The loss of a preset is on its paper's data and "
        "tokenizer, so compare allocations, not losses."
        + (
            f" The presets split a budget as C = {_text(format_value(s_k))}·N·D, your fits as "
            f"{_text(nb['settings']['compute_convention'])}."
            if nb["settings"].get("sweep_flops")
            else ""
        )
        + "</p><table><tr>"
        + "".join(f"<th>{c}</th>" for c in cols)
        + "</tr>"
        + "".join(mine)
        + "".join(rows)
        + "</table>"
    )
    return _section("presets", body)


def _method_html(nb: dict[str, Any]) -> str:
    s = nb["settings"]
    items = [
        ("budgets (FLOPs)", ", ".join(format_value(b, "flops") for b in s["budgets"])),
        ("bootstrap", f"{s['n_bootstrap']} replicates resampling whole runs, seed {s['seed']}"),
        ("interval level", f"{100 * s['level']:g}%"),
        (
            "compute convention",
            s.get("compute_convention") or f"C = {format_value(s['flops_per_param_token'])}·N·D",
        ),
        ("scalinglaws", s["package_version"]),
        ("Python", s["python"]),
        ("time taken", f"{s['seconds']:.1f} s"),
    ]
    body = (
        "<dl>"
        + "".join(f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in items)
        + "</dl><p class='note'>Approach 3 fits the Chinchilla form by the Huber loss (δ = 1e-3) "
        "on log L from Hoffmann et al.'s grid of starts (Hoffmann et al. 2022 §3.3; Besiroglu "
        "et al. 2024). Approach 2 fits a parabola in log N to each IsoFLOP profile and power "
        "laws through the minima (§3.2); Approach 1 takes the lower envelope of the training "
        "curves (§3.1). Every number of this page is in <code>report.json</code>; each fit in "
        "full in its <code>fit_approach*.json</code>.</p>"
    )
    return _section("method", body)
