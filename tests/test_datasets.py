"""The data sets shipped in the package (:mod:`scalinglaws.datasets`): identical to the
published files, checked on read, usable as ``dataset:NAME`` wherever runs are read, and
listed, shown and exported by ``scalinglaws datasets``."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys

import pytest

import scalinglaws as sl
from scalinglaws import datasets
from scalinglaws.cli import main
from scalinglaws.errors import DataError, UnknownNameError

SHIPPED = {
    "chinchilla_fig4": "chinchilla_fig4_epoch2024.csv",
    "porian2024_isoflop": "porian2024_isoflop.csv",
    "datablations": "muennighoff2023_datablations.csv",
    "pythia_train_loss": "pythia_train_loss.csv",
    "pythia_evals": "pythia_evals.csv",
    "gemstones": "gemstones2025.csv",
}


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ the shipped files
def test_the_registry_names_every_shipped_file():
    assert datasets.names() == list(SHIPPED)
    for name, file in SHIPPED.items():
        assert datasets.info(name).file == file + ".gz"
    on_disk = {p.name for p in datasets.DATA_DIR.glob("*.csv.gz")}
    assert on_disk == {f + ".gz" for f in SHIPPED.values()}
    for extra in ("SOURCES.md", "LICENSE-MIT.txt", "LICENSE-Apache-2.0.txt"):
        assert (datasets.DATA_DIR / extra).is_file()


@pytest.mark.parametrize(("name", "file"), SHIPPED.items())
def test_a_shipped_copy_is_byte_identical_to_the_published_file(name, file, shared_data):
    published = shared_data(file).read_bytes()
    packed = datasets.path(name).read_bytes()
    assert gzip.decompress(packed) == published
    assert packed[4:8] == b"\0\0\0\0"  # mtime 0: the .gz is reproducible
    assert hashlib.sha256(published).hexdigest() == datasets.info(name).sha256


@pytest.mark.parametrize("name", list(SHIPPED))
def test_a_shipped_copy_matches_its_record(name):
    ds = datasets.info(name)
    raw = datasets.read_bytes(name)
    assert hashlib.sha256(raw).hexdigest() == ds.sha256
    table = datasets.load(name)
    assert len(table) == ds.rows
    assert list(table.columns) == list(ds.columns)
    assert ds.licence in ("MIT", "Apache-2.0") and ds.source.startswith("https://github.com/")


def test_a_corrupted_copy_is_refused(tmp_path, monkeypatch):
    raw = datasets.read_bytes("chinchilla_fig4")
    bad = raw.replace(b"loss", b"LOSS", 1)
    (tmp_path / "chinchilla_fig4_epoch2024.csv.gz").write_bytes(gzip.compress(bad, mtime=0))
    (tmp_path / "gemstones2025.csv.gz").write_bytes(b"not gzip at all")
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    with pytest.raises(DataError, match=r"chinchilla_fig4 .* is corrupted: its sha256"):
        datasets.load("chinchilla_fig4")
    with pytest.raises(DataError, match="is corrupted"):
        sl.load_runs("dataset:chinchilla_fig4")
    with pytest.raises(DataError, match="gemstones .* cannot be read"):
        datasets.load("gemstones")
    with pytest.raises(DataError, match="cannot be read"):
        datasets.load("datablations")  # missing altogether


# ------------------------------------------------------------------ the Python API
def test_load_runs_uses_the_data_sets_mapping():
    runs = sl.datasets.load_runs("chinchilla_fig4", drop_highest=5)
    assert len(runs) == 240
    assert runs.source == "dataset:chinchilla_fig4"
    assert runs.mapping_text().startswith("N ← 'Model Size', C ← 'Training FLOP', L ← 'loss'")
    assert runs.filters == ["dropped the 5 highest losses (L >= 3.447; data rows 1, 2, 3, 4, 5)"]
    same = sl.load_runs("dataset:chinchilla_fig4", drop_highest=5)
    assert same.df[["N", "D", "C", "L"]].equals(runs.df[["N", "D", "C", "L"]])
    given = "N=n,D=t,C=flops,L=loss,group=source_file"  # a mapping given replaces the default
    explicit = sl.load_runs("dataset:porian2024_isoflop", columns=given)
    assert len(explicit) == 1745 and "group ← 'source_file'" in explicit.mapping_text()


def test_a_data_set_that_is_not_one_runs_table_says_what_to_do():
    with pytest.raises(DataError, match=r"dataset:gemstones is not one runs table .*phase"):
        sl.datasets.load_runs("gemstones")
    table = sl.datasets.load("gemstones").query("phase == 'cool_end'")
    assert len(sl.load_runs(table, columns="N=params,D=tokens,L=loss")) == 199


def test_an_unknown_name_is_one_sentence_with_a_suggestion():
    for call in (datasets.load, datasets.info, datasets.path, datasets.load_runs):
        with pytest.raises(UnknownNameError) as caught:
            call("chinchila")
        assert str(caught.value) == "unknown data set 'chinchila'; did you mean 'chinchilla_fig4'?"
    with pytest.raises(UnknownNameError, match="did you mean 'gemstones'"):
        sl.load_runs("dataset:gemstone")


def test_import_scalinglaws_does_not_import_pandas_or_the_data_sets():
    code = (
        "import sys, scalinglaws as sl\n"
        "assert 'pandas' not in sys.modules and 'scalinglaws.datasets' not in sys.modules\n"
        "assert 'gemstones' in sl.datasets.names() and 'pandas' not in sys.modules\n"
        "assert len(sl.datasets.load('chinchilla_fig4')) == 245\n"
        "assert 'datasets' in dir(sl)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ the command line
def test_fit_reads_a_data_set(capsys):
    code, out, err = _run(
        ["fit", "dataset:chinchilla_fig4", "--drop-highest", "5", "--bootstrap", "0"], capsys
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "runs: 240 rows, 240 runs from dataset:chinchilla_fig4"
    assert lines[1].startswith("columns: N ← 'Model Size', C ← 'Training FLOP'")
    assert "alpha" in out and "0.3473" in out


def test_fit_with_an_unknown_data_set_is_one_line_and_exit_2(capsys):
    code, out, err = _run(["fit", "dataset:chinchila"], capsys)
    assert code == 2 and out == ""
    assert err == "error: unknown data set 'chinchila'; did you mean 'chinchilla_fig4'?\n"


def test_datasets_list(capsys):
    code, out, _ = _run(["datasets", "list"], capsys)
    assert code == 0
    for name in SHIPPED:
        assert name in out
    assert "Apache-2.0" in out and "21,504" in out
    code, out, _ = _run(["datasets", "list", "--json"], capsys)
    records = json.loads(out)
    assert [r["name"] for r in records] == list(SHIPPED)
    assert records[0]["runs_source"] == "dataset:chinchilla_fig4"


def test_datasets_show(capsys):
    code, out, _ = _run(["datasets", "show", "chinchilla_fig4"], capsys)
    assert code == 0
    ds = datasets.info("chinchilla_fig4")
    for text in (ds.citation, ds.source, "licence: MIT", "N=Model Size,C=Training FLOP", ds.sha256):
        assert text in out
    assert "Training FLOP" in out
    code, out, _ = _run(["datasets", "show", "gemstones", "--json"], capsys)
    assert json.loads(out)["runs_columns"] is None
    code, out, err = _run(["datasets", "show", "pythia"], capsys)
    assert code == 2 and err.startswith("error: unknown data set 'pythia'") and err.count("\n") == 1


def test_datasets_export_writes_the_csv_and_refuses_to_overwrite(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(["datasets", "export", "datablations", "-o", "db.csv"], capsys)
    assert code == 0, err
    assert (tmp_path / "db.csv").read_bytes() == datasets.read_bytes("datablations")
    (tmp_path / "db.csv").write_text("mine\n")
    code, out, err = _run(["datasets", "export", "datablations", "-o", "db.csv"], capsys)
    assert code == 2 and "exists; give --force" in err and err.count("\n") == 1
    assert (tmp_path / "db.csv").read_text() == "mine\n"
    code, _, err = _run(["datasets", "export", "datablations", "-o", "db.csv", "--force"], capsys)
    assert code == 0, err
    assert (tmp_path / "db.csv").read_bytes() == datasets.read_bytes("datablations")
    code, _, err = _run(["datasets", "export", "nope", "-o", "x.csv"], capsys)
    assert code == 2 and not (tmp_path / "x.csv").exists()
