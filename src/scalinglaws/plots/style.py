"""The figures' shared style: colour maps and palette, the rc settings of
:func:`style`, :func:`save`, figures, log axes with readable labels, colour bars,
norms and legends."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import matplotlib
import numpy as np
from matplotlib import colors as mcolors
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from scalinglaws.convention import FlopsLike
from scalinglaws.errors import (
    UnknownNameError,
    did_you_mean,
    output_error,
)
from scalinglaws.units import format_flops, format_quantity

#: A FLOPs convention, or k of C = k·N·D, or a callable f(N) (C = f(N)·D).
FlopsPerToken = FlopsLike

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
    _rasterize_dense(fig)
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


#: In SVG and PDF, the markers of an axes that draws more than this many (scatters, error
#: bars), and any line of more vertices, are embedded as an image at the figure's dpi: a
#: vector file of a million-row table's points would be hundreds of megabytes.  Axes, text
#: and fitted curves stay vector.
RASTER_POINTS = 5_000


def _size(artist: Any) -> int:
    offsets = artist.get_offsets()
    n = 0 if offsets is None else len(offsets)
    return max(n, len(artist.get_paths() or ()))


def _rasterize_dense(fig: Figure) -> None:
    """Mark the dense artists of ``fig`` rasterized (see :data:`RASTER_POINTS`)."""
    for ax in fig.axes:
        if sum(_size(c) for c in ax.collections) > RASTER_POINTS:
            for artist in ax.collections:
                artist.set_rasterized(True)
        for line in ax.lines:
            if len(line.get_xdata()) > RASTER_POINTS:
                line.set_rasterized(True)


#: The width of a figure in inches.  A report shows a figure at its natural size, 96 CSS px per
#: inch (see :mod:`scalinglaws.report.html`): 7.2 in is 691 px, inside the report's column at
#: an 800 px wide window (730 px), so its smallest text (8.5 pt) renders at 11.3 CSS px there.
#: Panels that would not fit side by side at this width are stacked.
COLUMN_WIDTH = 7.2
#: CSS pixels per inch and points per inch (a figure's text of s pt is s·96/72 CSS px at its
#: natural size).
CSS_PX_PER_INCH = 96.0
POINTS_PER_INCH = 72.0


def _figure(
    ncols: int = 1, nrows: int = 1, size: tuple[float, float] | None = None
) -> tuple[Figure, np.ndarray]:
    """A constrained-layout figure (not pyplot's) and its ``nrows`` x ``ncols`` axes; by
    default :data:`COLUMN_WIDTH` wide."""
    size = size or (COLUMN_WIDTH, 3.6 * nrows)
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
        """Round, evenly spaced ticks inside [vmin, vmax]."""
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


def _legend_under(ax: Axes, ncols: int = 1, gap: float = 0.52, **kwargs: Any) -> Any:
    """The legend of ``ax`` under its x axis, ``gap`` inches below the axes (clear of the tick
    labels and the axis label, whatever the axes' height); None when there is nothing to
    label.  Constrained layout makes room for it."""
    handles, _ = ax.get_legend_handles_labels()
    if not handles:
        return None
    anchor = offset_copy(ax.transAxes, fig=ax.figure, y=-gap, units="inches")
    return ax.legend(
        **{"loc": "upper center", "bbox_to_anchor": (0.5, 0.0), "bbox_transform": anchor},
        ncols=ncols,
        **kwargs,
    )


_CORNERS = ("upper right", "upper left", "lower left", "lower right")


def _legend_clear(fig: Figure, ax: Axes, ncols: int = 2, **kwargs: Any) -> Any:
    """The legend of ``ax`` in the first corner where it covers no data (points, error bars,
    curves), else under the figure (``matplotlib``'s ``loc="best"`` settles for the least
    covered spot, which on a crowded axes still hides data).  The figure is laid out first,
    so the check sees the final positions."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    fig.draw_without_rendering()
    points = data_points_px(ax)
    for loc in _CORNERS:
        leg = ax.legend(loc=loc, **kwargs)
        box = leg.get_window_extent().padded(3)
        if not box.count_contains(points):
            return leg
        leg.remove()
    return fig.legend(handles, labels, loc="outside lower center", ncols=min(ncols, len(handles)))


def data_points_px(ax: Axes) -> np.ndarray:
    """Display coordinates of the data drawn on ``ax``: scatter points, the segments of error
    bars (sampled), and the vertices of its curves (sampled along each segment), inside the
    axes.  Legend-only proxies and full-width reference lines (axhline) are left out."""
    pts: list[np.ndarray] = []
    for coll in ax.collections:
        if isinstance(coll, PathCollection):
            off = np.asarray(coll.get_offsets(), dtype=float).reshape(-1, 2)
            if len(off):
                pts.append(coll.get_offset_transform().transform(off))
        elif isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                pts.append(_sampled(coll.get_transform().transform(np.asarray(seg, float))))
    for line in ax.get_lines():
        xy = np.asarray(line.get_xydata(), dtype=float)
        if len(xy) < 2 or line.get_transform() is not ax.transData:
            continue
        pts.append(_sampled(line.get_transform().transform(xy)))
    if not pts:
        return np.empty((0, 2))
    allp = np.concatenate(pts)
    allp = allp[np.isfinite(allp).all(axis=1)]
    return allp[_inside(ax, allp)]


def _inside(ax: Axes, pts: np.ndarray) -> np.ndarray:
    b = ax.bbox
    return (pts[:, 0] >= b.x0) & (pts[:, 0] <= b.x1) & (pts[:, 1] >= b.y0) & (pts[:, 1] <= b.y1)


def _sampled(xy: np.ndarray, per_segment: int = 12) -> np.ndarray:
    """Points along a polyline in display space (so a long straight segment counts too)."""
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) < 2:
        return xy
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[None, :, None]
    a, b = xy[:-1, None, :], xy[1:, None, :]
    return np.concatenate([(a + t * (b - a)).reshape(-1, 2), xy[-1:]])
