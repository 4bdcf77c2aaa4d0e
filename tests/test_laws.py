"""Kaplan et al. 2020's laws: values by hand, limits, inverses, validation, serialisation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scalinglaws import DomainError
from scalinglaws.laws import (
    KaplanCLaw,
    KaplanDLaw,
    KaplanNDLaw,
    KaplanNLaw,
    KaplanNSLaw,
    law_from_dict,
    registered_laws,
)

# Constants as Kaplan et al. 2020 print them (eqs. 1.1-1.3, Tables 2 and 3).
L_N = KaplanNLaw(N_c=8.8e13, alpha_N=0.076)
L_D = KaplanDLaw(D_c=5.4e13, alpha_D=0.095)
L_CMIN = KaplanCLaw(C_c=3.1e8, alpha_C=0.050, minimal=True)
L_C = KaplanCLaw(C_c=1.6e7, alpha_C=0.057, minimal=False)
L_ND = KaplanNDLaw(N_c=6.4e13, D_c=1.8e13, alpha_N=0.076, alpha_D=0.103)
L_NS = KaplanNSLaw(N_c=6.5e13, alpha_N=0.077, S_c=2.1e3, alpha_S=0.76)
PF_DAY_FLOPS = 1e15 * 24 * 3600


def test_single_variable_laws_by_hand():
    assert L_N(N=1e9) == pytest.approx(math.exp(0.076 * math.log(8.8e13 / 1e9)), rel=1e-14)
    assert L_D(D=1e10) == pytest.approx(math.exp(0.095 * math.log(5.4e13 / 1e10)), rel=1e-14)
    assert isinstance(L_N(N=1e9), float)
    # A model of N_c parameters has loss exactly 1 nat; a dataset of D_c tokens likewise.
    assert L_N(N=8.8e13) == 1.0 and L_D(D=5.4e13) == 1.0


def test_compute_laws_take_flops_and_store_pf_days():
    # C_c is printed in PF-days; the law takes FLOPs: L(C = C_c PF-days) = 1 exactly.
    assert L_CMIN(C=3.1e8 * PF_DAY_FLOPS) == pytest.approx(1.0, rel=1e-14)
    assert L_CMIN(C=PF_DAY_FLOPS) == pytest.approx(3.1e8**0.05, rel=1e-14)
    assert L_C(C=1e3 * PF_DAY_FLOPS) == pytest.approx((1.6e7 / 1e3) ** 0.057, rel=1e-14)
    assert "C_min" in L_CMIN.formula and "C_min" not in L_C.formula
    assert L_CMIN.params == {"C_c": 3.1e8, "alpha_C": 0.05}


def test_nd_law_by_hand():
    N, D = 1e9, 2e10
    expected = ((6.4e13 / N) ** (0.076 / 0.103) + 1.8e13 / D) ** 0.103
    assert L_ND(N=N, D=D) == pytest.approx(expected, rel=1e-14)


def test_nd_law_limits_are_table2_constants_not_eq_1_1():
    N = np.geomspace(1e6, 1e12, 7)
    # D -> inf: exactly (N_c/N)^alpha_N with Table 2's N_c = 6.4e13 ...
    far = L_ND(N=N, D=1e300)
    assert np.allclose(far, L_ND.limit_N()(N=N), rtol=1e-13, atol=0)
    assert L_ND.limit_N() == KaplanNLaw(N_c=6.4e13, alpha_N=0.076)
    # ... which is not eq. 1.1's L(N) (N_c = 8.8e13): the two differ by the constant factor
    # (8.8e13/6.4e13)^0.076 = 1.0245 at every N, because the paper fits them separately.
    ratio = L_N(N=N) / far
    assert np.allclose(ratio, (8.8e13 / 6.4e13) ** 0.076, rtol=1e-13)
    assert ratio[0] == pytest.approx(1.02449, abs=1e-5)
    # N -> inf: (D_c/D)^alpha_D with Table 2's D_c and alpha_D (not eq. 1.2's 5.4e13, 0.095).
    D = np.geomspace(1e8, 1e13, 6)
    assert np.allclose(L_ND(N=1e300, D=D), L_ND.limit_D()(D=D), rtol=1e-13, atol=0)
    # Finite data always costs something: L(N, D) > max(L(N, inf), L(inf, D)).
    grid = L_ND(N=N[:, None], D=D[None, :])
    assert np.all(grid > L_ND.limit_N()(N=N)[:, None])
    assert np.all(grid > L_ND.limit_D()(D=D)[None, :])


def test_ns_law_by_hand_and_limit():
    assert L_NS(N=1e9, S=1e5) == pytest.approx(
        (6.5e13 / 1e9) ** 0.077 + (2.1e3 / 1e5) ** 0.76, rel=1e-14
    )
    assert L_NS(N=1e9, S=1e300) == pytest.approx(L_NS.limit_N()(N=1e9), rel=1e-14)


def test_broadcasting_and_monotonicity():
    N = np.array([1e7, 1e8, 1e9])[:, None]
    D = np.array([1e9, 1e10, 1e11, 1e12])[None, :]
    out = L_ND(N=N, D=D)
    assert out.shape == (3, 4)
    assert out[2, 1] == pytest.approx(L_ND(N=1e9, D=1e10))
    assert np.all(np.diff(out, axis=0) < 0) and np.all(np.diff(out, axis=1) < 0)
    assert L_NS(N=N, S=np.array([1e3, 1e4])).shape == (3, 2)


@pytest.mark.parametrize("law", [L_N, L_D, L_CMIN, L_C])
def test_inverse_round_trips(law):
    (var,) = law.variables
    x = np.array([1e7, 3e9, 1e12]) if var != "C" else np.array([1e18, 1e21, 1e25])
    assert np.allclose(law.inverse(law(**{var: x})), x, rtol=1e-12)


@pytest.mark.parametrize(
    "law, kwargs, needle",
    [
        (L_N, {"N": 0}, "N (non-embedding parameters) must be a finite number greater than 0"),
        (L_N, {"N": -1e9}, "got -1000000000.0"),
        (L_D, {"D": float("nan")}, "D (training tokens) must be a finite number"),
        (L_CMIN, {"C": [1e20, -1.0]}, "got -1.0 at index 1"),
        (L_ND, {"N": 1e9, "D": 0.0}, "D (training tokens)"),
        (L_NS, {"N": 1e9, "S": np.inf}, "S (minimum optimisation steps S_min)"),
    ],
)
def test_non_positive_inputs_raise_domain_error(law, kwargs, needle):
    with pytest.raises(DomainError) as info:
        law(**kwargs)
    assert needle in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_and_extra_variables_are_named():
    with pytest.raises(DomainError, match="law 'kaplan-ND' takes N, D; missing D"):
        L_ND(N=1e9)
    with pytest.raises(DomainError, match="missing S"):
        L_NS(N=1e9)


@pytest.mark.parametrize(
    "build, needle",
    [
        (lambda: KaplanNLaw(N_c=-8.8e13, alpha_N=0.076), "N_c (constant of law 'kaplan-N')"),
        (lambda: KaplanDLaw(D_c=5.4e13, alpha_D=0.0), "alpha_D (constant of law 'kaplan-D')"),
        (lambda: KaplanNDLaw(6.4e13, 1.8e13, float("nan"), 0.103), "alpha_N"),
        (lambda: KaplanCLaw(C_c=3.1e8, alpha_C=0.05, minimal="yes"), "minimal must be True"),
    ],
)
def test_invalid_constants_are_rejected(build, needle):
    with pytest.raises(DomainError) as info:
        build()
    assert needle in str(info.value)


@pytest.mark.parametrize("law", [L_N, L_D, L_CMIN, L_C, L_ND, L_NS])
def test_round_trip_and_registry(law):
    d = law.to_dict()
    assert law_from_dict(d) == law
    assert type(law).from_dict(d) == law
    assert registered_laws()[law.name] is type(law)
    assert law.n_counts in {"non-embedding", "n/a"}


def test_registered_names():
    names = set(registered_laws())
    assert {"kaplan-N", "kaplan-D", "kaplan-C", "kaplan-ND", "kaplan-NS"} <= names
    assert KaplanCLaw.from_dict({"C_c": 3.1e8, "alpha_C": 0.05, "minimal": True}) == L_CMIN


def test_nd_allocation_exponents():
    # N_opt ∝ C^(alpha_D/(alpha_N + alpha_D)) = C^0.5754 for Table 2's constants.
    assert L_ND.a == pytest.approx(0.103 / 0.179)
    assert L_ND.a + L_ND.b == pytest.approx(1.0)
    assert round(L_ND.a, 3) == 0.575
