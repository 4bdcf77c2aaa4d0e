"""The registry of diagnostic codes: every ``code`` a :class:`~scalinglaws.fit.result.Diagnostic`
can carry, with its usual severity, what it means and what to do about it.

A code is stable (scripts test for it: ``"E_COLLAPSED" in fit.diagnostic_codes()``), so one is
never renamed.  Constructing a :class:`~scalinglaws.fit.result.Diagnostic` with a code that is
not in :data:`CODES` raises :class:`ValueError`; a diagnostic read back from a saved fit keeps
whatever code it was saved with (a file written by another version may carry one this version
does not know).  A new code is added here and to the table of ``docs/diagnostics.md``
(``python -m scalinglaws.fit.codes`` prints it); ``tests/test_diagnostic_codes.py`` checks that
every code the package emits is registered and documented.

This module imports nothing from the package, so :mod:`scalinglaws.fit.result` can import it.
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Code:
    """One diagnostic code.

    code: the stable name.  severity: the one it usually has.  severities: every severity it
    can have (from ``info`` < ``warning`` < ``error``).  meaning: what it says, one sentence.
    action: what to do about it.  where: the fits that emit it.
    """

    code: str
    severity: str
    meaning: str
    action: str
    where: str
    severities: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.severities:
            object.__setattr__(self, "severities", (self.severity,))
        if self.severity not in self.severities or not set(self.severities) <= set(SEVERITIES):
            raise ValueError(f"{self.code}: bad severities {self.severity!r}, {self.severities}")


_A3 = "Approach 3 (fit --approach 3)"
_A12 = "Approaches 1 and 2"
_POWER = "power-law fits (fit --approach power)"
_AUTO = "the auto fit (fit --approach auto)"

_ALL = [
    Code(
        "AT_BOUND",
        "warning",
        "A parameter lies at (within tolerance of) or beyond a bound of its valid range, e.g. "
        "an exponent at 0, so the fit is pinned there rather than at an interior optimum.",
        "Treat that parameter as not identified: add runs that span a wider range of N and D, "
        "or fix the parameter.",
        _A3,
    ),
    Code(
        "AUTO_WEIGHTS",
        "info",
        "How the auto fit weighted its candidates: the default it started from, how far the "
        "nested backtest moved the weights (lam) and each candidate's backtest error.",
        "Nothing to fix; read it to see which law the prediction rests on.",
        _AUTO,
    ),
    Code(
        "BOOTSTRAP_FAILURES",
        "info",
        "Some bootstrap replicates could not be refitted and were left out of the intervals "
        "(a warning when more than 5% of them failed).",
        "Above 5% the intervals are too narrow: look for runs the fit depends on, or use a "
        "simpler law.",
        f"{_A12}, {_A3}, {_POWER}, {_AUTO}",
        ("info", "warning"),
    ),
    Code(
        "CANDIDATES_DISAGREE",
        "warning",
        "At a budget, the heavily weighted candidates' compute-optimal losses disagree beyond "
        "their bootstrap intervals, so the data cannot tell these forms apart there (info at "
        "the unrequested default check, 10x the largest budget).",
        "Trust the weighted prediction less there; add runs at larger budgets to separate the "
        "forms.",
        _AUTO,
        ("info", "warning"),
    ),
    Code(
        "CANDIDATE_FAILED",
        "info",
        "A candidate law could not be fitted and has no weight.",
        "Nothing to fix unless that candidate matters to you; the message gives the reason.",
        _AUTO,
    ),
    Code(
        "CONSTRAINT_ACTIVE",
        "info",
        "The constrained Chinchilla fit differs from the unconstrained one: a constraint (E "
        "between 0.5 and 0.9 of the lowest loss, exponents above 0) binds.",
        "Nothing to fix; it says the constraints, not only the data, shape that candidate.",
        _AUTO,
    ),
    Code(
        "DIVERGED",
        "warning",
        "A parameter ran off to an implausible value (an exponent above 3; a warning) or "
        "overflowed (not finite; an error), so the data do not identify that term.",
        "Widen the range of N or D the runs span, or fit a simpler law.",
        _A3,
        ("warning", "error"),
    ),
    Code(
        "EDGE_MINIMUM",
        "warning",
        "The minimum of an IsoFLOP profile, or the envelope at some FLOP values, is at the "
        "smallest or largest model size sampled, so N* there is censored and biases the "
        "exponent a (info when those points were left out of the fits).",
        "Extend those sweeps to smaller or larger models, or leave them out (Approach 2: "
        "--drop-edge; Approach 1 leaves them out by default).",
        _A12,
        ("info", "warning"),
    ),
    Code(
        "EXPONENT_IMPLAUSIBLE",
        "warning",
        "An allocation exponent (a, b) or a loss exponent (alpha) lies outside (0, 1), where "
        "every published value lies.",
        "Check the budgets' minima and the data; the exponent is not to be trusted.",
        f"{_A12}, {_A3}, {_POWER}",
    ),
    Code(
        "EXTRAPOLATION",
        "info",
        "A requested budget lies outside the data's range of C; data['factor'] is how many "
        "times beyond it (a warning beyond 100x, or for auto beyond what its backtest checked).",
        "Treat the numbers there as extrapolated; add runs nearer that budget to narrow it.",
        f"{_A12}, {_A3}, {_POWER}, {_AUTO}",
        ("info", "warning"),
    ),
    Code(
        "E_ABOVE_DATA",
        "warning",
        "The fitted irreducible loss E lies above the lowest observed loss, so the law says "
        "some runs beat the floor and predicts no larger run below E.",
        "Do not extrapolate this fit; use fit --approach auto, which bounds E below the lowest "
        "loss.",
        _A3,
    ),
    Code(
        "E_COLLAPSED",
        "warning",
        "The irreducible loss E went to about 0 (below 5% of the smallest observed or optimal "
        "loss): the data show no floor, so the law's extrapolation to larger budgets is "
        "unreliable.",
        "Add larger runs, fix E, or use fit --approach auto.",
        f"{_A12}, {_A3}",
    ),
    Code(
        "FEW_BUDGETS",
        "warning",
        "The runs span fewer than 3 compute budgets above the smallest, so a law fitted to "
        "them says little about larger budgets.",
        "Add runs at budgets above the smallest.",
        _AUTO,
    ),
    Code(
        "FEW_STARTS",
        "warning",
        "Fewer than max(3, 1%) of the multi-start search's starts reached the best objective, "
        "so the optimum may not be global (info when fewer than 10 starts were tried).",
        "Use a finer or wider grid of starts.",
        _A3,
        ("info", "warning"),
    ),
    Code(
        "FINAL_CHECKPOINTS",
        "info",
        "The run table holds training curves and the fit used only each run's final checkpoint.",
        "Nothing to fix; intermediate checkpoints are not at their run's budget.",
        f"Approach 2, {_AUTO}",
    ),
    Code(
        "ILL_CONDITIONED",
        "warning",
        "The condition number of the Gauss-Newton matrix of log L, scaled to unit diagonal, "
        "exceeds 1e4: parameters trade off against each other and their individual values mean "
        "little.",
        "Read the combination the message names, not the single parameters; more varied runs "
        "(N and D varied independently) separate them.",
        _A3,
    ),
    Code(
        "INTERMEDIATE_CHECKPOINTS",
        "info",
        "The fitted rows include checkpoints before each run's end, whose losses under a "
        "decaying learning-rate schedule are above what a run of that length would reach, "
        "biasing a law of (N, D).",
        "Fit final checkpoints only (--final-only) unless every checkpoint ends its own schedule.",
        _A3,
    ),
    Code(
        "INTERMEDIATE_ENVELOPE",
        "warning",
        "More than half of the fitted envelope comes from checkpoints before 90% of their "
        "run's compute, which under a decaying schedule overstate what a run of that length "
        "would reach.",
        "Train each size at several horizons, each with a schedule matched to its length.",
        "Approach 1",
    ),
    Code(
        "NOT_A_FRONTIER",
        "info",
        "Some rows have a higher loss than a row with no more compute (or N, or D), and the "
        "law runs through all of them.",
        "Fit only the lower envelope (--frontier, frontier=True) if that is the law you want.",
        _POWER,
    ),
    Code(
        "NOT_CONVERGED",
        "warning",
        "The optimiser stopped on its iteration limit or failed, so the estimates may not be "
        "at the optimum.",
        "Check the data and the starts; the message gives the optimiser's reason.",
        _A3,
    ),
    Code(
        "NO_BACKTEST",
        "warning",
        "The nested backtest could not score any candidate, so the weights are the default's "
        "and the intervals' growth with distance is the prior's, not a measurement.",
        "Add runs: the backtest needs at least 8 runs below a cut and some above it.",
        _AUTO,
    ),
    Code(
        "NO_CURVATURE",
        "warning",
        "The compute frontier is straight in log-log (or has too few points to tell), so the "
        "floor E is each model's assumption, not a measurement.",
        "Treat how fast the loss flattens beyond the data as unknown; add larger budgets.",
        _AUTO,
    ),
    Code(
        "OFFSET_AT_ZERO",
        "info",
        "The offset E of a power law with offset went to about 0: the data show no floor.",
        "Nothing to fix; the pure power law (offset=False) describes them as well.",
        _POWER,
    ),
    Code(
        "OPTIMUM_OUTSIDE_DATA",
        "warning",
        "The compute-optimal N* or D* lies outside the range of N or D the runs sampled, at a "
        "requested budget inside the data's range of C or at every budget of that range, so "
        "the allocation is extrapolated, not bracketed.",
        "Add runs around the compute-optimal sizes the fit reports.",
        _A3,
    ),
    Code(
        "OUTSIDE_BUDGETS",
        "warning",
        "Some runs are not within the binning tolerance of any given IsoFLOP budget and were "
        "left out.",
        "Check --isoflop-budgets and --bin-tolerance.",
        "Approach 2",
    ),
    Code(
        "RESIDUAL_TREND",
        "warning",
        "The residuals log L - log L_hat trend with log N or log D (Spearman p < 1e-3 and a "
        "change above 0.5% in L across the data), so the functional form misses something.",
        "Do not extrapolate in that variable; try another law or fit --approach auto.",
        _A3,
    ),
    Code(
        "SINGLE_POINT_RUNS",
        "warning",
        "Some runs have a single checkpoint, cannot be interpolated, and were left out of the "
        "envelope.",
        "Log several checkpoints per run, or use Approach 2 or 3 for such runs.",
        "Approach 1",
    ),
    Code(
        "STANDARD_DEGENERATE",
        "warning",
        "The standard Chinchilla fit is degenerate on these runs (E collapsed or saturated, or "
        "an exponent not positive), so the default weights go to the constrained fit.",
        "Do not trust the standard fit's extrapolation on its own; read the weighted prediction.",
        _AUTO,
    ),
    Code(
        "TERM_VANISHED",
        "warning",
        "A term of the law (A/N^alpha or B/D^beta) is below 0.1% of the predicted loss at "
        "every run, so its constants are not identified by these data.",
        "Add runs that vary that term's variable more widely, or drop the term.",
        _A3,
    ),
    Code(
        "THIN_BACKTEST",
        "warning",
        "The nested backtest made fewer budget checks than the shrinkage n0, so the weights "
        "and the intervals' growth stay mostly the default's and the prior's.",
        "Add runs at more budgets above the smallest.",
        _AUTO,
    ),
    Code(
        "TOO_FEW_BUDGETS",
        "warning",
        "Fewer than 4 budgets went into the power laws of the optimum, which pass through them "
        "with little or no check.",
        "Use at least 4 budgets.",
        "Approach 2",
    ),
    Code(
        "TOO_FEW_POINTS",
        "warning",
        "Some budgets had fewer distinct model sizes than the profile needs and were skipped.",
        "Add model sizes at those budgets, or lower --min-sizes.",
        "Approach 2",
    ),
]

CODES: dict[str, Code] = {c.code: c for c in sorted(_ALL, key=lambda c: c.code)}
"""Every diagnostic code, by name (alphabetical)."""

del _ALL


def describe(code: str) -> str:
    """One line on ``code``: its severity, what it means and what to do.  A code this version
    does not know (from a fit saved by another version) is described as such."""
    c = CODES.get(code)
    if c is None:
        return f"{code}: not a diagnostic code of this version of scalinglaws"
    return f"{c.code} ({'/'.join(c.severities)}): {c.meaning} What to do: {c.action}"


def markdown_table() -> str:
    """The table of every code for ``docs/diagnostics.md``."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [
        "| code | severity | meaning | what to do | emitted by |",
        "|---|---|---|---|---|",
    ]
    for c in CODES.values():
        lines.append(
            f"| `{c.code}` | {' / '.join(c.severities)} | {cell(c.meaning)} | "
            f"{cell(c.action)} | {cell(c.where)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
