"""Published constants, each with its citation, what its N counts and the paper's own projections.

A :class:`Preset` bundles what one paper published: its loss law(s) with the constants as
printed, its compute-optimal allocation (a closed form from the law, or a power-law rule such as
Kaplan's N ∝ C^0.73 or Llama 3's D* = A·C^α), the numbers the paper itself projected (so each
preset can be checked against its source, see :meth:`Preset.reproduce`), and notes on where the
paper is internally inconsistent.  Nothing is "fixed": where a paper disagrees with itself both
numbers are recorded.

``get_preset(name)`` looks one up; ``list_presets()`` lists the names; ``PRESETS`` holds them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scalinglaws.errors import DataError, DomainError, UnknownNameError, did_you_mean
from scalinglaws.laws.base import Law
from scalinglaws.laws.chinchilla import ChinchillaLaw
from scalinglaws.laws.data_constrained import DataConstrainedLaw
from scalinglaws.laws.kaplan import KaplanCLaw, KaplanDLaw, KaplanNDLaw, KaplanNLaw, KaplanNSLaw
from scalinglaws.units import PF_DAY, format_flops


# ============================================================================ records
@dataclass(frozen=True)
class Citation:
    """Where a preset's numbers come from."""

    authors: str
    year: int
    title: str
    arxiv: str
    short: str  # "Kaplan et al. 2020"

    def __str__(self) -> str:
        return f"{self.short}, “{self.title}”, arXiv:{self.arxiv}"


@dataclass(frozen=True)
class Projection:
    """A number the paper itself printed for a model size or a budget.

    ``given`` names the input column ("N": parameters -> FLOPs -> tokens, as in Hoffmann et al.
    Table 3; "C": budget -> parameters and tokens, as in the Llama 3 projection; "ND": the loss
    of a model of N parameters trained on D tokens, as in Muennighoff et al.'s check vectors).
    ``U`` is the number of unique tokens when the paper limits it (then a "C" row is the
    data-limited optimum of :func:`scalinglaws.data_limited.data_limited_allocation` and an
    "ND" row evaluates the preset's law of (N, D, U)).  Values that the paper does not print are
    ``None``.  ``C`` in FLOPs.
    """

    given: str
    C: float | None = None
    N: float | None = None
    D: float | None = None
    L: float | None = None
    source: str = ""
    note: str = ""
    U: float | None = None


@dataclass(frozen=True)
class PowerAllocation:
    """A published power-law allocation rule: N*(C) = k_N·(C/C_unit)^a and/or
    D*(C) = k_D·(C/C_unit)^b.

    When only one of the two is published the other follows from C = k·N·D (k the
    FLOPs-per-parameter-per-token of :func:`scalinglaws.allocation.allocate`).  ``C_unit`` is the
    FLOPs in one unit of the rule's C (1 for FLOPs, 8.64e19 for Kaplan's PF-days).  ``loss`` is
    the paper's law for the loss along the rule as a function of C (Kaplan's L(C_min)), or
    ``None`` when the paper publishes none (then allocations report L = NaN).
    """

    k_N: float | None = None
    a: float | None = None
    k_D: float | None = None
    b: float | None = None
    C_unit: float = 1.0
    loss: Law | None = None

    def __post_init__(self) -> None:
        if (self.k_N is None) != (self.a is None) or (self.k_D is None) != (self.b is None):
            raise DomainError("PowerAllocation needs k_N together with a, and k_D with b")
        if self.k_N is None and self.k_D is None:
            raise DomainError("PowerAllocation needs at least one of (k_N, a) and (k_D, b)")
        for name in ("k_N", "a", "k_D", "b", "C_unit"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _positive(value, name))

    @property
    def formula(self) -> str:
        unit = " (C in PF-days)" if self.C_unit == PF_DAY else ""
        parts = []
        if self.k_N is not None:
            parts.append(f"N* = {self.k_N:.4g}·C^{self.a:.4g}")
        if self.k_D is not None:
            parts.append(f"D* = {self.k_D:.4g}·C^{self.b:.4g}")
        if len(parts) == 1:
            parts.append("k·N*·D* = C")
        return ", ".join(parts) + unit

    def to_dict(self) -> dict[str, Any]:
        return {
            "k_N": self.k_N,
            "a": self.a,
            "k_D": self.k_D,
            "b": self.b,
            "C_unit": self.C_unit,
            "formula": self.formula,
            "loss": self.loss.to_dict() if self.loss is not None else None,
        }


@dataclass(frozen=True)
class Preset:
    """What one paper published, ready to evaluate and to check against the paper.

    ``law`` is the (N, D) loss law that :func:`scalinglaws.allocation.allocate` minimises
    (``None`` when the paper has none); ``rule`` a published power-law allocation, which
    takes precedence over ``law`` for allocation; ``laws`` every law of the paper, labelled as
    the paper labels it; ``constants`` further published numbers (exponents, batch-size
    constants); ``stderr`` published standard errors of the law's constants.
    """

    name: str
    title: str
    citation: Citation
    n_counts: str
    law: Law | None = None
    rule: PowerAllocation | None = None
    laws: Mapping[str, Law] = field(default_factory=dict)
    projections: tuple[Projection, ...] = ()
    constants: Mapping[str, float] = field(default_factory=dict)
    stderr: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def allocation_method(self) -> str:
        """How :func:`~scalinglaws.allocation.allocate` answers for this preset, in words."""
        if self.rule is not None:
            return f"power-law rule {self.rule.formula}"
        if isinstance(self.law, ChinchillaLaw):
            return "closed form N* = G·(C/k)^a, D* = G^-1·(C/k)^b (Hoffmann et al. 2022)"
        return "minimise the law along C = k·N·D"

    def law_for(self, variables: Sequence[str]) -> Law:
        """The preset's law taking exactly ``variables`` (e.g. ``("N", "D")`` or ``("C",)``)."""
        wanted = tuple(sorted(variables))
        candidates = ([self.law] if self.law is not None else []) + list(self.laws.values())
        for law in candidates:
            if tuple(sorted(law.variables)) == wanted:
                return law
        have = sorted({", ".join(law.variables) for law in candidates})
        raise UnknownNameError(
            f"preset '{self.name}' has no law of ({', '.join(variables)})"
            + (f"; its laws take ({'), ('.join(have)})" if have else "; it publishes no loss law")
        )

    def allocate(self, C: Any, flops_per_token: Any = 6.0) -> Any:
        """Compute-optimal allocation for budget(s) ``C`` (FLOPs); see
        :func:`scalinglaws.allocation.allocate`."""
        from scalinglaws.allocation import allocate

        return allocate(self, C=C, flops_per_token=flops_per_token)

    def reproduce(self, flops_per_token: float = 6.0) -> list[dict[str, Any]]:
        """Recompute every projection of the paper with this preset.

        Returns one row per projection: the paper's values (``paper_C``, ``paper_N``,
        ``paper_D``, ``paper_L``), ours (``C``, ``N``, ``D``, ``L``) and relative errors
        ``err_C``... (ours / paper - 1) for the columns the paper prints and we did not take as
        the input.  A row with ``given == "N"`` asks for the budget at which N is optimal
        (:func:`~scalinglaws.allocation.allocate_for_params`); ``given == "C"`` allocates C
        (under the unique-token limit ``U`` when the row has one,
        :func:`~scalinglaws.data_limited.data_limited_allocation`); ``given == "ND"``
        evaluates the loss at (N, D), and U if given, with C = k·N·D.  Such rows carry ``U``.
        """
        rows = []
        for p in self.projections:
            a = self._recompute(p, flops_per_token)
            row: dict[str, Any] = {"given": p.given, "source": p.source, "note": p.note}
            if p.U is not None:
                row["U"] = p.U
            for key in ("C", "N", "D", "L"):
                paper, ours = getattr(p, key), a[key]
                row[f"paper_{key}"] = paper
                row[key] = ours
                if paper is not None and key not in p.given and math.isfinite(ours):
                    row[f"err_{key}"] = ours / paper - 1.0
            rows.append(row)
        return rows

    def _recompute(self, p: Projection, flops_per_token: float) -> dict[str, float]:
        """C, N, D, L of one projection recomputed with this preset (see :meth:`reproduce`)."""
        from scalinglaws.allocation import allocate, allocate_for_params
        from scalinglaws.data_limited import data_limited_allocation

        if p.given == "ND":
            variables = ("N", "D", "U") if p.U is not None else ("N", "D")
            values = {"N": p.N, "D": p.D, "U": p.U}
            loss = float(self.law_for(variables)(**{x: values[x] for x in variables}))
            return {"C": flops_per_token * p.N * p.D, "N": p.N, "D": p.D, "L": loss}
        a: Any
        if p.given == "N":
            a = allocate_for_params(self, N=p.N, flops_per_token=flops_per_token)
        elif p.U is not None:
            a = data_limited_allocation(
                self, p.C, unique_tokens=p.U, flops_per_token=flops_per_token
            )
        else:
            a = allocate(self, C=p.C, flops_per_token=flops_per_token)
        return {key: float(getattr(a, key)) for key in ("C", "N", "D", "L")}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (laws as :meth:`Law.to_dict`)."""
        return {
            "name": self.name,
            "title": self.title,
            "citation": {
                "authors": self.citation.authors,
                "year": self.citation.year,
                "title": self.citation.title,
                "arxiv": self.citation.arxiv,
                "text": str(self.citation),
            },
            "n_counts": self.n_counts,
            "law": self.law.to_dict() if self.law is not None else None,
            "allocation": self.allocation_method,
            "rule": self.rule.to_dict() if self.rule is not None else None,
            "laws": {label: law.to_dict() for label, law in self.laws.items()},
            "projections": [
                {k: v for k, v in vars(p).items() if k != "U" or v is not None}
                for p in self.projections
            ],
            "constants": dict(self.constants),
            "stderr": dict(self.stderr),
            "notes": list(self.notes),
        }


# ============================================================================ back-solving
def backsolve_exponent(A: float, C: float, D: float) -> float:
    """The exponent that makes D = A·C^α pass through a published projection (C, D):
    α = log(D/A) / log(C).  Llama 3 (§3.2.1): A = 0.299, C = 3.8e25, D = 16.55e12 -> α ≈ 0.5373.
    """
    A, C, D = (_positive(v, n) for v, n in ((A, "A"), (C, "C"), (D, "D")))
    if C == 1.0:
        raise DomainError("backsolve_exponent needs C != 1, since log C = 0 fixes no exponent")
    return math.log(D / A) / math.log(C)


def backsolve_coefficient(alpha: float, C: float, D: float) -> float:
    """The coefficient that makes D = A·C^α pass through a published projection (C, D):
    A = D / C^α.  Llama 3: α = 0.53, C = 3.8e25, D = 16.55e12 -> A ≈ 0.459 (printed: 0.29)."""
    C, D = _positive(C, "C"), _positive(D, "D")
    return D / C ** float(alpha)


def implied_flops_per_param_token(C: float, N: float, D: float) -> float:
    """k in C = k·N·D implied by a published (C, N, D): k = C / (N·D).  Llama 3's projection
    (3.8e25 FLOPs, 402B parameters, 16.55T tokens) gives k ≈ 5.71 rather than 6."""
    return _positive(C, "C") / (_positive(N, "N") * _positive(D, "D"))


def _positive(value: Any, name: str) -> float:
    from scalinglaws.laws.base import positive

    return float(positive(name, value))


# ============================================================================ Hoffmann Table 3
#: Hoffmann et al. 2022, Table 3 (Approach 1 projections): parameters, FLOPs, tokens, and the
#: printed text of the FLOPs and tokens columns (the precision the paper prints).
HOFFMANN_TABLE3: tuple[tuple[float, float, float, str, str], ...] = (
    (400e6, 1.92e19, 8.0e9, "1.92e19", "8.0B"),
    (1e9, 1.21e20, 20.2e9, "1.21e20", "20.2B"),
    (10e9, 1.23e22, 205.1e9, "1.23e22", "205.1B"),
    (67e9, 5.76e23, 1.5e12, "5.76e23", "1.5T"),
    (175e9, 3.85e24, 3.7e12, "3.85e24", "3.7T"),
    (280e9, 9.90e24, 5.9e12, "9.90e24", "5.9T"),
    (520e9, 3.43e25, 11.0e12, "3.43e25", "11.0T"),
    (1e12, 1.27e26, 21.2e12, "1.27e26", "21.2T"),
    (10e12, 1.30e28, 216.2e12, "1.30e28", "216.2T"),
)

#: The 67B row is internally inconsistent: 6·67e9·1.5e12 = 6.03e23, not 5.76e23 (the Gopher
#: budget); no C satisfies both printed columns, so the rule is fitted without it.
TABLE3_INCONSISTENT_ROWS: tuple[float, ...] = (67e9,)


def _half_unit(text: str) -> float:
    """Half a unit in the last printed digit: "1.92e19" -> 5e16, "205.1B" -> 5e7."""
    from scalinglaws.units import parse_quantity

    mantissa = text.split("e")[0].rstrip("kMBTP")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0**-decimals * parse_quantity(text) / float(mantissa)


def fit_table3_rule(
    rows: Sequence[tuple[float, float, float, str, str]] = HOFFMANN_TABLE3,
    flops_per_token: float = 6.0,
    exclude: Sequence[float] = TABLE3_INCONSISTENT_ROWS,
) -> tuple[float, float, float]:
    """Express Hoffmann et al.'s Approach 1 as N* = k·C^a through Table 3.

    Each printed row (N; C to its printed digits; D = C/(6N) to its printed digits) confines the
    optimal budget of N to an interval [C_lo, C_hi].  We take the line log C = c0 + s·log N that
    stays closest to the middle of every interval, measured in units of the interval's
    half-width (a Chebyshev, i.e. minimax, fit solved as a linear programme), and return
    ``(k, a, worst)`` with a = 1/s, k = exp(-c0/s) and ``worst`` the largest deviation in
    half-widths: worst < 1 means every row is reproduced to the digits the paper prints.
    """
    from scipy.optimize import linprog

    x, mid, half = [], [], []
    for N, C, D, c_text, d_text in rows:
        if N in exclude:
            continue
        lo = max(C - _half_unit(c_text), flops_per_token * N * (D - _half_unit(d_text)))
        hi = min(C + _half_unit(c_text), flops_per_token * N * (D + _half_unit(d_text)))
        if not lo < hi:
            raise DataError(
                f"Table 3 row N={N:g} is internally inconsistent: no budget matches both its "
                f"FLOPs ({c_text}) and its tokens ({d_text}) under C = {flops_per_token:g}·N·D"
            )
        x.append(math.log(N))
        mid.append(0.5 * (math.log(lo) + math.log(hi)))
        half.append(0.5 * (math.log(hi) - math.log(lo)))
    xa, ma, ha = np.array(x), np.array(mid), np.array(half)
    # variables (c0, s, t): minimise t subject to |mid - c0 - s x| <= t * half.
    a_ub = np.concatenate(
        [
            np.column_stack([-1 / ha, -xa / ha, -np.ones_like(xa)]),
            np.column_stack([1 / ha, xa / ha, -np.ones_like(xa)]),
        ]
    )
    b_ub = np.concatenate([-ma / ha, ma / ha])
    res = linprog([0.0, 0.0, 1.0], A_ub=a_ub, b_ub=b_ub, bounds=[(None, None)] * 3)
    if not res.success:  # pragma: no cover - the programme is feasible and bounded
        raise RuntimeError(f"Table 3 fit failed: {res.message}")
    c0, s, worst = (float(v) for v in res.x)
    return math.exp(-c0 / s), 1.0 / s, worst


# ============================================================================ the presets
KAPLAN = Citation(
    authors="Jared Kaplan, Sam McCandlish, Tom Henighan, Tom B. Brown, Benjamin Chess, "
    "Rewon Child, Scott Gray, Alec Radford, Jeffrey Wu, Dario Amodei",
    year=2020,
    title="Scaling Laws for Neural Language Models",
    arxiv="2001.08361",
    short="Kaplan et al. 2020",
)
HOFFMANN = Citation(
    authors="Jordan Hoffmann, Sebastian Borgeaud, Arthur Mensch, Elena Buchatskaya, Trevor Cai, "
    "Eliza Rutherford, Diego de Las Casas, Lisa Anne Hendricks, Johannes Welbl, Aidan Clark, "
    "et al.",
    year=2022,
    title="Training Compute-Optimal Large Language Models",
    arxiv="2203.15556",
    short="Hoffmann et al. 2022",
)
BESIROGLU = Citation(
    authors="Tamay Besiroglu, Ege Erdil, Matthew Barnett, Josh You",
    year=2024,
    title="Chinchilla Scaling: A replication attempt",
    arxiv="2404.10102",
    short="Besiroglu et al. 2024",
)
LLAMA3 = Citation(
    authors="Llama Team, AI @ Meta (Abhimanyu Dubey, Abhinav Jauhri, Abhinav Pandey, et al.)",
    year=2024,
    title="The Llama 3 Herd of Models",
    arxiv="2407.21783",
    short="Llama Team 2024 (Llama 3)",
)

#: Hoffmann et al. 2022, Table 2: exponent a of N* ∝ C^a and b of D* ∝ C^b with their
#: 10th-90th percentile intervals, by approach (and Kaplan et al. 2020 for comparison).
HOFFMANN_TABLE2: dict[str, dict[str, Any]] = {
    "approach 1": {
        "a": 0.50,
        "a_interval": (0.488, 0.502),
        "b": 0.50,
        "b_interval": (0.501, 0.512),
    },
    "approach 2": {
        "a": 0.49,
        "a_interval": (0.462, 0.534),
        "b": 0.51,
        "b_interval": (0.483, 0.529),
    },
    "approach 3": {
        "a": 0.46,
        "a_interval": (0.454, 0.455),
        "b": 0.54,
        "b_interval": (0.542, 0.543),
    },
    "kaplan": {"a": 0.73, "a_interval": None, "b": 0.27, "b_interval": None},
}

_TABLE2_CONSTANTS = {
    f"{key.replace(' ', '')}_{x}": row[x] for key, row in HOFFMANN_TABLE2.items() for x in "ab"
}

GOPHER_BUDGET = 5.76e23  # FLOPs (Hoffmann et al. 2022: Gopher's and Chinchilla's budget)

_GOPHER_PROJECTION = Projection(
    given="C",
    C=GOPHER_BUDGET,
    N=40e9,
    source="Approach 3, Gopher budget",
    note="≈40B (Hoffmann et al. 2022; Besiroglu et al. 2024) is a round number; it follows "
    "from the unrounded constants (40.4B), not from the printed ones (32.2B).",
)


def _kaplan2020() -> Preset:
    laws: dict[str, Law] = {
        "L(N)": KaplanNLaw(N_c=8.8e13, alpha_N=0.076),
        "L(D)": KaplanDLaw(D_c=5.4e13, alpha_D=0.095),
        "L(C_min)": KaplanCLaw(C_c=3.1e8, alpha_C=0.050, minimal=True),
        "L(C)": KaplanCLaw(C_c=1.6e7, alpha_C=0.057, minimal=False),
        "L(N, D)": KaplanNDLaw(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103),
        "L(N, S)": KaplanNSLaw(N_c=6.5e13, alpha_N=0.077, S_c=2.1e3, alpha_S=0.76),
    }
    return Preset(
        name="kaplan2020",
        title="Kaplan et al. 2020: power laws in N, D, C and the compute-efficient frontier",
        citation=KAPLAN,
        n_counts="non-embedding",
        law=laws["L(N, D)"],
        rule=PowerAllocation(
            k_N=1.3e9, a=0.73, k_D=2e10, b=0.27, C_unit=PF_DAY, loss=laws["L(C_min)"]
        ),
        laws=laws,
        constants={
            "B_star": 2e8,  # tokens (§1.2; Table 5 prints 2.1e8)
            "alpha_B": 0.21,
            "S_c": 2.1e3,
            "alpha_S": 0.76,
            "overfit_coefficient": 5e3,  # D ≳ 5e3·N^0.74 (eq. 4.4)
            "overfit_exponent": 0.74,
            "overfit_delta": 0.02,
            "B_opt_coefficient": 2.0e6,  # Table 6: B = 2.0e6·C^0.24 tokens, C in PF-days
            "B_opt_exponent": 0.24,
            "S_min_coefficient": 5.4e3,  # Table 6: S_min = 5.4e3·C^0.03 steps
            "S_min_exponent": 0.03,
            "a": 0.73,
            "b": 0.27,
        },
        notes=(
            "N counts non-embedding parameters; C = 6NBS excludes embeddings and attention "
            "context FLOPs; C in the rule and in L(C_min) is C_min in PF-days (8.64e19 FLOPs).",
            "allocate() uses Table 6's rule N* = 1.3e9·C^0.73, D* = 2e10·C^0.27 with L* from "
            "L(C_min); minimising the L(N, D) law of Table 2 instead gives N* ∝ C^0.575.",
            "Table 6 is self-consistent only with training at B = B_crit: 6·N_opt·B·S_min = "
            "8.4e19 FLOPs ≈ 1 PF-day, while 6·N_opt·D_opt = 1.56e20 ≈ 1.8 PF-days, because "
            "training at B_crit takes S = 2·S_min steps and C = 2·C_min.",
            "Kaplan et al. publish the rule and the laws, not projections at named budgets; "
            "the rule at C_min = 1 PF-day is its coefficients (1.3e9 parameters, 2e10 tokens).",
            "L(N, D) (Table 2: N_c = 6.4e13) and L(N, S) (Table 3: N_c = 6.5e13, alpha_N = 0.077) "
            "are separate fits; their D -> inf and S -> inf limits differ from L(N) "
            "(N_c = 8.8e13).",
            "B* = 2e8 tokens in §1.2; Table 5 prints 2.1e8.  alpha_C^min = 1/(1/alpha_S + "
            "1/alpha_B + 1/alpha_N) is ≈0.054 (§6.2), ≈0.052 (App. B); the fit gives 0.050.",
        ),
    )


def _chinchilla_optimum(law: ChinchillaLaw, C: float) -> tuple[float, float]:
    """(N*, D*/N*) under C = 6ND, Hoffmann et al. 2022 App. D.2: N* = G·(C/6)^a."""
    n = law.G * (C / 6.0) ** law.a
    return n, C / (6.0 * n * n)


_PRINTED = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
_UNROUNDED = ChinchillaLaw(E=1.69337, A=406.401, B=410.723, alpha=0.33917084, beta=0.2849083)


def _hoffmann2022(unrounded: bool) -> Preset:
    (n_p, t_p), (n_u, t_u) = (_chinchilla_optimum(x, GOPHER_BUDGET) for x in (_PRINTED, _UNROUNDED))
    if unrounded:
        law = _UNROUNDED
        name, what = "hoffmann2022-unrounded", "unrounded (the paper's source)"
    else:
        law = _PRINTED
        name, what = "hoffmann2022", "as printed"
    return Preset(
        name=name,
        title=f"Hoffmann et al. 2022 (Chinchilla), Approach 3 parametric fit, {what}",
        citation=HOFFMANN,
        n_counts="total",
        law=law,
        laws={"L(N, D)": law},
        projections=(_GOPHER_PROJECTION,),
        constants=dict(_TABLE2_CONSTANTS),
        notes=(
            "N counts all parameters, embeddings included; C = 6ND.",
            "The printed constants (E 1.69, A 406.4, B 410.7, alpha 0.34, beta 0.28) are "
            "rounded; the allocation is sensitive to the rounding: N* at 5.76e23 is "
            f"{n_p / 1e9:.1f}B with them and {n_u / 1e9:.1f}B with the unrounded ones "
            "(E 1.69337, A 406.401, B 410.723, alpha 0.33917084, beta 0.2849083).",
            f"Table 2 prints a = 0.46 for Approach 3: the unrounded constants give "
            f"{_UNROUNDED.a:.4f}, the printed ones {_PRINTED.a:.4f} (rounds to "
            f"{_PRINTED.a:.2f}); {_UNROUNDED.a:.4f} lies outside Table 2's own 10th-90th "
            "percentile interval (0.454, 0.455).",
            "Approach 3 allocates far more tokens per parameter than Approaches 1 and 2: at "
            f"5.76e23 FLOPs {t_p:.0f} (printed constants) or {t_u:.0f} (unrounded) rather than "
            "≈20; Besiroglu et al. 2024 trace this to the original fit.",
        ),
    )


def _hoffmann2022_approach1() -> Preset:
    k, a, worst = fit_table3_rule()
    c67 = (67e9 / k) ** (1.0 / a)
    return Preset(
        name="hoffmann2022-approach1",
        title="Hoffmann et al. 2022 (Chinchilla), Approach 1: N* = k·C^a through Table 3",
        citation=HOFFMANN,
        n_counts="total",
        rule=PowerAllocation(k_N=k, a=a),
        projections=tuple(
            Projection(
                given="N",
                N=N,
                C=C,
                D=D,
                source="Table 3",
                note="6·N·D = 6.03e23 ≠ 5.76e23: the row disagrees with itself"
                if N in TABLE3_INCONSISTENT_ROWS
                else "",
            )
            for N, C, D, _, _ in HOFFMANN_TABLE3
        ),
        constants={"a": a, "k_N": k, "table3_worst_half_units": worst, **_TABLE2_CONSTANTS},
        notes=(
            "N counts all parameters; D* = C/(6·N*).  The paper publishes Approach 1 as "
            "exponents (Table 2: a = 0.50, b = 0.50) and projections (Table 3), not a "
            f"coefficient: N* = k·C^a is the minimax fit through Table 3 (k = {k:.5g}, "
            f"a = {a:.5f}), which reproduces every consistent row to the digits printed "
            f"(worst deviation {worst:.2f} of half a printed unit).",
            "Table 3's 67B row is inconsistent with itself (6·67e9·1.5e12 = 6.03e23, not "
            f"5.76e23) and is left out of the fit; the rule gives {format_flops(c67)} FLOPs and "
            f"{c67 / (6 * 67e9) / 1e12:.3g}T tokens for 67B.",
            "No loss law comes with Approach 1, so allocate() reports L = NaN.",
        ),
    )


def _besiroglu2024() -> Preset:
    law = ChinchillaLaw(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)
    return Preset(
        name="besiroglu2024",
        title="Besiroglu et al. 2024: Chinchilla's Approach 3 refitted to Figure 4's data",
        citation=BESIROGLU,
        n_counts="total",
        law=law,
        laws={"L(N, D)": law},
        constants={"a": 0.513},
        stderr={"E": 0.03, "A": 124.58, "B": 1293.23, "alpha": 0.02, "beta": 0.02},
        notes=(
            "Fitted on 240 points read off Hoffmann et al.'s Figure 4 (N total parameters); "
            "a = beta/(alpha+beta) ≈ 0.513, in line with Approaches 1 and 2 (≈20 tokens per "
            "parameter near 5.76e23), unlike the original Approach 3.",
            "Their Huber-grid optimum before the likelihood fit: E 1.8172, A 477.8, B 2143, "
            "alpha 0.3473, beta 0.3672.",
        ),
    )


#: Llama 3 (§3.2.1): the flagship's budget, parameters and tokens as projected.
LLAMA3_C, LLAMA3_N, LLAMA3_D = 3.8e25, 402e9, 16.55e12

_LLAMA3_PROJECTION = Projection(
    given="C",
    C=LLAMA3_C,
    N=LLAMA3_N,
    D=LLAMA3_D,
    source="§3.2.1",
    note="C/(N·D) = 5.71, not 6; neither printed (alpha, A) pair gives 16.55T exactly",
)


def _llama3(fig3: bool) -> Preset:
    alpha, A = (0.537, 0.299) if fig3 else (0.53, 0.29)
    C, N, D = LLAMA3_C, LLAMA3_N, LLAMA3_D
    k = implied_flops_per_param_token(C, N, D)
    where = "Figure 3 legend" if fig3 else "§3.2.1 text"
    return Preset(
        name="llama3-fig3" if fig3 else "llama3",
        title=f"Llama 3 (2024): optimal training tokens D*(C) = A·C^alpha ({where})",
        citation=LLAMA3,
        n_counts="total",
        rule=PowerAllocation(k_D=A, b=alpha),
        projections=(_LLAMA3_PROJECTION,),
        constants={"alpha": alpha, "A": A},
        notes=(
            f"D*(C) = {A}·C^{alpha} tokens (the paper calls it N*(C)); N* = C/(6·D*).",
            "The text prints (alpha, A) = (0.53, 0.29), Figure 3's legend (0.537, 0.299).  "
            f"At 3.8e25 FLOPs they give {0.29 * C**0.53 / 1e12:.1f}T and "
            f"{0.299 * C**0.537 / 1e12:.1f}T tokens; the projection is 16.55T.  Holding "
            f"A = 0.299, alpha = {backsolve_exponent(0.299, C, D):.4f} reproduces it "
            "(backsolve_exponent).",
            "The projection 402B parameters on 16.55T tokens at 3.8e25 FLOPs implies "
            f"C ≈ {k:.2f}·N·D (implied_flops_per_param_token), not 6·N·D; with 6, "
            f"N* = {C / (6 * D) / 1e9:.0f}B for 16.55T tokens.",
            "No loss law is published (the paper maps loss to accuracy without published "
            "constants), so allocate() reports L = NaN.",
        ),
    )


MUENNIGHOFF = Citation(
    authors="Niklas Muennighoff, Alexander M. Rush, Boaz Barak, Teven Le Scao, Aleksandra Piktus, "
    "Nouamane Tazi, Sampo Pyysalo, Thomas Wolf, Colin Raffel",
    year=2023,
    title="Scaling Data-Constrained Language Models",
    arxiv="2305.16264",
    short="Muennighoff et al. 2023",
)

#: Muennighoff et al. 2023's fit as their repository (huggingface/datablations, README
#: "Parametric Fit") publishes it: log A, log B, log E, alpha, beta, R_D*, R_N*.
MUENNIGHOFF_LOG_FIT: dict[str, float] = {
    "log_A": 6.255414,
    "log_B": 7.3049974,
    "log_E": 0.6254804,
    "alpha": 0.3526596,
    "beta": 0.3526596,
    "R_D_star": 15.387756,
    "R_N_star": 5.309743,
}

#: The same constants as usually quoted (rounded): A 520.82, B 1487.72, E 1.8691.
MUENNIGHOFF_ROUNDED: dict[str, float] = {"A": 520.82, "B": 1487.72, "E": 1.8691}


def muennighoff_law() -> DataConstrainedLaw:
    """Muennighoff et al. 2023's data-constrained law with the repository's constants:
    A = exp(6.255414) = 520.825, B = exp(7.3049974) = 1487.716, E = exp(0.6254804) = 1.869144,
    alpha = beta = 0.3526596, R_D* = 15.387756, R_N* = 5.309743."""
    k = MUENNIGHOFF_LOG_FIT
    return DataConstrainedLaw(
        E=math.exp(k["log_E"]),
        A=math.exp(k["log_A"]),
        B=math.exp(k["log_B"]),
        alpha=k["alpha"],
        beta=k["beta"],
        R_D_star=k["R_D_star"],
        R_N_star=k["R_N_star"],
    )


def _muennighoff2023() -> Preset:
    law = muennighoff_law()
    base = law.base()
    rounded = dataclasses.replace(law, **MUENNIGHOFF_ROUNDED)
    gap = rounded(N=6.34e9, D=242e9, U=25e9) - law(N=6.34e9, D=242e9, U=25e9)
    readme_c = 6.0 * 8.67e9 * 178e9  # the README's grid search keeps N·D of (8.67B, 178B)
    return Preset(
        name="muennighoff2023",
        title="Muennighoff et al. 2023: data-constrained scaling, repeated data and excess "
        "parameters",
        citation=MUENNIGHOFF,
        n_counts="total",
        law=base,
        laws={"L(N, D)": base, "L(N, D, U)": law},
        projections=(
            Projection(
                given="ND",
                N=6.34e9,
                D=242e9,
                U=25e9,
                L=2.22564,
                source="Figure 1 (right)",
                note="the better of the two; the datablations README prints 2.2256440889984477",
            ),
            Projection(
                given="ND",
                N=8.67e9,
                D=178e9,
                U=25e9,
                L=2.22696,
                source="Figure 1 (right)",
                note="the datablations README prints 2.2269634075087867",
            ),
            Projection(
                given="C",
                C=readme_c,
                U=25e9,
                N=6.8e9,
                D=227e9,
                source="README grid",
                note="N·D of (8.67B, 178B) held fixed: 9.1 epochs on a coarse 500-point grid",
            ),
            Projection(
                given="C",
                C=1e22,
                U=25e9,
                N=7.02e9,
                D=237.3e9,
                source="search, U = 25B",
                note="9.49 epochs; found by search (no closed form)",
            ),
        ),
        constants={
            **{k: MUENNIGHOFF_LOG_FIT[k] for k in ("log_A", "log_B", "log_E")},
            "N_opt_per_unique_token": base.G**2,
            "max_effective_epochs": 1.0 + law.R_D_star,
        },
        notes=(
            "N counts all parameters, embeddings included (the runs' parameter counts are GPT-2 "
            "shapes with a 50304-token vocabulary and 2048 learned positions); C = 6ND, D counts "
            "repeated tokens.",
            "L(N, D, U) (eq. 5): E + A/N'^alpha + B/D'^beta with effective data D' = U_D + "
            "U_D·R_D*·(1 - exp(-R_D/R_D*)), R_D = D/U_D - 1, U_D = min(U, D), and effective "
            "parameters N' likewise with U_N = min(N, N_opt(U_D)) and R_N*.  Without a limit on "
            "unique tokens the preset is its base Chinchilla law L(N, D), which is what "
            "allocate, compare and predict with (N, D) use; the data-limited answers are "
            "scalinglaws.data_limited.data_limited_allocation, epochs_worth and "
            "repetition_stops_paying.",
            "Constants as the repository publishes them, as logarithms: A = exp(6.255414) = "
            f"{law.A:.5f}, B = exp(7.3049974) = {law.B:.4f}, E = exp(0.6254804) = {law.E:.6f}; "
            "with them the law reproduces the README's check vectors to every printed digit.  "
            f"The usual rounded quotes (A 520.82, B 1487.72, E 1.8691) give losses {-gap:.1e} "
            "lower, almost all of it from rounding E.",
            f"N_opt(U) = G²·U = {base.G**2:.6f}·U (alpha = beta, so a/b = 1); the README "
            "computes the same from the same constants (D_to_N), and write-ups round it to "
            "0.051·U.",
            "There is no closed form for the data-limited optimum: the README searches a "
            "500-point grid from (8.67B, 178B) at fixed N·D (C = 9.26e21) and prints 6.8B "
            "parameters on 227B tokens (9.1 epochs); a fine search gives the projection rows.  "
            "When the unique tokens do not bind (U at least the unlimited D*) the answer is the "
            "base law's closed form exactly.",
            "Repeating: D tokens drawn from U are worth D' fresh ones; the next repeated token "
            "is worth exp(-R_D/R_D*) of a fresh one, so 4 epochs are worth 93% of fresh data "
            "and 1 + R_D* = 16.4 epochs is where a further epoch is worth 1/e of a fresh one; "
            "no amount of repetition is worth more than U·(1 + R_D*) fresh tokens.  The paper: "
            "up to ~4 epochs cost almost nothing, and returns diminish with more.",
            "A model larger than N_opt(U_D) has excess parameters whose value decays (R_N*) "
            "even on a single epoch; L(N, D) ignores that term, so it equals L(N, D, U >= D) "
            "only for N <= N_opt(D).",
        ),
    )


DEEPSEEK = Citation(
    authors="DeepSeek-AI (Xiao Bi, Deli Chen, Guanting Chen, Shanhuang Chen, Damai Dai, "
    "Chengqi Deng, et al.)",
    year=2024,
    title="DeepSeek LLM: Scaling Open-Source Language Models with Longtermism",
    arxiv="2401.02954",
    short="DeepSeek-AI 2024",
)

#: DeepSeek LLM 2024: M_opt = 0.1715·C^0.5243 (non-embedding FLOPs per token) and
#: D_opt = 5.8316·C^0.4757 tokens, C = M·D in FLOPs.
DEEPSEEK_M = (0.1715, 0.5243)
DEEPSEEK_D = (5.8316, 0.4757)


def _deepseek2024() -> Preset:
    (k_m, a), (k_d, b) = DEEPSEEK_M, DEEPSEEK_D
    return Preset(
        name="deepseek2024",
        title="DeepSeek LLM (2024): M_opt = 0.1715·C^0.5243, D_opt = 5.8316·C^0.4757, C = M·D",
        citation=DEEPSEEK,
        n_counts="non-embedding",
        rule=PowerAllocation(k_N=k_m / 6.0, a=a, k_D=k_d, b=b),
        constants={
            "M_coefficient": k_m,
            "M_exponent": a,
            "D_coefficient": k_d,
            "D_exponent": b,
            "eta_coefficient": 0.3118,  # eta_opt = 0.3118·C^-0.1250
            "eta_exponent": -0.1250,
            "batch_coefficient": 0.2920,  # B_opt = 0.2920·C^0.3271 tokens
            "batch_exponent": 0.3271,
            "fit_C_low": 1e17,  # the budgets the hyperparameter rules were fitted on
            "fit_C_high": 2e19,
        },
        notes=(
            "DeepSeek states the budget as C = M·D with M = 72·n_layer·d_model² + "
            "12·n_layer·d_model·l_seq the non-embedding FLOPs per token (attention included, "
            "vocabulary excluded; the 'deepseek' FLOPs convention of scalinglaws.flops), and "
            "allocates M, not a parameter count: M_opt = 0.1715·C^0.5243, D_opt = "
            "5.8316·C^0.4757.",
            "The preset states N* = M_opt/6 (N* = 0.02858·C^0.5243), the non-embedding "
            "parameters of C = 6·N·D; that overstates them by the attention-context term "
            "2·n_layer·d_model·l_seq: for Table 3's model (24 layers, d_model 2048, l_seq 4096) "
            "6N1/M = 0.75, i.e. M/6 = 1.33·N1, and 6N2/M = 0.88 with embeddings counted.  "
            "Use M and D; N* and tokens/param are for comparison with the other presets.",
            "M_opt·D_opt = 0.1715 x 5.8316 · C^(0.5243 + 0.4757) = 1.0001·C: the published "
            "rules close C = M·D up to the rounding of their constants.",
            "No loss law is published with the allocation, so allocate() reports L = NaN.  The "
            "hyperparameter rules eta_opt = 0.3118·C^-0.1250 and B_opt = 0.2920·C^0.3271 tokens "
            "were fitted on 1e17-2e19 FLOPs.",
        ),
    )


def _build() -> dict[str, Preset]:
    presets = [
        _kaplan2020(),
        _hoffmann2022(unrounded=False),
        _hoffmann2022(unrounded=True),
        _hoffmann2022_approach1(),
        _besiroglu2024(),
        _llama3(fig3=False),
        _llama3(fig3=True),
        _muennighoff2023(),
        _deepseek2024(),
    ]
    return {p.name: p for p in presets}


#: Every preset, by name.
PRESETS: dict[str, Preset] = _build()


def list_presets() -> list[str]:
    """The preset names, in the order above (Kaplan, Hoffmann, replication, Llama 3)."""
    return list(PRESETS)


def get_preset(name: str | Preset) -> Preset:
    """The preset called ``name`` (case-insensitive); a :class:`Preset` passes through.

    Raises :class:`UnknownNameError` ("unknown preset 'x'; did you mean 'y'?") otherwise.
    """
    if isinstance(name, Preset):
        return name
    if not isinstance(name, str):
        raise UnknownNameError(
            f"a preset is named by a string, got {type(name).__name__}; valid names are: "
            + ", ".join(PRESETS)
        )
    key = name.strip().lower()
    if key in PRESETS:
        return PRESETS[key]
    raise UnknownNameError(f"unknown preset '{name}'" + did_you_mean(key, list(PRESETS)))
