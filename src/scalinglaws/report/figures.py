"""The figures of a report, each drawn once from an :class:`~scalinglaws.report.analysis.Analysis`,
and one figure by name (:func:`make_figure`, ``scalinglaws plot KIND SOURCE``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from scalinglaws.errors import DataError, ScalingLawsError
from scalinglaws.progress import step
from scalinglaws.report.analysis import ALL_APPROACHES, Analysis
from scalinglaws.report.settings import (
    APPROACH2_DEFAULTS,
    ReportSettings,
    check_presets,
    parse_budgets,
    source_kind,
)


class _Planned(NamedTuple):
    """A figure of the report: its name, its caption and how to draw it."""

    name: str
    caption: str
    make: Callable[[], Any]


class _Plan(list[_Planned]):
    """The figures planned, in the order they are drawn."""

    def add(self, name: str, caption: str, make: Callable[[], Any]) -> None:
        self.append(_Planned(name, caption, make))


@dataclass(eq=False)
class Figures:
    """The figures drawn for a report: the files of each (by name), its caption, its PNG
    bytes (embedded in the HTML), and a note for each figure that could not be drawn."""

    files: dict[str, list[Path]] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    pngs: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def draw_figures(an: Analysis, folder: Path) -> Figures:
    """Draw every figure the analysis supports into ``folder`` (as ``<name>.png`` and the
    other formats of the settings); a figure that cannot be drawn is left out with a note."""
    from scalinglaws import plots

    out = Figures()
    for name, caption, make in [*_fit_figures(an), *_check_figures(an)]:
        try:
            fig = make()
        except ScalingLawsError as exc:
            out.notes.append(f"figure '{name}' was not drawn: {exc}")
            continue
        paths = plots.save(fig, folder / name, formats=an.settings.formats)
        out.files[name] = paths
        out.captions[name] = caption
        out.pngs[name] = next(p for p in paths if p.suffix == ".png").read_bytes()
        step(f"report: figure '{name}' drawn")
    return out


def _fits(an: Analysis) -> list[Any]:
    return [an.fits[a] for a in ALL_APPROACHES if a in an.fits]


def _fit_figures(an: Analysis) -> _Plan:
    """The figures of the fits themselves: frontier, IsoFLOP, IsoLoss, loss against compute
    and training curves."""
    from scalinglaws import plots

    f = an.per_token  # the data's convention: the sweep's f(N), else k
    fits, a3, data = _fits(an), an.fits.get("3"), an.runs
    planned = _Plan()
    if fits:
        planned.add(
            "frontier",
            "Compute-optimal parameters N*(C) and tokens D*(C) of every approach, with the "
            f"data's optima, {100 * an.settings.level:g}% bootstrap bands, and the requested "
            "budgets (stars, with intervals); the shaded region lies beyond the data's compute.",
            lambda: plots.plot_frontier(fits, budgets=an.budgets, runs=data, flops_per_token=f),
        )
    if "2" in an.fits:
        planned.add(
            "isoflop",
            "IsoFLOP profiles (Approach 2): final loss against model size at each budget, the "
            "parabola fitted to each profile, and its minimum (hollow: at the edge of the sizes "
            "sampled, so censored).",
            lambda: plots.plot_isoflop(an.fits["2"], data),
        )
    if a3 is not None and tuple(sorted(a3.law.variables)) == ("D", "N"):
        planned.add(
            "isoloss",
            "IsoLoss contours of the Approach 3 law over compute and model size, its efficient "
            "frontier (dashed), the runs coloured by loss, and the requested budgets (dotted), "
            "over the compute of the runs and the budgets.",
            # no published models: GPT-3 beside a law of the user's runs would stretch the
            # axis over a dozen decades and compare what cannot be compared
            lambda: plots.plot_isoloss(
                a3, data, flops_per_token=f, models=False, budgets=an.budgets
            ),
        )
    if data is not None:
        frontier = an.fits.get("2") or an.fits.get("1")
        planned.add(
            "loss_compute",
            "Loss against compute by model size (Kaplan et al. 2020, Figure 1 style): the "
            f"runs, the Approach 3 law along {an.convention} for each size, its compute-efficient "
            "frontier L*(C), and the loss frontier of Approach "
            + (str(frontier.approach) if frontier else "3")
            + ".",
            lambda: plots.plot_loss_vs_compute(
                an.curves if an.curves is not None else data,
                law=a3 if a3 is not None else None,
                frontier=frontier,
                flops_per_token=f,
            ),
        )
    dc = an.data_constrained
    if dc is not None:
        planned.extend(_data_constrained_figures(an, dc))
    if an.curves is not None:
        planned.add(
            "curves",
            "Training curves, with the Approach 3 law L(N, D) drawn along each run's tokens "
            "(fitted to final losses: checkpoints of a long schedule before its end sit above "
            "it).",
            lambda: plots.plot_training_curves(an.curves, law=a3),
        )
    return planned


def _data_values(an: Analysis) -> list[float]:
    """Three of the runs' unique-token amounts U: their lower quartile, median and upper
    quartile (values of the data; the extremes would set a 100M-token curve beside a 100B one,
    which flattens every other curve)."""
    import numpy as np

    u = an.runs.U if an.runs is not None else None
    if u is None or not len(u):
        return []
    picks = np.quantile(u, [0.25, 0.5, 0.75], method="nearest")
    return sorted({float(x) for x in picks})


def _data_constrained_figures(an: Analysis, dc: Any) -> _Plan:
    """The repeated-data figures of Muennighoff et al. 2023 from the data-constrained fit:
    loss against epochs at the data's unique-token amounts, and the data-limited optimum at
    the first budget with the data's largest U."""
    from scalinglaws import plots
    from scalinglaws.units import format_flops, format_quantity

    us = _data_values(an)
    planned = _Plan()
    if not us:  # a saved fit: no runs to read U from
        return planned
    r_d = dc.law.R_D_star
    planned.add(
        "epochs",
        "Repeated against fresh data (Muennighoff et al. 2023, eq. 5, fitted to your runs: "
        f"R_D* = {r_d:.3g}, R_N* = {dc.law.R_N_star:.3g}): loss against epochs over the runs' "
        f"unique tokens U = {', '.join(format_quantity(u) for u in us)} (quartiles of the runs' "
        "U) at the size for which "
        "D fresh tokens are compute-optimal, the same model on fresh data (dashed), up to 4 "
        "epochs shaded, and where a repeated token falls to 1/e of a fresh one (1 + R_D* "
        "epochs, dotted).",
        lambda: plots.plot_epochs(dc, us),
    )
    c = an.budgets[0] if an.budgets else None
    u_max = float(max(an.runs.U))
    if c is not None:
        planned.add(
            "data_isoloss",
            f"The data-constrained optimum at {format_flops(c, 3)} FLOPs with the runs' largest "
            f"U = {format_quantity(u_max)} unique tokens (all the unique data they report): "
            "IsoLoss contours of the fitted L(N, D, U), the efficient frontier with the data "
            "limit (solid) and without it (dashed), which part once D* exceeds U.",
            lambda: plots.plot_data_isoloss(
                dc,
                c,
                u_max,
                flops_per_token=an.k,
                title="Data-constrained optimum (your fit)",
            ),
        )
    return planned


def _check_figures(an: Analysis) -> _Plan:
    """The figures that check the fits: residuals, predicted against observed, bootstrap,
    backtest, and the comparison with the published presets."""
    from scalinglaws import plots

    fits, a3, data = _fits(an), an.fits.get("3"), an.runs
    planned = _Plan()
    if a3 is not None and an.a3_rows is not None:
        planned.add(
            "residuals",
            "Approach 3's log-residuals against N, D and C with their binned median: a trend "
            "means the functional form misses the data.",
            lambda: plots.plot_residuals(a3, an.a3_rows),
        )
        planned.add(
            "predicted",
            "Approach 3's predicted against observed loss.",
            lambda: plots.plot_predicted_vs_observed(a3, an.a3_rows),
        )
    if a3 is not None and a3.replicates is not None and len(a3.replicates):
        planned.add(
            "bootstrap",
            "Bootstrap distributions of Approach 3's exponents (whole runs resampled), with "
            "Hoffmann et al.'s and Besiroglu et al.'s values.",
            lambda: plots.plot_bootstrap(a3),
        )
    if an.backtest is not None:
        bt = an.backtest
        planned.add(
            "backtest",
            "Backtest: Approach 3 fitted to the runs at or below the cut predicts the held-out "
            f"runs above it ({100 * bt.level:g}% prediction intervals).",
            lambda: plots.plot_backtest(bt, an.a3_rows),
        )
    c_lo = min([*an.budgets, float(data.C.min()) if data is not None else math.inf]) / 10
    c_hi = max([*an.budgets, 1e25]) * 10
    planned.add(
        "presets",
        "Compute-optimal model size and tokens per parameter under every published preset and "
        "your fits (Kaplan et al. count non-embedding parameters); dotted lines mark the "
        "requested budgets.",
        lambda: plots.plot_presets(
            list(an.settings.presets),
            C_range=(c_lo, c_hi),
            fits=fits,
            budgets=an.budgets,
            flops_per_token=an.k,  # published presets keep their own C = k·N·D
            # your fits: over the data and up to 3x beyond the largest budget, no farther
            fit_range=(c_lo * 10, max([*an.budgets, c_lo * 100]) * 3),
        ),
    )
    return planned


# ============================================================================ one figure
#: Approaches each figure kind needs (from a runs source), and its default bootstrap size.
_KIND_NEEDS: dict[str, tuple[tuple[str, ...], int]] = {
    "isoflop": (("2",), 0),
    "frontier": (("3", "2", "1"), 100),
    "isoloss": (("3",), 0),
    "loss-compute": (("3", "2", "1"), 0),
    "curves": (("3",), 0),
    "residuals": (("3",), 0),
    "predicted": (("3",), 0),
    "bootstrap": (("3",), 200),
    "backtest": (("3",), 100),
    "presets": (("3",), 0),
    "epochs": ((), 0),
    "data-isoloss": ((), 0),
    "inference-cost": (("3",), 0),
    "overtraining": (("3",), 0),
}
#: The request each figure beyond compute-optimal takes (make_figure's arguments).
_REQUESTS: dict[str, tuple[str, ...]] = {
    "epochs": ("unique_tokens", "params"),
    "data-isoloss": ("unique_tokens", "compute"),
    "inference-cost": ("loss", "inference_tokens"),
    "overtraining": ("compute", "params"),
}
_REQUEST_WORDS = {
    "unique_tokens": "unique tokens",
    "params": "model sizes",
    "compute": "a FLOP budget",
    "loss": "a target loss",
    "inference_tokens": "inference demands",
}


def make_figure(
    kind: str,
    source: Any = None,
    budgets: Sequence[float] | str | None = None,
    n_bootstrap: int | None = None,
    seed: int = 0,
    level: float = 0.95,
    columns: Any = None,
    drop_highest: int = 0,
    flops_per_param_token: float = 6.0,
    presets: Sequence[str] | None = None,
    law: str | None = None,
    approach2: dict[str, Any] | None = None,
    unique_tokens: Any = None,
    params: Any = None,
    compute: Any = None,
    loss: Any = None,
    inference_tokens: Any = None,
) -> Any:
    """One figure of :data:`scalinglaws.plots.KINDS` from a runs file or table, a sweep folder
    or a saved fit (``scalinglaws plot KIND SOURCE``); returns the matplotlib Figure.

    The approaches a figure needs are fitted to the runs (Approach 3 for most; Approach 2 for
    ``isoflop``; all that apply for ``frontier``); ``n_bootstrap`` defaults to 200 for
    ``bootstrap``, 100 for ``frontier`` and ``backtest``, 0 otherwise.  ``law`` names a preset
    whose law is drawn instead of a fit (``isoloss``, ``loss-compute``, ``curves``), so
    ``make_figure("isoloss", law="besiroglu2024")`` needs no data.  ``presets`` and
    ``budgets`` select the presets and the budgets marked (``presets``, ``frontier``).

    The figures beyond compute-optimal take a request: ``epochs`` (``unique_tokens``, one or
    several U, default 1B, 10B, 100B; ``params``, fixed model sizes), ``data-isoloss``
    (``unique_tokens``, one U, default 25B; ``compute``, default 1e22), both from the
    data-constrained law fitted to runs with a U column, or ``law`` (default
    ``muennighoff2023``); ``inference-cost`` (``loss``, required; ``inference_tokens``,
    default 0, 200B, 2T, 20T) and ``overtraining`` (``compute``, default Llama 3 8B's 7.2e23,
    or ``params``, a fixed model size), from Approach 3 fitted to the runs, or ``law``
    (default ``hoffmann2022``).
    """
    from scalinglaws import plots
    from scalinglaws.errors import UnknownNameError, did_you_mean
    from scalinglaws.validate import check_common

    key = str(kind).strip().lower()
    if key not in plots.KINDS:
        raise UnknownNameError(
            f"unknown figure kind '{kind}'" + did_you_mean(key, list(plots.KINDS))
        )
    request = {
        "unique_tokens": unique_tokens,
        "params": params,
        "compute": compute,
        "loss": loss,
        "inference_tokens": inference_tokens,
    }
    _check_request(key, request)
    wanted, default_boot = _KIND_NEEDS[key]
    n_boot, seed, level = check_common(
        default_boot if n_bootstrap is None else n_bootstrap, seed, level
    )
    requested = parse_budgets(budgets)
    preset_names = check_presets(presets)
    if law is not None:
        from scalinglaws.presets import get_preset

        law = get_preset(law).name
    if key in _REQUESTS and source is not None and law is not None:
        raise DataError(
            f"law draws a preset instead of a fit of SOURCE; give one of them to the '{key}' "
            "figure, not both",
            argument="law",
        )
    if key in _REQUESTS and source is None:
        default = "muennighoff2023" if key in ("epochs", "data-isoloss") else "hoffmann2022"
        return _beyond_figure(key, law or default, request, flops_per_param_token)
    if source is None:
        if key == "presets":
            return plots.plot_presets(preset_names, budgets=requested)
        if key == "isoloss" and law is not None:
            return plots.plot_isoloss(law, flops_per_token=flops_per_param_token)
        raise DataError(
            f"the '{key}' figure needs a SOURCE (a runs file, a sweep folder or a saved fit)"
            + ("; or give law=PRESET to draw a preset's contours" if key == "isoloss" else "")
        )
    settings = ReportSettings(
        source_kind=source_kind(source),
        budgets=tuple(requested),
        n_bootstrap=n_boot,
        seed=seed,
        level=level,
        columns=columns,
        drop_highest=drop_highest,
        flops_per_param_token=flops_per_param_token,
        presets=tuple(preset_names),
        backtest=key == "backtest",
        approach2={**APPROACH2_DEFAULTS, **(approach2 or {})},
    )
    an = Analysis(source, settings)
    if law is not None and key in ("isoloss", "loss-compute", "curves"):
        wanted = tuple(a for a in wanted if a != "3")
    an.run(wanted, data_constrained=key in ("epochs", "data-isoloss"))
    if key in _REQUESTS:
        return _beyond_figure(key, _fitted_law(key, an), request, an.k, an)
    return _one_figure(key, an, law)


def _check_request(key: str, request: dict[str, Any]) -> None:
    """A request option given to a figure that does not take it is an error, not ignored."""
    takes = _REQUESTS.get(key, ())
    for name, value in request.items():
        if value is not None and name not in takes:
            users = [k for k, names in _REQUESTS.items() if name in names]
            raise DataError(
                f"{name} ({_REQUEST_WORDS[name]}) applies to the {' and '.join(users)} "
                f"figure{'s' if len(users) > 1 else ''}, not to '{key}'",
                argument=name,
            )


def _values(value: Any, name: str, allow_zero: bool = False) -> list[float]:
    """A request option as a list of numbers: text ("1B,10B"), a number or a sequence."""
    from scalinglaws.errors import QuantityError
    from scalinglaws.units import parse_quantity

    items = value.split(",") if isinstance(value, str) else list(
        value if isinstance(value, (list, tuple)) else [value]
    )  # fmt: skip
    items = [i.strip() if isinstance(i, str) else i for i in items]
    if not [i for i in items if i != ""]:
        raise QuantityError(f"{name} is empty; give one or more numbers", argument=name)
    out = []
    for item in items:
        if allow_zero:
            try:
                number = float(str(item).strip())
            except ValueError:
                number = None
            if number is not None and not number > 0:
                if number == 0.0:
                    out.append(0.0)
                    continue
                raise QuantityError(
                    f"{name} must be a number of tokens >= 0 (0: no inference), got {item!r}",
                    argument=name,
                )
            out.append(parse_quantity(item, what=name))
        else:
            out.append(parse_quantity(item, what=name))
    return out


def _one_value(value: Any, name: str) -> float:
    vals = _values(value, name)
    if len(vals) != 1:
        raise DataError(f"{name} takes one number here, got {len(vals)}", argument=name)
    return vals[0]


def _fitted_law(key: str, an: Analysis) -> Any:
    """The fit a figure beyond compute-optimal draws: the data-constrained fit (``epochs``,
    ``data-isoloss``), else Approach 3 (else any fit of an (N, D) law, for a saved fit)."""
    if key in ("epochs", "data-isoloss"):
        if an.data_constrained is None:
            why = an.data_constrained_error or (
                'the runs have no unique-tokens column U (map one with columns="U=<column>")'
            )
            raise DataError(
                f"the '{key}' figure needs the data-constrained law fitted to runs with a U "
                f"column, or law=muennighoff2023: {why}"
            )
        return an.data_constrained
    fit = an.fits.get("3") or next(
        (f for f in an.fits.values() if tuple(sorted(f.law.variables)) == ("D", "N")), None
    )
    if fit is None:
        raise DataError(
            f"the '{key}' figure needs a loss law of N and D (Approach 3), which is not "
            f"available: {an.skipped.get('3', 'no fit of one')}"
        )
    return fit


def _beyond_figure(
    key: str, law: Any, request: dict[str, Any], k: float, an: Analysis | None = None
) -> Any:
    """One figure beyond compute-optimal for ``law`` (a preset name or a fit) and the
    ``request`` (see :func:`make_figure`)."""
    from scalinglaws import plots

    r = request
    if key == "epochs":
        if r["unique_tokens"] is not None:
            us = _values(r["unique_tokens"], "unique_tokens")
        else:
            us = (_data_values(an) if an is not None else []) or [1e9, 1e10, 1e11]
        ns = None if r["params"] is None else _values(r["params"], "params")
        if ns is not None and len(ns) > 1 and len(us) > 1:
            raise DataError(
                "params (several model sizes) takes one unique_tokens value, got "
                f"{len(us)}; give several U or several sizes, not both",
                argument="params",
            )
        return plots.plot_epochs(law, us, ns)
    if key == "data-isoloss":
        has_u = an is not None and an.runs is not None and an.runs.U is not None
        default_u = float(max(an.runs.U)) if has_u else 25e9
        u = default_u if r["unique_tokens"] is None else _one_value(r["unique_tokens"],
                                                                    "unique_tokens")  # fmt: skip
        default_c = an.budgets[0] if an is not None and an.budgets else 1e22
        c = default_c if r["compute"] is None else _one_value(r["compute"], "compute")
        return plots.plot_data_isoloss(law, c, u, flops_per_token=k)
    if key == "inference-cost":
        if r["loss"] is None:
            raise DataError(
                "loss is required by the 'inference-cost' figure: the target loss every model "
                "on the curve reaches (e.g. 2.0)",
                argument="loss",
            )
        ell = _one_value(r["loss"], "loss")
        d_inf = (
            [0.0, 2e11, 2e12, 2e13]
            if r["inference_tokens"] is None
            else _values(r["inference_tokens"], "inference_tokens", allow_zero=True)
        )
        return plots.plot_inference_cost(law, ell, d_inf, train_flops_per_token=k)
    if r["compute"] is not None and r["params"] is not None:
        raise DataError(
            "compute and params both fix the over-training figure; give a FLOP budget or a "
            "model size, not both",
            argument="compute",
        )
    c = None if r["compute"] is None else _one_value(r["compute"], "compute")
    n = None if r["params"] is None else _one_value(r["params"], "params")
    return plots.plot_overtraining(law, C=c, N=n, flops_per_token=k)


def _one_figure(key: str, an: Analysis, law: str | None) -> Any:
    """The figure ``key`` of the analysis (with a preset's ``law`` instead of Approach 3's,
    when given); :class:`DataError` naming what the figure lacks."""
    from scalinglaws import plots

    fits = _fits(an)
    a3 = an.fits.get("3")
    data = an.runs
    k = an.k  # published presets keep their own C = k·N·D
    f = an.per_token  # the data's convention: the sweep's f(N), else k

    def need(thing: Any, what: str) -> Any:
        if thing is None:
            reason = ""
            if what.startswith("Approach"):
                reason = an.skipped.get(what[-1], "")
            raise DataError(
                f"the '{key}' figure needs {what}"
                + (f", which is not available: {reason}" if reason else "")
            )
        return thing

    if key == "isoflop":
        return plots.plot_isoflop(need(an.fits.get("2"), "Approach 2"), data)
    if key == "frontier":
        if not fits:
            need(None, "a fit")
        return plots.plot_frontier(fits, budgets=an.budgets, runs=data, flops_per_token=f)
    if key == "isoloss":  # published models beside a published law only
        return plots.plot_isoloss(
            law or need(a3, "Approach 3"),
            data,
            flops_per_token=k if law else f,
            models=law is not None,
            budgets=an.budgets,
        )
    if key == "loss-compute":
        need(data, "runs (not a saved fit)")
        frontier = an.fits.get("2") or an.fits.get("1")
        curves = an.curves if an.curves is not None else data
        return plots.plot_loss_vs_compute(
            curves, law=law or a3, frontier=frontier, flops_per_token=k if law else f
        )
    if key == "curves":
        curves = need(an.curves, "runs with training curves (several checkpoints per run)")
        return plots.plot_training_curves(curves, law=law or a3)
    if key == "residuals":
        return plots.plot_residuals(need(a3, "Approach 3"), need(an.a3_rows, "runs"))
    if key == "predicted":
        return plots.plot_predicted_vs_observed(need(a3, "Approach 3"), need(an.a3_rows, "runs"))
    if key == "bootstrap":
        return plots.plot_bootstrap(need(a3, "Approach 3"))
    if key == "backtest":
        return plots.plot_backtest(
            need(an.backtest, f"a backtest ({an.backtest_error})"), an.a3_rows
        )
    return plots.plot_presets(
        list(an.settings.presets), fits=fits, budgets=an.budgets, flops_per_token=k
    )
