"""The HTML report: it is written from a runs file, a saved fit and a sweep folder; the HTML
parses, is self-contained, holds every section, and every number it shows is the number in
report.json (and that number is checked against an independent computation); bad inputs get
one-sentence errors, in Python and on the command line."""

from __future__ import annotations

import base64
import json
import math
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from scalinglaws.allocation import allocate
from scalinglaws.errors import DataError, QuantityError, ScalingLawsError, UnknownNameError
from scalinglaws.fit.result import Fit
from scalinglaws.laws import ChinchillaLaw
from scalinglaws.report import SECTIONS, build_report, default_budgets, format_value, make_figure

pytestmark = pytest.mark.filterwarnings("error")  # figures and report warn about nothing

TRUE = ChinchillaLaw(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.36)
BUDGETS = (1e17, 3e17, 1e18, 3e18, 1e19)
H100 = 989e12  # dense BF16 FLOP/s (NVIDIA datasheet)
PF_DAY = 8.64e19


def sweep_frame(curves: bool = False, noise: float = 0.004, seed: int = 0) -> pd.DataFrame:
    """An IsoFLOP sweep of TRUE: 7 sizes within 8x of N* at each budget, D = C/(6N); with
    ``curves``, 8 checkpoints per run (the last at the budget)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in BUDGETS:
        n_opt = TRUE.G * (c / 6) ** TRUE.a
        for n in n_opt * np.geomspace(1 / 8, 8, 7):
            d_final = c / (6 * n)
            for step, f in enumerate(np.geomspace(0.05, 1.0, 8) if curves else [1.0]):
                d = d_final * f
                loss = float(TRUE(N=n, D=d)) * math.exp(noise * rng.standard_normal())
                rows.append({"run_id": f"{c:.0e}/{n:.4g}", "step": step, "N": n, "D": d, "L": loss})
    return pd.DataFrame(rows)


class Page(HTMLParser):
    """Collects sections, numbers (data-key cells), images, links and scripts of the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.cells: list[dict] = []
        self.images: list[str] = []
        self.urls: list[str] = []
        self.scripts: list[tuple[str, str]] = []
        self._open: list[dict] = []
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag == "img":
            self.images.append(a["src"])
        for key in ("src", "href"):
            if key in a and tag != "img":
                self.urls.append(a[key])
        if tag == "link":
            self.urls.append(a.get("href", ""))
        if tag == "script":
            self._script = a.get("type", "")
            self.scripts.append((self._script, ""))
        if "data-key" in a:
            self._open.append({"tag": tag, **a, "text": ""})

    def handle_data(self, data):
        for cell in self._open:
            cell["text"] += data
        if self._script is not None:
            kind, text = self.scripts[-1]
            self.scripts[-1] = (kind, text + data)

    def handle_endtag(self, tag):
        if self._open and self._open[-1]["tag"] == tag:
            self.cells.append(self._open.pop())
        if tag == "script":
            self._script = None


def resolve(doc, pointer: str):
    """Follow a JSON Pointer (RFC 6901)."""
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    csv = folder / "runs.csv"
    sweep_frame(curves=True).to_csv(csv, index=False)
    result = build_report(
        csv,
        folder / "out",
        budgets="1e20,1e21",
        n_bootstrap=6,
        seed=3,
        accelerator="h100",
        devices=8,
        mfu=0.4,
    )
    page = Page()
    page.feed(result.html.read_text())
    return result, page, csv


# ============================================================================ files
def test_files_written(made):
    result, _, _ = made
    assert result.html.is_file() and result.json.is_file()
    expected = {
        "frontier",
        "isoflop",
        "isoloss",
        "loss_compute",
        "curves",
        "residuals",
        "predicted",
        "bootstrap",
        "backtest",
        "presets",
    }
    assert set(result.figures) == expected
    for name, paths in result.figures.items():
        assert [p.suffix for p in paths] == [".png", ".svg"], name
        assert paths[0].read_bytes()[:4] == b"\x89PNG"
    assert set(result.fits) == {"1", "2", "3"}
    for path in result.fits.values():
        Fit.from_json(path)  # each saved fit reloads
    assert all(p.is_file() for p in result.paths)


def test_html_is_self_contained_with_every_section(made):
    result, page, _ = made
    assert page.sections == [sid for sid, _ in SECTIONS]
    assert len(page.images) == len(result.figures)
    for src, name in zip(page.images, result.figures, strict=True):
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png == result.figures[name][0].read_bytes()
    # nothing is fetched: no stylesheet links, no remote scripts, links only to local SVGs
    assert not [u for u in page.urls if u.startswith(("http:", "https:", "//"))]
    assert all(u.startswith("#") or u.endswith(".svg") for u in page.urls)
    assert [kind for kind, _ in page.scripts] == ["application/json"]
    embedded = json.loads(page.scripts[0][1])
    assert embedded == json.loads(result.json.read_text()) == result.numbers


def test_every_number_shown_is_in_the_json(made):
    result, page, _ = made
    numbers = json.loads(result.json.read_text())
    assert len(page.cells) > 150
    keys = set()
    for cell in page.cells:
        value = resolve(numbers, cell["data-key"])
        assert float(cell["data-value"]) == float(value), cell["data-key"]
        assert cell["text"] == format_value(value, cell["data-format"]), cell["data-key"]
        keys.add(cell["data-key"])
    # the headline numbers are among them
    for key in ("/allocation/0/N", "/allocation/0/D", "/fits/3/params/alpha", "/backtest/cut"):
        assert key in keys


# ============================================================================ numbers
def test_allocation_matches_independent_computation(made):
    result, _, _ = made
    nb = result.numbers
    fit3 = Fit.from_json(result.fits["3"])
    p = nb["fits"]["3"]["params"]
    g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    a = p["beta"] / (p["alpha"] + p["beta"])
    rows = [r for r in nb["allocation"] if r["approach"] == "3"]
    assert [r["C"] for r in rows] == [1e20, 1e21]
    for r in rows:
        n = g * (r["C"] / 6) ** a
        assert r["N"] == pytest.approx(n, rel=1e-9)
        assert r["D"] == pytest.approx(r["C"] / (6 * n), rel=1e-9)
        assert r["L"] == pytest.approx(fit3.law(N=n, D=r["C"] / (6 * n)), rel=1e-9)
        assert r["tokens_per_param"] == pytest.approx(r["D"] / r["N"])
        assert r["pf_days"] == pytest.approx(r["C"] / PF_DAY)
        # time on 8 H100 at 40% MFU: t = C / (8 * 989e12 * 0.4)
        assert r["days"] == pytest.approx(r["C"] / (8 * H100 * 0.4) / 86400)
        assert r["device_hours"] == pytest.approx(8 * r["C"] / (8 * H100 * 0.4) / 3600)
        lo, hi = r["N_interval"]
        assert lo < r["N"] < hi
    # the true law's optimum lies inside the data's reach: within 25% at 1e20
    assert rows[0]["N"] == pytest.approx(TRUE.G * (1e20 / 6) ** TRUE.a, rel=0.25)
    # Approach 2 gives its own rows, and all three approaches were fitted
    assert {r["approach"] for r in nb["allocation"]} == {"1", "2", "3"}
    assert nb["not_fitted"] == {}
    # a plain runs file: every row under C = 6·N·D; Approaches 1 and 2 keep their D* rule
    assert nb["settings"]["compute_convention"] == "C = 6·N·D"
    assert nb["settings"]["sweep_flops"] is None
    assert nb["fits"]["3"]["method"]["compute convention"] == "C = 6·N·D"
    assert {r["compute_convention"] for r in nb["allocation"]} == {"C = 6·N·D"}
    for r in nb["allocation"]:
        if r["approach"] == "2":
            d = nb["fits"]["2"]["derived"]
            assert r["D"] == pytest.approx(d["k_D"] * r["C"] ** d["b"], rel=1e-9)


def test_band_budgets_do_not_leak(made):
    result, _, _ = made
    for a in ("1", "2"):
        derived = result.numbers["fits"][a]["derived"]
        assert {k for k in derived if "@" in k} == {
            f"{q}_opt@{c}" for q in ("N", "D", "L") for c in ("1e+20", "1e+21")
        }
        fit = Fit.from_json(result.fits[a])
        assert all("@" not in k or k.endswith(("@1e+20", "@1e+21")) for k in fit.intervals)


def test_presets_and_backtest_numbers(made):
    result, _, _ = made
    nb = result.numbers
    rows = {(r["preset"], r["C"]): r for r in nb["presets"]}
    h = rows[("hoffmann2022", 1e21)]
    E, A, B, al, be = 1.69, 406.4, 410.7, 0.34, 0.28  # Hoffmann et al. 2022, as printed
    g = (al * A / (be * B)) ** (1 / (al + be))
    n = g * (1e21 / 6) ** (be / (al + be))
    assert h["N"] == pytest.approx(n, rel=1e-9)
    assert h["L"] == pytest.approx(E + A / n**al + B / (1e21 / (6 * n)) ** be, rel=1e-9)
    k = rows[("kaplan2020", 1e20)]
    assert k["N"] == pytest.approx(1.3e9 * (1e20 / PF_DAY) ** 0.73, rel=1e-9)
    assert k["n_counts"] == "non-embedding"
    assert rows[("llama3", 1e21)]["L"] is None  # no loss law published: NaN, null in JSON
    bt = nb["backtest"]
    assert bt["done"]
    errors = [h["rel_error"] for h in bt["held_out"]]
    assert bt["mean_abs_rel_error"] == pytest.approx(np.mean(errors))
    assert bt["coverage"] == pytest.approx(np.mean([h["inside"] for h in bt["held_out"]]))
    assert bt["n_test_runs"] == len(bt["held_out"])
    assert bt["mean_abs_rel_error"] < 0.05  # the law is right; noise is 0.4%


def test_data_summary(made):
    result, _, csv = made
    d = result.numbers["data"]
    frame = sweep_frame(curves=True)
    assert d["rows"] == d["runs"] == frame["run_id"].nunique() == 35
    assert d["checkpoints"] == len(frame)
    assert d["has_curves"] and d["isoflop_budgets"] == len(BUDGETS)
    assert d["C_range"] == pytest.approx([1e17, 1e19])
    assert result.numbers["settings"]["hardware"]["peak_flops"] == H100


def test_default_budgets():
    assert default_budgets(1.3e22) == [1e23, 1e24, 1e25]
    assert default_budgets(1e19) == [1e20, 1e21, 1e22]


# ============================================================================ other sources
def test_report_from_a_saved_fit(made, tmp_path):
    result, _, _ = made
    out = build_report(result.fits["3"], tmp_path / "from_fit", budgets=[5.76e23], backtest=True)
    nb = out.numbers
    assert nb["source"]["kind"] == "fit" and nb["data"]["from_fit"]
    fit = Fit.from_json(result.fits["3"])
    (row,) = nb["allocation"]
    a = allocate(fit.law, C=5.76e23)
    assert row["N"] == pytest.approx(a.N, rel=1e-9)
    lo, hi = row["N_interval"]  # from the saved bootstrap replicates
    assert lo < row["N"] < hi
    assert not nb["backtest"]["done"]
    assert set(out.figures) >= {"frontier", "isoloss", "bootstrap", "presets"}
    page = Page()
    page.feed(out.html.read_text())
    assert page.sections == [sid for sid, _ in SECTIONS]


def test_report_from_a_sweep_folder(tmp_path):
    """The tables of scalinglaws.sweep.runner: runs.csv (run_id, budget, N, N_total, D, C,
    loss, ...) and curves.csv (one row per evaluation, val_loss NaN where none was made)."""
    frame = sweep_frame(curves=True)
    frame["budget"] = (
        6
        * frame.groupby("run_id")["N"].transform("first")
        * frame.groupby("run_id")["D"].transform("max")
    )
    finals = frame.groupby("run_id").tail(1)
    pd.DataFrame(
        {
            "run_id": finals["run_id"],
            "budget": finals["budget"],
            "N": finals["N"],
            "N_total": finals["N"] * 1.1,
            "D": finals["D"],
            "C": 6 * finals["N"] * finals["D"] * 1.02,  # within 5% of the plan's budget
            "loss": finals["L"],
            "train_loss": finals["L"] * 0.99,
            "step": finals["step"],
        }
    ).to_csv(tmp_path / "runs.csv", index=False)
    curves = pd.DataFrame(
        {
            "run_id": frame["run_id"],
            "budget": frame["budget"],
            "step": frame["step"],
            "tokens": frame["D"],
            "flops": 6 * frame["N"] * frame["D"],
            "N": frame["N"],
            "N_total": frame["N"] * 1.1,
            "val_loss": np.where(frame["step"] % 2 == 1, frame["L"], np.nan),
            "train_loss": frame["L"] * 1.01,
            "lr": 1e-3,
        }
    )
    curves.to_csv(tmp_path / "curves.csv", index=False)
    out = build_report(tmp_path, tmp_path / "out", budgets=[1e21], n_bootstrap=0, backtest=False)
    nb = out.numbers
    assert nb["source"]["kind"] == "sweep"
    assert set(nb["fits"]) == {"1", "2", "3"}
    assert nb["data"]["checkpoints"] == len(frame) // 2  # the rows with a validation loss
    assert "curves" in out.figures
    # Approach 2 binned the runs by the plan's budgets, one profile per budget
    profiles = Fit.from_json(out.fits["2"]).extra["profiles"]
    assert len(profiles) == len(BUDGETS)
    assert sorted(p["n_runs"] for p in profiles) == [7] * len(BUDGETS)
    # no plan.toml: the sweep's convention is unknown, so budgets split as C = 6·N·D
    assert nb["settings"]["compute_convention"] == "C = 6·N·D"
    assert any("no plan.toml" in note for note in nb["notes"])


# ============================================================================ errors
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"source": "missing.csv"}, DataError, "does not exist"),
        ({"accelerator": "h10"}, UnknownNameError, "did you mean 'h100'"),
        ({"formats": ["svg"]}, QuantityError, "must include png"),
        ({"approach2": {"bin_tol": 0.2}}, UnknownNameError, "bin_tolerance"),
        ({"devices": "-2"}, QuantityError, "^devices must be positive"),
        ({"budgets": "1e22,lots"}, QuantityError, "lots"),
        ({"presets": ["kaplan"]}, UnknownNameError, "kaplan2020"),
        ({"n_bootstrap": 1}, QuantityError, "n_bootstrap"),
    ],
)
def test_bad_inputs(tmp_path, made, kwargs, error, match):
    _, _, csv = made
    args = {"source": csv, "out_dir": tmp_path / "out", "n_bootstrap": 0, "backtest": False}
    args.update(kwargs)
    if args["source"] == "missing.csv":
        args["source"] = tmp_path / "missing.csv"
    with pytest.raises(error, match=match) as info:
        build_report(**args)
    message = str(info.value)
    assert "\n" not in message and message.count(". ") <= 1  # one sentence


def test_bad_sources(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="has no runs.csv"):
        build_report(tmp_path / "empty", tmp_path / "out")
    bad = tmp_path / "fit.json"
    bad.write_text('{"schema": "scalinglaws.fit/0", "law": {}}')
    with pytest.raises(ScalingLawsError):
        build_report(bad, tmp_path / "out")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataError, match="not a folder"):
        build_report(bad, blocker)


# ============================================================================ figures by name
def test_make_figure(made, tmp_path):
    _, _, csv = made
    fig = make_figure("isoflop", csv)
    assert fig.axes[0].get_title() == f"IsoFLOP profiles: {len(BUDGETS)} budgets"
    fig = make_figure("presets", budgets="1e22")
    assert len(fig.axes) == 2
    fig = make_figure("isoloss", law="besiroglu2024")
    assert fig.axes[0].get_title() == "IsoLoss contours of Besiroglu et al. 2024"
    with pytest.raises(UnknownNameError, match="did you mean 'isoloss'"):
        make_figure("isolos", csv)
    with pytest.raises(DataError, match="needs a SOURCE"):
        make_figure("residuals")


# ============================================================================ command line
@pytest.fixture()
def cli_main():
    from scalinglaws.cli import cli, main
    from scalinglaws.cli import report as report_cli

    if "report" not in cli.commands:
        report_cli.register(cli)
    return main


def test_cli_report_and_plot(cli_main, made, tmp_path, capsys):
    result, _, csv = made
    out = tmp_path / "cli"
    source = str(result.fits["3"])  # a saved fit: no refitting
    code = cli_main(
        ["report", source, "-o", str(out), "--budgets", "1e21", "--formats", "png"]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    assert "approach 3 at 1e21 FLOPs: N* = " in text and "wrote" in text
    assert (out / "report.html").is_file() and not list(out.glob("figures/*.svg"))
    assert cli_main(["plot", "presets", "-o", str(tmp_path / "p.svg")]) == 0
    assert (tmp_path / "p.svg").read_text().lstrip().startswith("<?xml")
    assert cli_main(["plot", "isoflop", str(csv), "-o", str(tmp_path / "iso.png")]) == 0
    assert (tmp_path / "iso.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["report", "nope.csv", "-o", "OUT"], "does not exist"),
        (["report", "RUNS", "-o", "OUT", "--accelerator", "tpu9"], "unknown accelerator"),
        (["plot", "bogus", "RUNS", "-o", "OUT/x.png"], "unknown figure kind"),
        (["plot", "presets", "-o", "OUT/x.txt"], "use .png, .svg or .pdf"),
        (["plot", "curves", "RUNS", "-o", "OUT/x.png"], "training curves"),
    ],
)
def test_cli_errors(cli_main, made, tmp_path, capsys, argv, match):
    _, _, csv = made
    runs_only = tmp_path / "finals.csv"
    sweep_frame().to_csv(runs_only, index=False)
    argv = [a.replace("RUNS", str(runs_only)).replace("OUT", str(tmp_path / "o")) for a in argv]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and match in err[0]


def test_report_and_plot_take_the_approach2_profile_flags(tmp_path, capsys):
    """--profile/--degree/--window reach the report's Approach 2 as they reach `fit`'s."""
    from pathlib import Path

    from scalinglaws.cli import main

    sweep = Path(__file__).resolve().parents[1] / "examples" / "data" / "demo-sweep"
    out = tmp_path / "r"
    code = main(["report", str(sweep), "-o", str(out), "--profile", "akima", "--bootstrap", "0",
                 "--no-backtest", "--formats", "png"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    fit2 = json.loads((out / "fit_approach2.json").read_text())
    assert "Akima" in json.dumps(fit2["method"])
    code = main(["plot", "isoflop", str(sweep), "-o", str(tmp_path / "i.png"), "--profile",
                 "akima", "--degree", "3"])  # fmt: skip
    assert code == 2 and "takes no degree" in capsys.readouterr().err
