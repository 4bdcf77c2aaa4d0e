"""Estimators: Chinchilla's three approaches, Kaplan's forms, bootstrap, backtest."""

from scalinglaws.fit.result import Diagnostic, Fit

__all__ = ["Diagnostic", "Fit"]
