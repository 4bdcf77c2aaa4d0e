"""Published scaling-law data sets shipped with the package, in the convention of
``sklearn.datasets`` and ``seaborn.load_dataset``.

Each data set is a gzip-compressed copy of a table its authors published (MIT or Apache-2.0;
attribution, column meanings and licence texts in ``datasets/data/SOURCES.md``), checked on
every read against the sha256 of its decompressed bytes::

    import scalinglaws as sl
    sl.datasets.names()                                   # ['chinchilla_fig4', ...]
    df = sl.datasets.load("chinchilla_fig4")              # a pandas DataFrame, as published
    runs = sl.datasets.load_runs("chinchilla_fig4", drop_highest=5)   # 240 rows

Wherever a runs table is read, ``"dataset:NAME"`` names a shipped data set (the command line's
``scalinglaws fit dataset:chinchilla_fig4 --drop-highest 5``); its :attr:`Dataset.runs_columns`
is then the default column mapping.  Imports only the standard library until a table is read.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalinglaws.errors import DataError, UnknownNameError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from scalinglaws.runs import Runs

#: The prefix that makes a runs source name a shipped data set: ``"dataset:chinchilla_fig4"``.
PREFIX = "dataset:"

#: The folder of the shipped ``.csv.gz`` files (a module attribute so tests can point it away).
DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Dataset:
    """One shipped data set: where it comes from, under which licence, and how to read it.

    ``columns`` maps each column of the table to its meaning; ``runs_columns`` is the mapping
    :func:`scalinglaws.load_runs` needs for it (``"N=Model Size,C=Training FLOP"``), or None
    when the table as shipped is not one runs table (``runs_note`` then says what to select);
    ``sha256`` is the digest of the decompressed CSV bytes, identical to the published file."""

    name: str
    file: str
    title: str
    citation: str
    licence: str
    source: str
    rows: int
    columns: dict[str, str] = field(hash=False)
    runs_columns: str | None
    sha256: str
    runs_note: str = ""

    @property
    def path(self) -> Path:
        """The installed ``.csv.gz`` file."""
        return DATA_DIR / self.file


_REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            name="chinchilla_fig4",
            file="chinchilla_fig4_epoch2024.csv.gz",
            title="Chinchilla Figure 4 points (Epoch AI replication)",
            citation=(
                "Besiroglu, Erdil, Barnett, You (2024), Chinchilla Scaling: A replication "
                "attempt; points read off Figure 4 of Hoffmann et al. (2022), Training "
                "Compute-Optimal Large Language Models"
            ),
            licence="MIT",
            source="https://github.com/epoch-research/analyzing-chinchilla",
            rows=245,
            columns={
                "x": "marker position in the figure (x)",
                "y": "marker position in the figure (y)",
                "color": "marker colour",
                "Model Size": "parameters N",
                "Training FLOP": "training compute C (FLOPs)",
                "hex_color": "marker colour as hex",
                "loss": "final training loss (nats/token, read from the colour bar)",
            },
            runs_columns="N=Model Size,C=Training FLOP",
            sha256="193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30",
            runs_note="no token column: D = C/(6N); the replication drops the 5 highest losses",
        ),
        Dataset(
            name="porian2024_isoflop",
            file="porian2024_isoflop.csv.gz",
            title="IsoFLOP profiles under 15 training set-ups",
            citation=(
                "Porian, Wortsman, Jitsev, Schmidt, Carmon (2024), Resolving Discrepancies in "
                "Compute-Optimal Scaling of Language Models"
            ),
            licence="MIT",
            source="https://github.com/formll/resolving-scaling-law-discrepancies",
            rows=1745,
            columns={
                "source_file": "the authors' summary table the row comes from",
                "dataset": "rw = RefinedWeb, owt2 = OpenWebText2",
                "hparams": "base or tuned hyperparameters",
                "warmup": "long or short warmup",
                "decay": "learning-rate decay: kaplan, chinchilla or const",
                "param_count": "kaplan (non-embedding), standard (with the output layer) or "
                "attention (with attention FLOPs)",
                "loss_split": "train or val",
                "flops": "budget C (FLOPs)",
                "n": "parameters N",
                "t": "tokens D = flops / 6n",
                "loss": "loss (nats/token)",
            },
            runs_columns="N=n,D=t,C=flops,L=loss",
            sha256="02e7e6d48894ec92ca93c01c7741b66be0d5f2244a47de6ecae19149d312fd3f",
            runs_note="15 set-ups × 12 budgets in one table: select one set-up before fitting",
        ),
        Dataset(
            name="datablations",
            file="muennighoff2023_datablations.csv.gz",
            title="Data-constrained scaling (repeated data)",
            citation="Muennighoff et al. (2023), Scaling Data-Constrained Language Models",
            licence="Apache-2.0",
            source="https://github.com/huggingface/datablations",
            rows=182,
            columns={
                "run_name": "run name",
                "run_name_normalized": "run name, normalised",
                "params": "parameters N",
                "tokens": "training tokens D, repeats included",
                "unique_tokens": "unique tokens U_D",
                "val_loss": "validation loss (nats/token)",
            },
            runs_columns="N=params,D=tokens,U=unique_tokens,L=val_loss,run_id=run_name",
            sha256="0ce76fed85a80535d9f029a320f841126878381b0cf7637a32673cfb550f00a1",
        ),
        Dataset(
            name="pythia_train_loss",
            file="pythia_train_loss.csv.gz",
            title="Pythia training-loss curves (14m–160m, seeds)",
            citation=(
                "Biderman et al. (2023), Pythia: A Suite for Analyzing Large Language Models "
                "Across Training and Scaling"
            ),
            licence="Apache-2.0",
            source="https://github.com/EleutherAI/pythia",
            rows=4194,
            columns={
                "model_size": "model size (14m, 70m, 160m)",
                "seed": "training seed",
                "step": "training step",
                "tokens_approx": "tokens seen (approximate)",
                "train_lm_loss": "training loss (nats/token)",
            },
            runs_columns="N=model_size,D=tokens_approx,L=train_lm_loss,step=step,seed=seed",
            sha256="ecb08124f44c79b5ae3071d1d91f7353943b0881d3776dd020c994c157cb01d2",
        ),
        Dataset(
            name="pythia_evals",
            file="pythia_evals.csv.gz",
            title="Pythia downstream evaluations (0- and 5-shot)",
            citation=(
                "Biderman et al. (2023), Pythia: A Suite for Analyzing Large Language Models "
                "Across Training and Scaling"
            ),
            licence="Apache-2.0",
            source="https://github.com/EleutherAI/pythia",
            rows=21504,
            columns={
                "model": "pythia-70m … pythia-12b",
                "deduped": "trained on the deduplicated Pile",
                "params": "total parameters (Pythia's published counts)",
                "non_embedding_params": "params minus both vocabulary matrices",
                "step": "training step",
                "tokens": "step × 2,097,152",
                "shots": "0 or 5",
                "task": "evaluation task",
                "metric": "acc, acc_norm, ppl, or <metric>_stderr",
                "value": "the metric's value",
            },
            runs_columns=None,
            sha256="cb3329c708322fc329030c06d8dbd52c7baf713d664da59a83b522cd2a151a18",
            runs_note=(
                "downstream evaluations (task, metric, value), not losses: load it with "
                "sl.datasets.load('pythia_evals'), select a task and metric, and give the "
                "DataFrame to sl.load_runs with a column mapping"
            ),
        ),
        Dataset(
            name="gemstones",
            file="gemstones2025.csv.gz",
            title="Gemstones: WSD trunks and cooldown branches",
            citation=(
                "McLeish, Kirchenbauer, Miller, Singh, Bhatele, Goldblum, Panda, Goldstein "
                "(2025), Gemstones: A Model Suite for Multi-Faceted Scaling Laws"
            ),
            licence="MIT",
            source="https://github.com/mcleish7/gemstone-scaling-laws",
            rows=618,
            columns={
                "run_name": "model (run) name",
                "phase": "hot (trunk checkpoint), cool_begin (a cooldown's start), cool_end "
                "(a cooldown's end)",
                "width": "model width",
                "depth": "model depth (layers)",
                "params": "active parameters N, embeddings included",
                "tokens": "tokens D",
                "step": "training step",
                "loss": "validation loss (nats/token)",
            },
            runs_columns=None,
            sha256="a0e57d2d176cfa5d2b1d1bc6761b0f24d02f5e89e063216ba4525226aebc95e9",
            runs_note=(
                "three phases that share checkpoints: load it with sl.datasets.load('gemstones'), "
                "select a phase (e.g. phase == 'cool_end') and give the DataFrame to "
                "sl.load_runs with the mapping N=params,D=tokens,L=loss"
            ),
        ),
    )
}


def names() -> list[str]:
    """The short names of the shipped data sets, in registry order."""
    return list(_REGISTRY)


def info(name: str) -> Dataset:
    """The :class:`Dataset` record of ``name``; an unknown name raises
    :class:`~scalinglaws.errors.UnknownNameError` with the closest name."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownNameError(
            f"unknown data set {name!r}{did_you_mean(str(name), names())}"
        ) from None


def path(name: str) -> Path:
    """The installed ``.csv.gz`` file of data set ``name``."""
    return info(name).path


def read_bytes(name: str) -> bytes:
    """The decompressed CSV bytes of data set ``name``, checked against its sha256; a
    corrupted or missing copy raises :class:`~scalinglaws.errors.DataError`."""
    ds = info(name)
    try:
        raw = gzip.decompress(ds.path.read_bytes())
    except (OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise DataError(
            f"the shipped data set {name} ({ds.path}) cannot be read ({reason}); reinstall "
            "scalinglaws"
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != ds.sha256:
        raise DataError(
            f"the shipped data set {name} ({ds.path}) is corrupted: its sha256 is "
            f"{digest[:12]}…, not {ds.sha256[:12]}…; reinstall scalinglaws"
        )
    return raw


def load(name: str) -> pd.DataFrame:
    """Data set ``name`` as a :class:`pandas.DataFrame`, columns as published (see
    :attr:`Dataset.columns`), after checking its sha256."""
    import io

    import pandas as pd

    return pd.read_csv(io.BytesIO(read_bytes(name)))


def load_runs(name: str, columns: dict[str, str] | str | None = None, **kwargs: Any) -> Runs:
    """:func:`scalinglaws.load_runs` on data set ``name`` (source ``"dataset:NAME"``), with its
    :attr:`Dataset.runs_columns` as the default ``columns``; other keyword arguments
    (``drop_highest=5``, ``final_only=True``, ...) are passed on."""
    from scalinglaws.runs import load_runs as _load_runs

    info(name)
    return _load_runs(PREFIX + name, columns=columns, **kwargs)


# ------------------------------------------------------------------ the runs-source hook
def dataset_name(source: object) -> str | None:
    """The data set ``source`` names when it is a string ``"dataset:NAME"``, else None."""
    if isinstance(source, str) and source.startswith(PREFIX):
        return source[len(PREFIX) :].strip()
    return None


def verified_path(source: str) -> Path:
    """The installed file of the data set ``"dataset:NAME"`` names, its sha256 checked."""
    name = dataset_name(source) or ""
    read_bytes(name)
    return info(name).path


def default_columns(source: str) -> str:
    """The column mapping of the data set ``"dataset:NAME"`` names, when none is given; a data
    set with no mapping raises :class:`~scalinglaws.errors.DataError` saying what to do."""
    ds = info(dataset_name(source) or "")
    if ds.runs_columns is None:
        raise DataError(
            f"{source} is not one runs table as shipped ({ds.runs_note}); or give a column "
            "mapping to read it as it is",
            argument="columns",
        )
    return ds.runs_columns
