"""The figures the scaling-law papers made famous, drawn from plain objects.

Every function takes plain objects (a :class:`~scalinglaws.fit.result.Fit`, a
:class:`~scalinglaws.runs.Runs` or anything :func:`~scalinglaws.runs.as_runs` accepts, a law, a
preset, arrays), returns a :class:`matplotlib.figure.Figure` and never touches ``pyplot``'s global
state (so figures are not leaked and the module is safe in servers and tests); :func:`save`
writes it as PNG and SVG.  The figures:

- :func:`plot_isoflop`: loss against N per FLOP budget, the fitted parabolas and their minima
  (Hoffmann et al. 2022, Figure 3 left);
- :func:`plot_frontier`: N*(C) and D*(C) with the data's optima, the fitted power laws, bootstrap
  bands and the extrapolation to requested budgets shaded (Hoffmann Figure 3 centre and right);
- :func:`plot_isoloss`: IsoLoss contours over (C, N), the efficient frontier, the data coloured
  by loss and published models (Hoffmann Figure 4 left);
- :func:`plot_loss_vs_compute`: loss against compute per model size, the law's curves and the
  L(C) frontier (Kaplan et al. 2020, Figure 1 left);
- :func:`plot_training_curves`: loss against tokens per run with the learning-curve law;
- :func:`plot_residuals`, :func:`plot_predicted_vs_observed`: log-residuals against N, D and C,
  and predicted against observed loss;
- :func:`plot_bootstrap`: bootstrap distributions of the exponents;
- :func:`plot_backtest`: held-out predictions with intervals against the truth;
- :func:`plot_presets`: N*(C) and tokens per parameter under every published preset.

Style: log axes carry readable labels (``100M``, ``1B`` for counts; powers of ten for FLOPs),
titles and axis labels are words with units, budgets and model sizes are coloured with
``viridis`` and loss with ``plasma``, and legends sit outside the data where they would cover it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg", force=False)  # no display is ever needed; a no-op if already chosen

import numpy as np  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib import ticker  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from scalinglaws.errors import (  # noqa: E402
    DataError,
    UnknownNameError,
    did_you_mean,
    output_error,
)
from scalinglaws.laws.base import Law  # noqa: E402
from scalinglaws.units import format_flops, format_quantity  # noqa: E402

#: k of C = k·N·D, or a callable f(N) giving training FLOPs per token (C = f(N)·D).
FlopsPerToken = float | Callable[[np.ndarray], np.ndarray]

F = TypeVar("F", bound=Callable[..., Figure])

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")

#: Colour maps: budgets and model sizes (ordered quantities) and loss.
BUDGET_CMAP = "viridis"
SIZE_CMAP = "viridis"
LOSS_CMAP = "plasma"
#: Colours of categories (approaches, presets), from the Okabe-Ito colour-blind-safe palette.
PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#F0E442",
)
APPROACH_LABELS = {
    "1": "Approach 1 (envelope of curves)",
    "2": "Approach 2 (IsoFLOP profiles)",
    "3": "Approach 3 (parametric fit)",
    "power": "power law",
}
_STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "legend.framealpha": 0.85,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "axes.grid.which": "major",
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 150,
    "svg.fonttype": "none",
    "figure.dpi": 100,
}


# ============================================================================ published models
@dataclass(frozen=True)
class Model:
    """A published model to mark on a figure: parameters N, training tokens D, FLOPs C."""

    name: str
    N: float
    D: float
    C: float
    source: str


#: Well-known models, as their papers report them (C as the paper prints it where it does,
#: else 6·N·D).
PUBLISHED_MODELS: tuple[Model, ...] = (
    Model("GPT-3", 175e9, 300e9, 3.14e23, "Brown et al. 2020, Table D.1"),
    Model("Gopher", 280e9, 300e9, 5.76e23, "Rae et al. 2021; Hoffmann et al. 2022, Table 1"),
    Model("MT-NLG 530B", 530e9, 270e9, 6 * 530e9 * 270e9, "Smith et al. 2022 (6ND)"),
    Model("Chinchilla", 70e9, 1.4e12, 5.76e23, "Hoffmann et al. 2022, Table 1"),
    Model("Llama 3 405B", 405e9, 15.6e12, 3.8e25, "Llama Team 2024, §3.2.1"),
)


# ============================================================================ style and saving
@contextmanager
def style() -> Iterator[None]:
    """The package's figure style (font sizes, light grid, no top/right spines)."""
    with matplotlib.rc_context(_STYLE):
        yield


def _styled(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with style():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def save(
    fig: Figure, path: str | Path, formats: Sequence[str] = ("png", "svg"), dpi: int = 150
) -> list[Path]:
    """Write ``fig`` to ``path`` + ``.png``, ``.svg`` (and/or ``.pdf``); return the paths.

    ``path`` is given without extension (a known extension is replaced).  Parent folders are
    created.  Raises :class:`UnknownNameError` for a format other than png, svg or pdf.
    """
    formats = tuple(formats)
    if not formats:
        raise UnknownNameError(f"save needs at least one format; valid formats are {FORMATS}")
    for fmt in formats:
        if fmt not in FORMATS:
            raise UnknownNameError(
                f"unknown figure format '{fmt}'" + did_you_mean(str(fmt), FORMATS)
            )
    base = Path(path)
    if base.suffix.lstrip(".").lower() in FORMATS:
        base = base.with_suffix("")
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(base.parent, exc, "the figure folder") from None
    out = []
    with style():
        for fmt in formats:
            target = base.parent / f"{base.name}.{fmt}"
            metadata = {"Date": None} if fmt == "svg" else None  # reproducible SVG bytes
            if target.is_dir():
                raise output_error(target, IsADirectoryError(21, "it is a folder"), "the figure")
            try:
                fig.savefig(target, format=fmt, dpi=dpi, metadata=metadata)
            except OSError as exc:
                raise output_error(target, exc, "the figure") from None
            out.append(target)
    return out


def _figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] | None = None) -> tuple:
    size = size or (5.6 * ncols + 0.6, 4.3 * nrows)
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


# ============================================================================ axes
def _count_label(x: float, _pos: Any = None) -> str:
    return format_quantity(x) if x > 0 else ""


def _flops_label(x: float, _pos: Any = None) -> str:
    if x <= 0:
        return ""
    e = math.log10(x)
    if abs(e - round(e)) < 1e-9:
        return f"$10^{{{int(round(e))}}}$"
    return format_flops(x, 2)


def _plain_label(x: float, _pos: Any = None) -> str:
    return format_quantity(x) if x >= 1e3 else f"{x:.3g}"


_LABELLERS = {"count": _count_label, "flops": _flops_label, "plain": _plain_label}


def log_axis(ax: Axes, which: str = "x", kind: str = "count") -> None:
    """Put ``ax``'s ``which`` axis on a log scale with readable labels.

    ``kind``: ``"count"`` labels decades as 10M, 1B, 1T; ``"flops"`` as powers of ten;
    ``"plain"`` as round plain numbers (losses: 2.2, 2.4 ...).  When the axis spans less than
    about two decades the ticks at 2 and 5 x 10^k are labelled as well.
    """
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    log_ticks(ax.xaxis if which == "x" else ax.yaxis, kind)


def log_ticks(axis: Any, kind: str) -> None:
    """Tick locators and labels of :func:`log_axis` on an axis already on a log scale (also
    a colour bar's)."""
    label = _LABELLERS[kind]
    if kind == "plain":
        axis.set_major_locator(_LinearTicksOnLog())
        axis.set_major_formatter(ticker.FuncFormatter(label))
        axis.set_minor_locator(ticker.NullLocator())
        axis.set_minor_formatter(ticker.NullFormatter())
        return
    axis.set_major_locator(ticker.LogLocator(base=10, numticks=12))
    axis.set_major_formatter(ticker.FuncFormatter(label))
    axis.set_minor_locator(ticker.LogLocator(base=10, subs=np.arange(2, 10), numticks=12))
    axis.set_minor_formatter(_ShortSpanLabels(label))


class _ShortSpanLabels(ticker.Formatter):
    """Labels the minor ticks at 2 and 5 x 10^k, only while the axis spans under ~2 decades
    (on a longer axis the decades suffice and more labels would collide)."""

    def __init__(self, label: Callable[..., str]) -> None:
        self.label = label

    def __call__(self, x: float, pos: Any = None) -> str:
        lo, hi = sorted(self.axis.get_view_interval()) if self.axis is not None else (1, 1e9)
        if x <= 0 or lo <= 0 or hi / lo > 10**2.2:
            return ""
        mantissa = x / 10 ** math.floor(math.log10(x) + 1e-9)
        if min(abs(mantissa - 2), abs(mantissa - 5)) < 1e-6:
            return self.label(x)
        return ""


class _LinearTicksOnLog(ticker.Locator):
    """Round, evenly spaced ticks (2.2, 2.4, 2.6 ...) on a log axis that spans little more than
    a factor of ten, where decade ticks would leave it nearly unlabelled."""

    def __call__(self) -> Any:
        lo, hi = sorted(self.axis.get_view_interval())
        if lo <= 0 or hi / lo > 1e4:  # many decades: the decades only
            return ticker.LogLocator(base=10, numticks=10).tick_values(max(lo, 1e-300), hi)
        if hi / lo > 20:
            return ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)).tick_values(lo, hi)
        return self.tick_values(lo, hi)

    def tick_values(self, vmin: float, vmax: float) -> Any:
        ticks = ticker.MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]).tick_values(vmin, vmax)
        return ticks[(ticks >= vmin) & (ticks <= vmax) & (ticks > 0)]


def _set_log_limits(ax: Axes, which: str, lo: float, hi: float, pad: float = 1.25) -> None:
    (ax.set_xlim if which == "x" else ax.set_ylim)(lo / pad, hi * pad)


LABELS = {
    "N": "Parameters N",
    "D": "Training tokens D",
    "C": "Training compute C (FLOPs)",
    "L": "Loss (nats per token)",
    "S": "Training steps S",
}


def _cmap(name: str) -> mcolors.Colormap:
    """The named colour map without its palest tenth (yellow vanishes on white)."""
    base = matplotlib.colormaps[name]
    return mcolors.ListedColormap(base(np.linspace(0.0, 0.9, 256)), name=f"{name}_trunc")


def _colorbar(fig: Figure, ax: Any, cmap: str, norm: Any, label: str, kind: str) -> Any:
    sm = ScalarMappable(norm=norm, cmap=_cmap(cmap))
    cb = fig.colorbar(sm, ax=ax, pad=0.02, fraction=0.05)
    cb.set_label(label)
    if isinstance(norm, mcolors.LogNorm):
        log_ticks(cb.ax.yaxis, kind)
    return cb


def _log_norm(values: Any) -> mcolors.LogNorm:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (1.0, 10.0)
    if hi <= lo:
        lo, hi = lo / 1.5, hi * 1.5
    return mcolors.LogNorm(vmin=lo, vmax=hi)


def _lin_norm(values: Any) -> mcolors.Normalize:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return mcolors.Normalize(vmin=lo, vmax=hi)


def _legend_below(fig: Figure, ax: Axes, ncols: int = 3) -> None:
    """The legend of ``ax`` under the figure, where it covers no data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(ncols, len(handles)))


def _legend(ax: Axes, **kwargs: Any) -> None:
    """A legend when there is something to label (an empty legend warns)."""
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(**{"loc": "best", **kwargs})


# ============================================================================ inputs
def _runs(runs: Any) -> Any:
    from scalinglaws.runs import as_runs

    return as_runs(runs)


def _fits(fits: Any) -> list[Any]:
    from scalinglaws.fit.result import Fit

    if isinstance(fits, Fit):
        return [fits]
    out = list(fits)
    for f in out:
        if not isinstance(f, Fit):
            raise DataError(f"expected a Fit (from an estimator's .fit), got {type(f).__name__}")
    return out


def _resolve_law(law: Any) -> Law:
    """A Law from a Law, a Fit, a preset name or a Preset."""
    from scalinglaws.presets import Preset, get_preset

    if isinstance(law, Law):
        return law
    if isinstance(law, (str, Preset)):
        preset = get_preset(law)
        if preset.law is None:
            raise DataError(
                f"preset '{preset.name}' publishes no (N, D) loss law to draw; use one such as "
                "'hoffmann2022' or 'besiroglu2024'"
            )
        return preset.law
    inner = getattr(law, "law", None)
    if isinstance(inner, Law):
        return inner
    raise DataError(f"expected a law, a Fit or a preset name, got {type(law).__name__}")


def _short_label(obj: Any) -> str:
    """A short name: "Approach 3" for a fit, the citation for a preset, the law's name."""
    from scalinglaws.presets import Preset, get_preset

    if isinstance(obj, str):
        obj = get_preset(obj)
    if isinstance(obj, Preset):
        return obj.citation.short
    approach = getattr(obj, "approach", None)
    if approach is not None:
        return f"Approach {approach}" if str(approach) in "123" else f"fit ({approach})"
    if isinstance(obj, Law):
        return f"law {obj.name}"
    return str(obj)


def _label_of(obj: Any) -> str:
    from scalinglaws.presets import Preset, get_preset

    if isinstance(obj, str):
        obj = get_preset(obj)
    if isinstance(obj, Preset):
        return obj.citation.short
    approach = getattr(obj, "approach", None)
    if approach is not None:
        return "your fit: " + APPROACH_LABELS.get(str(approach), f"approach {approach}")
    if isinstance(obj, Law):
        return f"law {obj.name}"
    return str(obj)


def _need_nd(law: Law, what: str) -> None:
    if tuple(sorted(law.variables)) != ("D", "N"):
        raise DataError(
            f"{what} needs a law of N and D (such as approach 3's Chinchilla fit), got law "
            f"'{law.name}' of {', '.join(law.variables)}"
        )


def _final_runs(runs: Any) -> Any:
    return runs.final() if runs.has_curves else runs


def _geomspace(lo: float, hi: float, num: int = 200) -> np.ndarray:
    return np.geomspace(lo, hi, num)


def _quiet_log(x: Any) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.log(np.asarray(x, dtype=float))


# ============================================================================ IsoFLOP profiles
@_styled
def plot_isoflop(fit: Any, runs: Any = None, title: str | None = None) -> Figure:
    """IsoFLOP profiles (Hoffmann et al. 2022, Figure 3 left): final loss against parameters N
    at each FLOP budget, the polynomial L = p(ln N) fitted to each profile and its minimum N*.

    ``fit`` is an Approach 2 Fit (its ``extra["profiles"]``); ``runs`` (optional) adds the
    measured points, each coloured by the budget whose range [C_low, C_high] holds its C.
    Minima used in the power laws are filled; minima at the edge of the sampled sizes (left out
    or flagged ``EDGE_MINIMUM``) are hollow.
    """
    profiles = (getattr(fit, "extra", None) or {}).get("profiles")
    if not profiles:
        raise DataError(
            "an IsoFLOP figure needs an Approach 2 fit (its extra['profiles']); fit "
            "Approach2() to runs with several model sizes per FLOP budget"
        )
    fig, axes = _figure(size=(7.4, 4.8))
    ax = axes[0, 0]
    norm = _log_norm([p["C"] for p in profiles])
    cmap = _cmap(BUDGET_CMAP)
    shown: list[float] = []  # losses drawn, for the y limits
    if runs is not None:
        r = _final_runs(_runs(runs))
        N, C, L = r.N, r.C, r.L
        for p in profiles:
            inside = (C >= p["C_low"] * (1 - 1e-9)) & (C <= p["C_high"] * (1 + 1e-9))
            ax.scatter(
                N[inside], L[inside], s=16, color=cmap(norm(p["C"])), alpha=0.75, lw=0, zorder=2
            )
            shown += L[inside].tolist()
    n_lo = min(p["N_low"] for p in profiles)
    n_hi = max(p["N_high"] for p in profiles)
    degrees = set()
    for p in profiles:
        colour = cmap(norm(p["C"]))
        good = p.get("used", True) and p.get("interior", True)
        if p.get("poly"):
            degrees.add(len(p["poly"]) - 1)
            grid = _geomspace(p["N_low"] / 1.15, p["N_high"] * 1.15, 120)
            curve = np.polyval(p["poly"], np.log(grid / p["N_ref"]))
            ax.plot(grid, curve, color=colour, lw=1.3, zorder=3)
            ends = np.polyval(p["poly"], np.log(np.array([p["N_low"], p["N_high"]]) / p["N_ref"]))
            shown += ends.tolist()
        ax.scatter(
            [p["N_opt"]], [p["L_opt"]], s=46, marker="D", facecolor=colour if good else "white",
            edgecolor="black", linewidth=0.8, zorder=4,
        )  # fmt: skip
        shown.append(p["L_opt"])
    # legend entries for the marker kinds (not per budget: the colour bar carries budgets)
    ax.scatter([], [], s=46, marker="D", facecolor="0.5", edgecolor="black", label="minimum N*")
    if any(not (p.get("used", True) and p.get("interior", True)) for p in profiles):
        ax.scatter(
            [], [], s=46, marker="D", facecolor="white", edgecolor="black",
            label="minimum at the edge of the sizes (censored)",
        )  # fmt: skip
    if degrees:
        what = "parabola" if degrees == {2} else "polynomial"
        ax.plot([], [], color="0.4", lw=1.3, label=f"fitted {what} in log N, per budget")
    if runs is not None:
        ax.scatter([], [], s=16, color="0.5", lw=0, label="runs (colour: budget)")
    _set_log_limits(ax, "x", n_lo, n_hi, 1.3)
    log_axis(ax, "x", "count")
    ax.set_xlabel(LABELS["N"])
    ax.set_ylabel(LABELS["L"])
    lo, hi = float(np.min(shown)), float(np.max(shown))
    pad = 0.04 * (hi - lo) if hi > lo else 0.05
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_title(title or f"IsoFLOP profiles: {len(profiles)} budgets")
    _colorbar(fig, ax, BUDGET_CMAP, norm, "FLOP budget C", "flops")
    _legend(ax)
    return fig


# ============================================================================ frontier
def _data_c_range(fits: list[Any], runs: Any) -> tuple[float, float] | None:
    lo, hi = math.inf, -math.inf
    if runs is not None:
        c = _runs(runs).C
        lo, hi = min(lo, float(c.min())), max(hi, float(c.max()))
    for f in fits:
        for p in f.extra.get("profiles") or []:
            lo, hi = min(lo, p["C"]), max(hi, p["C"])
        env = f.extra.get("envelope")
        if env:
            c = np.asarray(env["C"], dtype=float)
            lo, hi = min(lo, float(c.min())), max(hi, float(c.max()))
    return (lo, hi) if math.isfinite(lo) and hi > 0 else None


def _tokens_at(C: Any, N: Any, flops_per_token: Any) -> np.ndarray:
    """D = C/(k·N) for a number k, or C/f(N) for a callable f (e.g. a sweep's own FLOPs per
    token, :class:`scalinglaws.sweep.family.FamilyFlops`)."""
    c, n = np.asarray(C, dtype=float), np.asarray(N, dtype=float)
    if callable(flops_per_token):
        return c / np.asarray(flops_per_token(n), dtype=float)
    return c / (float(flops_per_token) * n)


def _is_rule(fit: Any) -> bool:
    """True for a fit with a power-law rule N* = k_N·C^a, D* = k_D·C^b (Approaches 1, 2)."""
    return {"k_N", "a", "k_D", "b"} <= {*fit.params, *fit.derived}


def frontier_curve(
    fit: Any, C: Any, flops_per_token: FlopsPerToken = 6.0
) -> tuple[np.ndarray, np.ndarray]:
    """(N*(C), D*(C)) of a fit: N* = k_N·C^a, D* = k_D·C^b for Approaches 1 and 2 (Hoffmann et
    al. 2022 §3.1-3.2); the allocation of the fitted (N, D) law under C = k·N·D otherwise
    (closed form N* = G·(C/k)^a for the Chinchilla form, Hoffmann App. D.2).  With a callable
    ``flops_per_token`` f(N) the budget splits as C = f(N)·D: the law is allocated
    numerically, and a rule keeps its N* with D* = C/f(N*)."""
    c = np.asarray(C, dtype=float)
    d = {**fit.params, **fit.derived}
    if _is_rule(fit):
        n = d["k_N"] * c ** d["a"]
        if callable(flops_per_token):
            return n, _tokens_at(c, n, flops_per_token)
        return n, d["k_D"] * c ** d["b"]
    from scalinglaws.allocate import allocate

    a = allocate(fit.law, C=c, flops_per_token=flops_per_token)
    return np.asarray(a.N, dtype=float), np.asarray(a.D, dtype=float)


def _replicate_laws(fit: Any) -> list[Law]:
    return fit.replicate_laws()


def frontier_band(
    fit: Any, C: Any, flops_per_token: FlopsPerToken = 6.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Bootstrap band of N*(C) and D*(C) at the fit's interval level: (N_lo, N_hi, D_lo, D_hi).

    For a law of (N, D) with ``extra["bootstrap_params"]``, each replicate's law is allocated
    and the equal-tailed percentiles taken at every C.  Otherwise the band is interpolated (in
    log-log) through the fit's intervals of ``N_opt@C`` and ``D_opt@C`` at the budgets it was
    asked for; outside those budgets there is no band (NaN).  None when there is neither.
    A rule with a callable ``flops_per_token`` f(N) takes D* = C/f(N*), so its D band is C/f
    of the N band (f increasing: the ends swap).
    """
    c = np.asarray(C, dtype=float)
    tail = 100 * (1 - fit.level) / 2
    if tuple(sorted(fit.law.variables)) == ("D", "N"):
        laws = _replicate_laws(fit)
        if len(laws) >= 2:
            from scalinglaws.allocate import allocate
            from scalinglaws.errors import ScalingLawsError

            Ns, Ds = [], []
            for law in laws:
                try:
                    a = allocate(law, C=c, flops_per_token=flops_per_token)
                except ScalingLawsError:
                    continue
                Ns.append(np.asarray(a.N, dtype=float))
                Ds.append(np.asarray(a.D, dtype=float))
            if len(Ns) >= 2:
                n_lo, n_hi = np.nanpercentile(np.array(Ns), [tail, 100 - tail], axis=0)
                d_lo, d_hi = np.nanpercentile(np.array(Ds), [tail, 100 - tail], axis=0)
                return n_lo, n_hi, d_lo, d_hi
    out = []
    for name in ("N_opt", "D_opt"):
        pts = sorted(
            (float(k.split("@", 1)[1]), v)
            for k, v in fit.intervals.items()
            if k.startswith(name + "@") and np.all(np.isfinite(v)) and min(v) > 0
        )
        if len(pts) < 2:
            return None
        cs = np.log([p[0] for p in pts])
        lo = np.log([p[1][0] for p in pts])
        hi = np.log([p[1][1] for p in pts])
        lc = np.log(c)
        inside = (lc >= cs[0] - 1e-9) & (lc <= cs[-1] + 1e-9)
        out.append(np.where(inside, np.exp(np.interp(lc, cs, lo)), np.nan))
        out.append(np.where(inside, np.exp(np.interp(lc, cs, hi)), np.nan))
        if name == "N_opt" and callable(flops_per_token) and _is_rule(fit):
            n_lo, n_hi = out
            ok = np.isfinite(n_lo) & np.isfinite(n_hi)
            d_lo, d_hi = np.full(c.shape, np.nan), np.full(c.shape, np.nan)
            d_lo[ok] = _tokens_at(c[ok], n_hi[ok], flops_per_token)
            d_hi[ok] = _tokens_at(c[ok], n_lo[ok], flops_per_token)
            return n_lo, n_hi, d_lo, d_hi
    return out[0], out[1], out[2], out[3]


def _fit_label(fit: Any, exponent: str) -> str:
    value = {**fit.params, **fit.derived}.get(exponent)
    if value is None:
        law = fit.law
        value = getattr(law, exponent, None)
    head = APPROACH_LABELS.get(str(fit.approach), f"approach {fit.approach}")
    if value is None:
        return head
    text = f"{head}: {exponent} = {value:.3f}"
    ci = fit.intervals.get(exponent)
    if ci and all(math.isfinite(x) for x in ci):
        text += f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    return text


@_styled
def plot_frontier(
    fits: Any,
    budgets: Sequence[float] = (),
    runs: Any = None,
    flops_per_token: FlopsPerToken = 6.0,
    C_range: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """The compute-optimal frontier (Hoffmann et al. 2022, Figure 3 centre and right):
    N*(C) and D*(C) in two panels.

    For each fit (one Fit or several, e.g. Approaches 1, 2 and 3 overlaid): the data's optima
    (Approach 2's per-budget minima, hollow where at the edge of the sizes; Approach 1's
    envelope), the fitted power law (N* = k_N·C^a, or the allocation of an (N, D) law), its
    bootstrap band (:func:`frontier_band`), and the requested ``budgets`` marked with their
    intervals.  The region beyond the data's largest budget is shaded: that is extrapolation.
    ``flops_per_token`` is k of C = k·N·D or a callable f(N) for C = f(N)·D
    (:func:`frontier_curve`).
    """
    fits = _fits(fits)
    if not fits:
        raise DataError("plot_frontier needs at least one Fit")
    budgets = [float(b) for b in budgets]
    data = _data_c_range(fits, runs)
    if C_range is None:
        lo = data[0] / 2 if data else min(budgets or [1e18]) / 100
        hi = max([data[1] * 2 if data else lo * 1e4, *[b * 3 for b in budgets]])
        C_range = (lo, hi)
    grid = _geomspace(C_range[0], C_range[1], 160)
    fig, axes = _figure(ncols=2, size=(11.6, 4.9))
    single = len(fits) == 1
    for col, (which, ylabel) in enumerate(
        (("N", "Optimal parameters N*"), ("D", "Optimal training tokens D*"))
    ):
        ax = axes[0, col]
        if data is not None and C_range[1] > data[1]:
            ax.axvspan(data[1], C_range[1], color="0.93", zorder=0, lw=0)
            ax.text(
                math.sqrt(data[1] * C_range[1]) if single else data[1] * 1.15,
                0.03,
                "extrapolated",
                transform=ax.get_xaxis_transform(),
                ha="center" if single else "left",
                va="bottom",
                color="0.35",
                fontsize=8.5,
            )
        for i, fit in enumerate(fits):
            colour = PALETTE[i % len(PALETTE)]
            N, D = frontier_curve(fit, grid, flops_per_token)
            y = N if which == "N" else D
            ax.plot(
                grid,
                y,
                color=colour,
                lw=1.8,
                zorder=3,
                label=_fit_label(fit, "a" if which == "N" else "b"),
            )
            band = frontier_band(fit, grid, flops_per_token)
            if band is not None:
                lo_b, hi_b = (band[0], band[1]) if which == "N" else (band[2], band[3])
                ok = np.isfinite(lo_b) & np.isfinite(hi_b)
                if ok.any():
                    ax.fill_between(
                        grid[ok],
                        lo_b[ok],
                        hi_b[ok],
                        color=colour,
                        alpha=0.18,
                        lw=0,
                        zorder=2,
                        label=f"{100 * fit.level:g}% bootstrap band",
                    )
            _frontier_data(ax, fit, which, colour)
            for b in budgets:
                _mark_budget(ax, fit, which, b, colour, flops_per_token, annotate=single)
        _set_log_limits(ax, "x", C_range[0], C_range[1], 1.0)
        log_axis(ax, "x", "flops")
        ax.set_xlabel(LABELS["C"])
        ax.set_ylabel(ylabel + (" (parameters)" if which == "N" else " (tokens)"))
        ax.set_yscale("log")
        log_axis(ax, "y", "count")
        ax.set_title(
            "Compute-optimal model size N*(C)" if which == "N" else "Compute-optimal data D*(C)"
        )
        # under each panel: inside, the entries of three approaches would cover the lines
        _legend(ax, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=1)
    if title:
        fig.suptitle(title)
    return fig


def _frontier_data(ax: Axes, fit: Any, which: str, colour: str) -> None:
    profiles = fit.extra.get("profiles") or []
    if profiles:
        key = "N_opt" if which == "N" else "D_opt"
        good = [p for p in profiles if p.get("used", True) and p.get("interior", True)]
        bad = [p for p in profiles if not (p.get("used", True) and p.get("interior", True))]
        ax.scatter(
            [p["C"] for p in good],
            [p[key] for p in good],
            s=30,
            color=colour,
            edgecolor="black",
            lw=0.6,
            zorder=4,
            label="IsoFLOP minima",
        )
        if bad:
            ax.scatter(
                [p["C"] for p in bad],
                [p[key] for p in bad],
                s=30,
                facecolor="white",
                edgecolor=colour,
                lw=1.0,
                zorder=4,
                label="minima at the edge of the sizes",
            )
    env = fit.extra.get("envelope")
    if env:
        c = np.asarray(env["C"], dtype=float)
        y = np.asarray(env["N" if which == "N" else "D"], dtype=float)
        used = np.asarray(env.get("used", np.ones(c.size, bool)), dtype=bool)
        step = max(1, c.size // 150)
        sel = np.arange(c.size)[::step]
        ok = sel[np.isfinite(y[sel]) & used[sel]]
        ax.scatter(
            c[ok],
            y[ok],
            s=6,
            color=colour,
            alpha=0.55,
            lw=0,
            zorder=3,
            label="envelope of the training curves",
        )


def _mark_budget(
    ax: Axes, fit: Any, which: str, budget: float, colour: str, k: FlopsPerToken, annotate: bool
) -> None:
    from scalinglaws.fit.powerlaw import budget_key

    key = budget_key("N_opt" if which == "N" else "D_opt", budget)
    value = fit.derived.get(key)
    ci = fit.intervals.get(key)
    if which == "D" and callable(k) and _is_rule(fit):
        # the rule's N*, D* = C/f(N*): the D interval is C/f of the N interval
        value = None
        n_ci = fit.intervals.get(budget_key("N_opt", budget))
        ci = (
            sorted(float(_tokens_at(budget, x, k)) for x in n_ci)
            if n_ci and all(math.isfinite(x) and x > 0 for x in n_ci)
            else None
        )
    if value is None:
        N, D = frontier_curve(fit, [budget], k)
        value = float((N if which == "N" else D)[0])
    text = f"{format_flops(budget)} FLOPs: {which}* = {format_quantity(value)}"
    if ci and all(math.isfinite(x) and x > 0 for x in ci):
        # drawn from low to high (a percentile interval need not contain the estimate)
        ax.vlines([budget], [ci[0]], [ci[1]], color=colour, lw=1.4, zorder=5)
        for end in ci:
            ax.scatter([budget], [end], marker="_", s=60, color=colour, lw=1.4, zorder=5)
        text += f" [{format_quantity(ci[0])}, {format_quantity(ci[1])}]"
    ax.scatter(
        [budget], [value], s=70, marker="*", color=colour, edgecolor="black", lw=0.6, zorder=6,
        label=text if annotate else None,
    )  # fmt: skip


# ============================================================================ IsoLoss contours
def _nice_levels(lo: float, hi: float, n: int = 9) -> np.ndarray:
    """About ``n`` round loss levels between lo and hi (0.05, 0.1, 0.2, 0.25 or 0.5 steps)."""
    span = max(hi - lo, 1e-6)
    for step in (0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if span / step <= n:
            break
    start = math.ceil(lo / step) * step
    return np.round(np.arange(start, hi + 1e-9, step), 6)


@_styled
def plot_isoloss(
    law: Any,
    runs: Any = None,
    levels: Any = None,
    C_range: tuple[float, float] | None = None,
    N_range: tuple[float, float] | None = None,
    models: Sequence[Model] | bool = True,
    marks: Sequence[tuple[str, float, float]] = (),
    flops_per_token: FlopsPerToken = 6.0,
    title: str | None = None,
) -> Figure:
    """IsoLoss contours over compute and model size (Hoffmann et al. 2022, Figure 4 left).

    Each curve is a loss level ℓ of the (N, D) law: the model sizes N and the compute
    C = k·N·D at which L(N, D) = ℓ (Chinchilla: D = (B/(ℓ − E − A·N^−α))^(1/β)), drawn as
    contours of L(N, C/(k·N)) on a log grid of (C, N).  The dashed line is the efficient
    frontier N*(C) through the contours' minima (:func:`scalinglaws.allocate.efficient_frontier`).
    ``runs`` adds the data at (C, N) coloured by loss on the same scale; ``models=True`` marks
    the published models of :data:`PUBLISHED_MODELS` inside the range; ``marks`` adds
    ``(label, N, C)`` points of your own.  ``flops_per_token`` is k of C = k·N·D or a callable
    f(N) for C = f(N)·D (e.g. a sweep's own convention).
    """
    from scalinglaws.allocate import efficient_frontier, isoloss_contours

    nd = _resolve_law(law)
    _need_nd(nd, "an IsoLoss figure")
    r = _final_runs(_runs(runs)) if runs is not None else None
    model_list = list(PUBLISHED_MODELS if models is True else (models or []))
    if C_range is None:
        cs = [m.C for m in model_list] + [c for _, _, c in marks]
        lo = float(r.C.min()) / 3 if r is not None else 1e18
        hi = max([float(r.C.max()) * 30 if r is not None else 1e24, *cs]) * 3
        C_range = (lo, hi)
    front = efficient_frontier(nd, C_range, 80, flops_per_token)
    f_n = np.asarray(front.N, dtype=float)
    if N_range is None:
        ns = [m.N for m in model_list if C_range[0] <= m.C <= C_range[1]]
        ns += [n for _, n, _ in marks]
        n_lo = min([float(f_n.min()) / 30, *(r.N.min() / 2 for _ in [0] if r is not None)])
        n_hi = max([float(f_n.max()) * 30, *ns, *(r.N.max() * 2 for _ in [0] if r is not None)])
        N_range = (n_lo, n_hi * 1.5)
    if levels is None:
        l_opt = np.asarray(front.L, dtype=float)
        top = float(np.quantile(r.L, 0.95)) if r is not None else float(l_opt[0]) + 0.6
        levels = _nice_levels(float(l_opt[-1]), max(top, float(l_opt[0])), 12)
    lv = np.atleast_1d(np.asarray(levels, dtype=float))
    norm = _lin_norm(np.concatenate([lv, r.L if r is not None else []]))
    cmap = _cmap(LOSS_CMAP)
    fig, axes = _figure(size=(8.4, 6.0))
    ax = axes[0, 0]
    # the law on a (log C, log N) grid; D = C/(k·N) (at least one token)
    cg = np.geomspace(C_range[0], C_range[1], 320)
    ng = np.geomspace(N_range[0], N_range[1], 320)
    CC, NN = np.meshgrid(cg, ng)
    DD = _tokens_at(CC, NN, flops_per_token)
    LL = np.full(CC.shape, np.nan)
    ok = DD >= 1.0
    LL[ok] = np.asarray(nd(N=NN[ok], D=DD[ok]), dtype=float)
    cs = ax.contour(CC, NN, LL, levels=np.sort(lv), cmap=cmap, norm=norm, linewidths=1.3)
    del cs
    # label each contour at its nose, the compute-optimal point of that loss
    optimum = isoloss_contours(nd, lv, N_range, 8, flops_per_token).optimum
    tips = zip(lv, np.atleast_1d(optimum.C), np.atleast_1d(optimum.N), strict=True)
    for level, c_opt, n_opt in tips:
        if np.isfinite(c_opt) and C_range[0] < c_opt < C_range[1] and N_range[0] < n_opt:
            ax.annotate(
                f"{level:g}", (c_opt, n_opt), xytext=(-5, 0), textcoords="offset points",
                ha="right", va="center", fontsize=7, color=cmap(norm(level)),
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
            )  # fmt: skip
    ax.plot([], [], color=cmap(0.5), lw=1.3, label="IsoLoss contours of the law")
    ax.plot(
        np.asarray(front.C), f_n, color="black", ls="--", lw=1.6, zorder=3,
        label="efficient frontier N*(C)",
    )  # fmt: skip
    if r is not None:
        ax.scatter(r.C, r.N, c=r.L, cmap=cmap, norm=norm, s=14, edgecolor="0.25", lw=0.3, zorder=4)
        ax.scatter([], [], s=14, color="0.6", edgecolor="0.25", lw=0.3, label=f"runs ({len(r)})")
    markers = ["*", "P", "X", "s", "^", "v", "h", "p"]
    shown = [m for m in model_list if C_range[0] <= m.C <= C_range[1]]
    shown += [Model(lbl, n, math.nan, c, "user") for lbl, n, c in marks]
    for i, m in enumerate(shown):
        ax.scatter(
            [m.C],
            [m.N],
            marker=markers[i % len(markers)],
            s=90,
            color=PALETTE[i % 7],
            edgecolor="black",
            lw=0.6,
            zorder=6,
            label=f"{m.name} ({format_quantity(m.N)})",
        )
    _set_log_limits(ax, "x", C_range[0], C_range[1], 1.0)
    ax.set_ylim(N_range[0], N_range[1])
    log_axis(ax, "x", "flops")
    log_axis(ax, "y", "count")
    ax.set_xlabel(LABELS["C"])
    ax.set_ylabel(LABELS["N"])
    ax.set_title(title or f"IsoLoss contours of {_short_label(law)}")
    _colorbar(fig, ax, LOSS_CMAP, norm, "Loss (nats per token)", "plain")
    _legend_below(fig, ax, ncols=3)
    return fig


# ============================================================================ loss vs compute
def _size_groups(N: np.ndarray, max_groups: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Representative sizes and each row's group: distinct sizes when there are few, else
    ``max_groups`` bins equally wide in log N (geometric-mean size per bin)."""
    sizes = np.unique(N)
    if sizes.size <= max_groups + 4:
        return sizes, np.searchsorted(sizes, N)
    edges = np.linspace(np.log(N.min()), np.log(N.max()) + 1e-12, max_groups + 1)
    group = np.clip(np.searchsorted(edges, np.log(N), side="right") - 1, 0, max_groups - 1)
    reps = np.array(
        [
            math.exp(np.log(N[group == g]).mean()) if np.any(group == g) else math.nan
            for g in range(max_groups)
        ]
    )
    keep = np.isfinite(reps)
    remap = np.cumsum(keep) - 1
    return reps[keep], remap[group]


@_styled
def plot_loss_vs_compute(
    runs: Any,
    law: Any = None,
    frontier: Any = None,
    flops_per_token: FlopsPerToken | None = None,
    title: str | None = None,
) -> Figure:
    """Loss against training compute for each model size (Kaplan et al. 2020, Figure 1 left).

    The runs' losses against C (curves when runs have checkpoints, points otherwise), coloured
    by N.  With an (N, D) ``law``: its curve L(N, C/(k·N)) for each size (for many distinct
    sizes, for representative sizes of 8 log-spaced bins) and the compute-efficient frontier
    L*(C) = min_N L(N, C/(k·N)) (:func:`scalinglaws.allocate.allocate`).  ``frontier`` draws a
    law of C instead or as well (an Approach 1 or 2 fit's L*(C) = E + A·C^−α, or Kaplan's
    L(C_min)).  ``flops_per_token`` (default: the runs' k) is k of C = k·N·D or a callable
    f(N) for C = f(N)·D, the law's curves then being L(N, C/f(N)).
    """
    r = _runs(runs)
    if flops_per_token is None:
        k: FlopsPerToken = r.flops_per_param_token
    else:
        k = flops_per_token if callable(flops_per_token) else float(flops_per_token)
    fig, axes = _figure(size=(7.6, 4.9))
    ax = axes[0, 0]
    N, C, L = r.N, r.C, r.L
    norm = _log_norm(N)
    cmap = _cmap(SIZE_CMAP)
    if r.has_curves:
        for _, g in r.df.groupby("run_id", sort=False):
            g = g.sort_values("C")
            ax.plot(g["C"], g["L"], color=cmap(norm(g["N"].iloc[0])), lw=1.0, alpha=0.85)
        ax.plot([], [], color="0.4", lw=1.0, label=f"training curves ({r.n_runs} runs)")
    else:
        ax.scatter(
            C,
            L,
            c=N,
            cmap=_cmap(SIZE_CMAP),
            norm=norm,
            s=14,
            lw=0,
            alpha=0.85,
            zorder=3,
        )
        ax.scatter([], [], s=14, color="0.5", lw=0, label=f"runs ({len(r)}; colour: N)")
    c_lo, c_hi = float(C.min()), float(C.max())
    grid = _geomspace(c_lo / 1.5, c_hi * 3, 200)
    if law is not None:
        nd = _resolve_law(law)
        _need_nd(nd, "the law's curves in a loss-compute figure")
        reps, group = _size_groups(N)
        for g, n in enumerate(reps):
            cs = C[group == g]
            cg = _geomspace(max(cs.min() / 2, grid[0]), grid[-1], 80)
            ax.plot(
                cg,
                nd(N=np.full_like(cg, n), D=_tokens_at(cg, np.full_like(cg, n), k)),
                color=cmap(norm(n)),
                ls="--",
                lw=1.0,
                alpha=0.9,
                zorder=2,
            )
        name = _short_label(law)
        per = "f(N)" if callable(k) else f"{k:g}N"
        ax.plot([], [], color="0.4", ls="--", lw=1.0, label=f"{name}: L(N, C/{per}) per size")
        from scalinglaws.allocate import allocate

        opt = allocate(nd, C=grid, flops_per_token=k)
        ax.plot(grid, opt.L, color="black", lw=2.0, zorder=4, label=f"{name}: frontier L*(C)")
    if frontier is not None:
        fl = _resolve_law(frontier)
        if tuple(fl.variables) != ("C",):
            raise DataError(
                f"frontier must be a law of compute C (an Approach 1 or 2 fit, Kaplan's "
                f"L(C_min)), got law '{fl.name}' of {', '.join(fl.variables)}"
            )
        ax.plot(
            grid,
            fl(C=grid),
            color="#D55E00",
            lw=2.0,
            ls="-.",
            zorder=4,
            label=f"{_short_label(frontier)}: "
            + ("L*(C) = E + A·C^−α" if fl.name == "power" else (fl.formula or "L(C)")),
        )
    _set_log_limits(ax, "x", grid[0], grid[-1], 1.0)
    log_axis(ax, "x", "flops")
    top = float(np.quantile(L, 0.99))
    ax.set_ylim(float(L.min()) * 0.95, top * 1.05)
    log_axis(ax, "y", "plain")
    ax.set_xlabel(LABELS["C"])
    ax.set_ylabel(LABELS["L"])
    ax.set_title(title or "Loss against compute, by model size")
    _colorbar(fig, ax, SIZE_CMAP, norm, "Parameters N", "count")
    _legend_below(fig, ax, ncols=2)
    return fig


@_styled
def plot_training_curves(
    runs: Any, law: Any = None, max_runs: int = 40, title: str | None = None
) -> Figure:
    """Training curves: loss against tokens seen for each run, coloured by model size, with
    a learning-curve law drawn along each run: L(N_run, D) for a law of (N, D) (the Chinchilla
    form read as a learning curve), or L(N_run, S) along the steps for Kaplan's L(N, S)
    (Kaplan et al. 2020, eq. 5.6).  At most ``max_runs`` runs (evenly chosen over sizes)."""
    r = _runs(runs)
    if not r.has_curves:
        raise DataError(
            f"training curves need runs with several checkpoints, but every run of {r.source} "
            "has one row; give a run id or step column"
        )
    fig, axes = _figure(size=(7.6, 4.9))
    ax = axes[0, 0]
    norm = _log_norm(r.N)
    cmap = _cmap(SIZE_CMAP)
    groups = [g for _, g in r.df.groupby("run_id", sort=False) if len(g) > 1]
    groups.sort(key=lambda g: float(g["N"].iloc[0]))
    if len(groups) > max_runs:
        pick = np.unique(np.linspace(0, len(groups) - 1, max_runs).round().astype(int))
        groups = [groups[i] for i in pick]
    nd = _resolve_law(law) if law is not None else None
    variable = None
    if nd is not None:
        variables = tuple(sorted(nd.variables))
        if variables == ("D", "N"):
            variable = "D"
        elif variables == ("N", "S"):
            if "step" not in r.df.columns:
                raise DataError("a law of (N, S) needs runs with a step column")
            variable = "S"
        else:
            raise DataError(
                f"a learning-curve law takes (N, D) or (N, S), got law '{nd.name}' of "
                f"{', '.join(nd.variables)}"
            )
    for g in groups:
        g = g.sort_values("D")
        colour = cmap(norm(g["N"].iloc[0]))
        ax.plot(g["D"], g["L"], color=colour, lw=1.1, alpha=0.85)
        if nd is not None:
            n = float(g["N"].iloc[0])
            if variable == "D":
                d = _geomspace(float(g["D"].min()), float(g["D"].max()), 100)
                ax.plot(d, nd(N=np.full_like(d, n), D=d), color=colour, ls="--", lw=1.2)
            else:
                s = g["step"].to_numpy(dtype=float)
                ok = s > 0
                ax.plot(g["D"][ok], nd(N=np.full(ok.sum(), n), S=s[ok]), color=colour, ls="--")
    ax.plot([], [], color="0.4", lw=1.1, label=f"measured ({len(groups)} runs)")
    if nd is not None:
        what = "L(N, D)" if variable == "D" else "L(N, S)"
        ax.plot([], [], color="0.4", ls="--", lw=1.2, label=f"{_short_label(law)}: {what}")
    d_all = np.concatenate([g["D"].to_numpy(dtype=float) for g in groups])
    l_all = np.concatenate([g["L"].to_numpy(dtype=float) for g in groups])
    _set_log_limits(ax, "x", float(d_all.min()), float(d_all.max()), 1.2)
    log_axis(ax, "x", "count")
    lo, hi = float(l_all.min()), float(np.quantile(l_all, 0.98))
    ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
    ax.set_xlabel(LABELS["D"] + " seen")
    ax.set_ylabel(LABELS["L"])
    ax.set_title(title or "Training curves")
    _colorbar(fig, ax, SIZE_CMAP, norm, "Parameters N", "count")
    ax.legend(loc="upper right")
    return fig


# ============================================================================ diagnostics
def _residual_table(fit: Any, runs: Any) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The fitted points' coordinates, observed L and predicted L̂.

    A law of (N, D): every row of ``runs`` (final checkpoints when the data has curves).
    A law of C (Approaches 1, 2): the fit's own points (IsoFLOP minima or envelope)."""
    law = fit.law
    variables = tuple(law.variables)
    if set(variables) <= {"N", "D", "C", "S"} and "C" not in variables:
        if runs is None:
            raise DataError(
                f"residuals of a law of {', '.join(variables)} need the runs it was fitted to"
            )
        r = _final_runs(_runs(runs))
        cols = {v: r.df[v].to_numpy(dtype=float) for v in ("N", "D", "C")}
        pred = np.asarray(law(**{v: cols[v] for v in variables}), dtype=float)
        return cols, r.L, pred
    profiles = fit.extra.get("profiles") or []
    pts = [p for p in profiles if p.get("used", True)]
    if pts:
        c = np.array([p["C"] for p in pts])
        cols = {
            "N": np.array([p["N_opt"] for p in pts]),
            "D": np.array([p["D_opt"] for p in pts]),
            "C": c,
        }
        obs = np.array([p["L_opt"] for p in pts])
        return cols, obs, np.asarray(law(C=c), dtype=float)
    env = fit.extra.get("envelope")
    if env:
        used = np.asarray(env["used"], dtype=bool)
        cols = {k: np.asarray(env[k], dtype=float)[used] for k in ("N", "D", "C")}
        obs = np.asarray(env["L"], dtype=float)[used]
        return cols, obs, np.asarray(law(C=cols["C"]), dtype=float)
    if runs is not None and variables == ("C",):
        r = _final_runs(_runs(runs))
        cols = {v: r.df[v].to_numpy(dtype=float) for v in ("N", "D", "C")}
        return cols, r.L, np.asarray(law(C=cols["C"]), dtype=float)
    raise DataError(f"cannot compute residuals of law '{law.name}' without its data")


def _binned_median(x: np.ndarray, y: np.ndarray, bins: int = 8) -> tuple[np.ndarray, np.ndarray]:
    lx = np.log(x)
    edges = np.linspace(lx.min(), lx.max() + 1e-12, bins + 1)
    idx = np.clip(np.searchsorted(edges, lx, side="right") - 1, 0, bins - 1)
    xs, ys = [], []
    for b in range(bins):
        sel = idx == b
        if sel.sum() >= 3:
            xs.append(math.exp(float(np.median(lx[sel]))))
            ys.append(float(np.median(y[sel])))
    return np.array(xs), np.array(ys)


@_styled
def plot_residuals(fit: Any, runs: Any = None, title: str | None = None) -> Figure:
    """Log-residuals r = log L − log L̂ against N, D and C (three panels), with the median
    residual in eight log-spaced bins: a trend means the functional form misses the data
    (e.g. curvature in N that a single power law cannot follow)."""
    cols, obs, pred = _residual_table(fit, runs)
    res = _quiet_log(obs) - _quiet_log(pred)
    ok = np.isfinite(res)
    fig, axes = _figure(ncols=3, size=(13.0, 4.0))
    for ax, var in zip(axes[0], ("N", "D", "C"), strict=True):
        x = cols[var][ok]
        ax.scatter(x, res[ok], s=12, color=PALETTE[0], alpha=0.6, lw=0, label="rows")
        ax.axhline(0.0, color="black", lw=0.8)
        if ok.sum() >= 8:
            bx, by = _binned_median(x, res[ok])
            ax.plot(bx, by, color=PALETTE[1], lw=1.8, marker="o", ms=3, label="binned median")
        _set_log_limits(ax, "x", float(x.min()), float(x.max()), 1.2)
        log_axis(ax, "x", "flops" if var == "C" else "count")
        ax.set_xlabel(LABELS[var])
        ax.set_ylabel("Residual log L − log L̂")
        ax.set_title(f"Residuals against {var}")
    lim = float(np.nanmax(np.abs(res[ok]))) * 1.1 if ok.any() else 0.1
    for ax in axes[0]:
        ax.set_ylim(-lim, lim)
    axes[0, 0].legend(loc="upper right")
    fig.suptitle(title or f"{APPROACH_LABELS.get(str(fit.approach), 'fit')}: residuals")
    return fig


@_styled
def plot_predicted_vs_observed(fit: Any, runs: Any = None, title: str | None = None) -> Figure:
    """Predicted loss L̂ against observed loss L, coloured by compute, with the line L̂ = L and
    the root-mean-square log residual and mean absolute relative error |L̂ − L|/L in the
    legend."""
    cols, obs, pred = _residual_table(fit, runs)
    ok = np.isfinite(obs) & np.isfinite(pred)
    obs, pred, c = obs[ok], pred[ok], cols["C"][ok]
    fig, axes = _figure(size=(6.4, 5.2))
    ax = axes[0, 0]
    norm = _log_norm(c)
    rmse = float(np.sqrt(np.mean((np.log(obs) - np.log(pred)) ** 2)))
    mare = float(np.mean(np.abs(pred - obs) / obs))
    ax.scatter(
        obs,
        pred,
        c=c,
        cmap=_cmap(BUDGET_CMAP),
        norm=norm,
        s=16,
        lw=0,
        alpha=0.85,
        zorder=3,
        label=f"{obs.size} points: RMS log residual {rmse:.4f}, mean |rel. error| {mare:.2%}",
    )
    lo = float(min(obs.min(), pred.min()))
    hi = float(max(obs.max(), pred.max()))
    pad = 0.04 * (hi - lo) if hi > lo else 0.1
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="black", lw=0.9, label="L̂ = L")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("Observed loss L (nats per token)")
    ax.set_ylabel("Predicted loss L̂ (nats per token)")
    ax.set_title(title or f"{APPROACH_LABELS.get(str(fit.approach), 'fit')}: predicted vs observed")
    _colorbar(fig, ax, BUDGET_CMAP, norm, "Training compute C (FLOPs)", "flops")
    ax.legend(loc="upper left")
    return fig


#: Published exponents drawn on the bootstrap histograms: (label, alpha, beta).
_PUBLISHED_EXPONENTS = (
    ("Hoffmann et al. 2022", 0.33917084, 0.2849083),
    ("Besiroglu et al. 2024", 0.3478, 0.3658),
)


@_styled
def plot_bootstrap(fit: Any, published: bool = True, title: str | None = None) -> Figure:
    """Bootstrap distributions of the fit's exponents: histograms of every exponent among
    ``extra["bootstrap_params"]`` (alpha, beta, alpha_N, ...), and for the Chinchilla form the
    allocation exponent a = β/(α+β) as well, with the point estimate and the interval at the
    fit's level.  ``published`` adds Hoffmann et al.'s and Besiroglu et al.'s values for the
    Chinchilla form."""
    samples = (fit.extra or {}).get("bootstrap_params") or {}
    if not samples:
        raise DataError(
            "this fit has no bootstrap samples (extra['bootstrap_params']); fit with "
            "n_bootstrap > 0, e.g. --bootstrap 200"
        )
    arrays = {k: np.asarray(v, dtype=float) for k, v in samples.items()}
    panels: dict[str, tuple[np.ndarray, float]] = {}
    for name, v in arrays.items():
        if "alpha" in name or "beta" in name:
            panels[name] = (v, float(fit.law.params.get(name, fit.params.get(name, math.nan))))
    is_chinchilla = {"alpha", "beta"} <= set(arrays)
    if is_chinchilla:
        with np.errstate(all="ignore"):
            a = arrays["beta"] / (arrays["alpha"] + arrays["beta"])
        panels["a"] = (a, float(fit.law.a))  # type: ignore[attr-defined]
    if not panels:
        panels = {k: (v, float(fit.params.get(k, math.nan))) for k, v in arrays.items()}
    fig, axes = _figure(ncols=len(panels), size=(max(7.0, 3.9 * len(panels) + 0.6), 3.9))
    tail = 100 * (1 - fit.level) / 2
    for ax, (name, (v, point)) in zip(axes[0], panels.items(), strict=True):
        v = v[np.isfinite(v)]
        ax.hist(v, bins=min(40, max(8, v.size // 8)), color=PALETTE[0], alpha=0.75)
        lo, hi = np.percentile(v, [tail, 100 - tail]) if v.size >= 2 else (math.nan, math.nan)
        ax.axvline(point, color="black", lw=1.6, label=f"estimate {point:.4g}")
        ax.axvspan(lo, hi, color=PALETTE[0], alpha=0.1, label=f"{100 * fit.level:g}% interval")
        ax.axvline(lo, color=PALETTE[0], ls="--", lw=1)
        ax.axvline(hi, color=PALETTE[0], ls="--", lw=1)
        if published and is_chinchilla and name in ("alpha", "beta", "a"):
            for i, (label, al, be) in enumerate(_PUBLISHED_EXPONENTS):
                value = {"alpha": al, "beta": be, "a": be / (al + be)}[name]
                ax.axvline(
                    value, color=PALETTE[1 + i], ls=":", lw=1.6, label=f"{label}: {value:.3f}"
                )
        variable = getattr(fit.law, "variable", "N")
        pretty = {
            "alpha": f"α (exponent of {variable})",
            "beta": "β (exponent of D)",
            "a": "a = β/(α+β) (N* ∝ C^a)",
            "alpha_N": "α_N (exponent of N)",
            "alpha_D": "α_D (exponent of D)",
        }.get(name, name)
        ax.set_xlabel(pretty)
        ax.set_ylabel("Bootstrap replicates")
        ax.set_title(f"{name}: {v.size} replicates")
        ax.legend(loc="upper right", fontsize=7.5)
    fig.suptitle(title or "Bootstrap distributions of the exponents")
    return fig


@_styled
def plot_backtest(result: Any, runs: Any = None, title: str | None = None) -> Figure:
    """An extrapolation backtest (:func:`scalinglaws.fit.backtest.backtest`): the law fitted on
    the runs with final C at or below the cut predicts the held-out runs above it.

    Left: loss against compute, the runs fitted on in grey (when ``runs`` is given), the
    held-out losses (black crosses) and their predictions with the bootstrap prediction
    intervals (when the fit was bootstrapped), the cut as a dashed line.  Right: predicted
    against held-out loss with the same intervals and the line L̂ = L."""
    table = result.table
    fig, axes = _figure(ncols=2, size=(12.4, 4.9))
    ax, ax2 = axes[0, 0], axes[0, 1]
    if runs is not None:
        r = _final_runs(_runs(runs))
        train = r.C <= result.cut * (1 + 1e-12)
        ax.scatter(
            r.C[train], r.L[train], s=10, color="0.7", lw=0, zorder=1,
            label=f"runs fitted on ({int(train.sum())})",
        )  # fmt: skip
    c = table["C"].to_numpy(dtype=float)
    obs = table["L"].to_numpy(dtype=float)
    pred = table["L_pred"].to_numpy(dtype=float)
    what = "runs" if result.kind == "runs" else "budgets"
    has_ci = "low" in table.columns
    if has_ci:
        pred_label = f"predicted, {100 * result.level:g}% interval (coverage {result.coverage:.0%})"
    else:
        pred_label = "predicted (no bootstrap: no intervals)"
    for axis, x in ((ax, c), (ax2, obs)):
        if has_ci:  # drawn from low to high: an interval may even miss its own prediction
            axis.vlines(
                x, table["low"], table["high"], color=PALETTE[0], lw=0.9, alpha=0.7, zorder=2,
                label="_interval",
            )  # fmt: skip
        axis.scatter(x, pred, s=14, color=PALETTE[0], zorder=3, label=pred_label)
    ax.scatter(
        c, obs, s=22, marker="x", color="black", lw=1.0, zorder=4,
        label=f"held out ({len(table)} {what}): mean |rel. error| "
        f"{result.mean_abs_rel_error:.2%}",
    )  # fmt: skip
    ax.axvline(
        result.cut, color=PALETTE[1], ls="--", lw=1.2, label=f"cut {format_flops(result.cut)}"
    )
    log_axis(ax, "x", "flops")
    ax.set_xlabel(LABELS["C"])
    ax.set_ylabel(LABELS["L"])
    ax.set_title("Held-out runs and their predictions")
    ax.legend(loc="upper right")
    lo = float(min(obs.min(), pred.min()))
    hi = float(max(obs.max(), pred.max()))
    if has_ci:
        lo = min(lo, float(table["low"].min()))
        hi = max(hi, float(table["high"].max()))
    pad = 0.05 * (hi - lo) if hi > lo else 0.05
    ax2.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="black", lw=0.9, label="L̂ = L")
    ax2.set_xlim(lo - pad, hi + pad)
    ax2.set_ylim(lo - pad, hi + pad)
    ax2.set_aspect("equal", adjustable="box")
    ax2.set_xlabel("Held-out loss L (nats per token)")
    ax2.set_ylabel("Predicted loss L̂ (nats per token)")
    ax2.set_title("Predicted against held-out loss")
    ax2.legend(loc="upper left")
    fig.suptitle(title or f"Backtest: {APPROACH_LABELS.get(str(result.fit.approach), 'fit')}")
    return fig


# ============================================================================ presets
@_styled
def plot_presets(
    presets: Sequence[Any] | None = None,
    C_range: tuple[float, float] = (1e18, 1e26),
    fits: Any = (),
    models: Sequence[Model] | bool = True,
    budgets: Sequence[float] = (),
    flops_per_token: float = 6.0,
    title: str | None = None,
    fit_range: tuple[float, float] | None = None,
) -> Figure:
    """The allocation under every published preset on one axis: N*(C) (left) and tokens per
    parameter D*/N* (right), for Kaplan et al. 2020 (N* ∝ C^0.73, non-embedding N), Hoffmann
    et al. 2022 (Approach 1 through Table 3; Approach 3 as printed and unrounded), Besiroglu et
    al. 2024 and Llama 3, plus ``fits`` (your own) drawn thicker, over ``fit_range`` only
    (default: all of ``C_range``) -- a fit drawn many decades beyond its data would dominate the
    figure with a line nobody should read.  ``models=True`` marks the published models of
    :data:`PUBLISHED_MODELS`; ``budgets`` are drawn as vertical lines."""
    from scalinglaws.allocate import allocate
    from scalinglaws.presets import get_preset, list_presets

    names = list_presets() if presets is None else list(presets)
    preset_objs = [get_preset(p) for p in names]
    fit_list = _fits(fits) if fits else []
    grid = _geomspace(C_range[0], C_range[1], 120)
    fig, axes = _figure(ncols=2, size=(12.6, 6.6))
    ax_n, ax_t = axes[0, 0], axes[0, 1]
    styles = ["-", "--", ":", "-."]
    papers: dict[str, int] = {}
    for p in preset_objs:
        papers.setdefault(p.citation.short, 0)
    seen: dict[str, int] = {}
    for p in preset_objs:
        a = allocate(p, C=grid, flops_per_token=flops_per_token)
        paper = p.citation.short
        colour = PALETTE[list(papers).index(paper) % len(PALETTE)]
        variant = seen.get(paper, 0)
        seen[paper] = variant + 1
        kw = {"color": colour, "ls": styles[variant % 4], "lw": 1.5}
        ax_n.plot(grid, a.N, label=preset_label(p), **kw)
        ax_t.plot(grid, a.tokens_per_param, **kw)
    fit_grid = grid if fit_range is None else _geomspace(fit_range[0], fit_range[1], 120)
    for j, fit in enumerate(fit_list):
        n, d = frontier_curve(fit, fit_grid, flops_per_token)
        kw = {"color": "black", "ls": styles[j % 4], "lw": 2.6}
        ax_n.plot(fit_grid, n, label=_label_of(fit), **kw)
        ax_t.plot(fit_grid, d / n, **kw)
    if models:
        mlist = PUBLISHED_MODELS if models is True else models
        for i, m in enumerate(mlist):
            if not C_range[0] <= m.C <= C_range[1]:
                continue
            mk = ["*", "P", "X", "s", "^", "v"][i % 6]
            kw = {"marker": mk, "s": 80, "color": "white", "edgecolor": "black", "zorder": 6}
            ax_n.scatter([m.C], [m.N], label=f"{m.name}", **kw)
            ax_t.scatter([m.C], [m.D / m.N], **kw)
    for b in budgets:
        for ax in (ax_n, ax_t):
            ax.axvline(float(b), color="0.5", lw=0.8, ls=":")
    ax_t.axhline(20.0, color="0.55", lw=4, alpha=0.25, zorder=0)
    ax_n.plot([], [], color="0.55", lw=4, alpha=0.25, label="20 tokens per parameter")
    for ax in (ax_n, ax_t):
        _set_log_limits(ax, "x", grid[0], grid[-1], 1.0)
        log_axis(ax, "x", "flops")
        ax.set_xlabel(LABELS["C"])
    ax_n.set_yscale("log")
    log_axis(ax_n, "y", "count")
    ax_t.set_yscale("log")
    log_axis(ax_t, "y", "plain")
    ax_n.set_ylabel("Compute-optimal parameters N*")
    ax_t.set_ylabel("Tokens per parameter D*/N*")
    ax_n.set_title("Compute-optimal model size under each preset")
    ax_t.set_title("Tokens per parameter under each preset")
    handles, labels = ax_n.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3)
    if title:
        fig.suptitle(title)
    return fig


_PRESET_LABELS = {
    "kaplan2020": "Kaplan et al. 2020, N* ∝ C^0.73 (non-embedding N)",
    "hoffmann2022": "Hoffmann et al. 2022, Approach 3 (printed constants)",
    "hoffmann2022-unrounded": "Hoffmann et al. 2022, Approach 3 (unrounded)",
    "hoffmann2022-approach1": "Hoffmann et al. 2022, Approach 1 (Table 3)",
    "besiroglu2024": "Besiroglu et al. 2024 (replication)",
    "llama3": "Llama 3 (2024), D* = 0.29·C^0.53 (text)",
    "llama3-fig3": "Llama 3 (2024), D* = 0.299·C^0.537 (Figure 3)",
}


def preset_label(preset: Any) -> str:
    """A legend label for a preset: the paper and the variant, in words."""
    from scalinglaws.presets import get_preset

    p = get_preset(preset)
    return _PRESET_LABELS.get(p.name, f"{p.citation.short} ({p.name})")


#: The figure kinds by name (the CLI's ``scalinglaws plot KIND``).
KINDS: dict[str, str] = {
    "isoflop": "IsoFLOP profiles with fitted parabolas and minima (needs IsoFLOP budgets)",
    "frontier": "N*(C) and D*(C) with the data's optima, fitted power laws and bands",
    "isoloss": "IsoLoss contours over (C, N) with the efficient frontier and the data",
    "loss-compute": "loss against compute per model size with the law's curves",
    "curves": "training curves with the fitted learning-curve law (needs checkpoints)",
    "residuals": "log-residuals against N, D and C",
    "predicted": "predicted against observed loss",
    "bootstrap": "bootstrap distributions of the exponents (needs --bootstrap)",
    "backtest": "held-out predictions with intervals against the truth",
    "presets": "N*(C) and tokens per parameter under every published preset",
}
