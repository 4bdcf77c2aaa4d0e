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
- :func:`plot_presets`: N*(C) and tokens per parameter under every published preset;
- :func:`plot_epochs`, :func:`plot_data_isoloss`: repeated data (Muennighoff et al. 2023):
  loss against epochs over fixed unique data, and the data-constrained optimum on the IsoLoss
  plane;
- :func:`plot_inference_cost`: training + inference cost against model size at a fixed loss
  (Sardana et al. 2024); :func:`plot_overtraining`: the price of over-training against tokens
  per parameter;
- :func:`plot_curve_fits`, :func:`plot_curve_prediction`, :func:`plot_curve_backtest`,
  :func:`plot_cooldown`: loss curves under learning-rate schedules with the schedule beneath
  (Tissue et al. 2024; Luo et al. 2025), predicted against observed final losses, and WSD
  cooldown branches against cosine runs (Hägele et al. 2024).

Style: log axes carry readable labels (``100M``, ``1B`` for counts; powers of ten for FLOPs),
titles and axis labels are words with units, budgets and model sizes are coloured with
``viridis`` and loss with ``plasma``, and legends sit outside the data where they would cover it.

The modules: :mod:`~scalinglaws.plots.style` (colour maps, the rc style, :func:`save`, log
axes, colour bars and legends), :mod:`~scalinglaws.plots.inputs` (runs, fits, laws and presets
resolved), :mod:`~scalinglaws.plots.published` (the published models marked on figures),
:mod:`~scalinglaws.plots.isoflop`, :mod:`~scalinglaws.plots.frontier`,
:mod:`~scalinglaws.plots.isoloss`, :mod:`~scalinglaws.plots.curves` (loss against compute,
training curves), :mod:`~scalinglaws.plots.diagnostics` (residuals, predicted against
observed, bootstrap, backtest) and :mod:`~scalinglaws.plots.presets`.  Every name is
importable from ``scalinglaws.plots`` itself, and :data:`KINDS` names the figures.
"""

from __future__ import annotations

from scalinglaws.plots.beyond import (
    plot_data_isoloss,
    plot_epochs,
    plot_inference_cost,
    plot_overtraining,
)
from scalinglaws.plots.curves import (  # noqa: F401 (private helpers re-exported)
    _size_groups,
    plot_loss_vs_compute,
    plot_training_curves,
)
from scalinglaws.plots.diagnostics import (  # noqa: F401 (private helpers re-exported)
    _PUBLISHED_EXPONENTS,
    _binned_median,
    _residual_table,
    plot_backtest,
    plot_bootstrap,
    plot_predicted_vs_observed,
    plot_residuals,
)
from scalinglaws.plots.frontier import (  # noqa: F401 (private helpers re-exported)
    _data_c_range,
    _fit_label,
    _frontier_data,
    _is_rule,
    _mark_budget,
    _replicate_band,
    _replicate_laws,
    frontier_band,
    frontier_curve,
    plot_frontier,
)
from scalinglaws.plots.inputs import (  # noqa: F401 (private helpers re-exported)
    _final_runs,
    _fits,
    _geomspace,
    _label_of,
    _need_nd,
    _quiet_log,
    _resolve_law,
    _runs,
    _short_label,
)
from scalinglaws.plots.isoflop import (  # noqa: F401 (private helpers re-exported)
    plot_isoflop,
)
from scalinglaws.plots.isoloss import (  # noqa: F401 (private helpers re-exported)
    _nice_levels,
    plot_isoloss,
)
from scalinglaws.plots.presets import (  # noqa: F401 (private helpers re-exported)
    _PRESET_LABELS,
    plot_presets,
    preset_label,
)
from scalinglaws.plots.published import (  # noqa: F401 (private helpers re-exported)
    PUBLISHED_MODELS,
    Model,
)
from scalinglaws.plots.schedules import (
    plot_cooldown,
    plot_curve_backtest,
    plot_curve_fits,
    plot_curve_prediction,
)
from scalinglaws.plots.style import (  # noqa: F401 (private helpers re-exported)
    _LABELLERS,
    _STYLE,
    APPROACH_LABELS,
    BUDGET_CMAP,
    FORMATS,
    LABELS,
    LOSS_CMAP,
    PALETTE,
    SIZE_CMAP,
    F,
    FlopsPerToken,
    _cmap,
    _colorbar,
    _count_label,
    _figure,
    _flops_label,
    _legend,
    _legend_below,
    _lin_norm,
    _LinearTicksOnLog,
    _log_norm,
    _plain_label,
    _set_log_limits,
    _ShortSpanLabels,
    _styled,
    log_axis,
    log_ticks,
    save,
    style,
)

#: The figure kinds by name (the CLI's ``scalinglaws plot KIND``).
KINDS: dict[str, str] = {
    "isoflop": "IsoFLOP profiles with fitted parabolas and minima (needs IsoFLOP budgets)",
    "frontier": "N*(C) and D*(C) with the data's optima, fitted power laws and bands",
    "isoloss": "IsoLoss contours over (C, N) with the efficient frontier and the data",
    "loss-compute": "loss against compute per model size with the law's curves",
    "curves": "training curves with the fitted learning-curve law (needs checkpoints)",
    "residuals": "log-residuals against N, D and C",
    "predicted": "predicted against observed loss",
    "bootstrap": "bootstrap distributions of the exponents (needs bootstrap replicates)",
    "backtest": "held-out predictions with intervals against the truth",
    "presets": "N*(C) and tokens per parameter under every published preset",
    "epochs": "loss against epochs over fixed unique data, against fresh data (Muennighoff)",
    "data-isoloss": "IsoLoss contours at fixed unique data with the data-limited frontier",
    "inference-cost": "training + inference cost against model size at a fixed loss (Sardana)",
    "overtraining": "the price of over-training against tokens per parameter",
}

__all__ = [
    "APPROACH_LABELS",
    "BUDGET_CMAP",
    "FORMATS",
    "FlopsPerToken",
    "KINDS",
    "LABELS",
    "LOSS_CMAP",
    "Model",
    "PALETTE",
    "PUBLISHED_MODELS",
    "SIZE_CMAP",
    "frontier_band",
    "frontier_curve",
    "log_axis",
    "log_ticks",
    "plot_backtest",
    "plot_bootstrap",
    "plot_data_isoloss",
    "plot_epochs",
    "plot_frontier",
    "plot_inference_cost",
    "plot_isoflop",
    "plot_isoloss",
    "plot_loss_vs_compute",
    "plot_overtraining",
    "plot_predicted_vs_observed",
    "plot_cooldown",
    "plot_curve_backtest",
    "plot_curve_fits",
    "plot_curve_prediction",
    "plot_presets",
    "plot_residuals",
    "plot_training_curves",
    "preset_label",
    "save",
    "style",
]
