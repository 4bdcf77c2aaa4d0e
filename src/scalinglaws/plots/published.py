"""Published models (GPT-3, Chinchilla, Llama 3 ...) that figures mark by their N, D and C."""

from __future__ import annotations

from dataclasses import dataclass


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
