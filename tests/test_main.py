"""The main job, ``python -m skadam``: its report and its plot, on a light configuration."""

import importlib.util

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression as Reference

import skadam.__main__ as main_job
from skadam import LogisticRegression
from skadam._demo import compare_with_sklearn, grid_search, stream_with_early_stopping


def test_report_and_plot(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(main_job, "compare_with_sklearn", lambda pairs: compare_with_sklearn(
        [(LogisticRegression, Reference, load_breast_cancer)], n_splits=2))
    monkeypatch.setattr(main_job, "grid_search", lambda: grid_search(
        {"logisticregression__solver__learning_rate": [0.1, 0.01]}, max_iter=5, cv=2))
    monkeypatch.setattr(main_job, "stream_with_early_stopping",
                        lambda: stream_with_early_stopping(chunk_size=400, n_passes=2))
    path = tmp_path / "curves.png"
    main_job.main(["--plot", str(path)])
    report = capsys.readouterr().out
    assert "LogisticRegression   breast_cancer  accuracy" in report
    assert "skadam scores held-out data after each chunk and stopped after" in report
    assert "best setting: learning_rate=" in report
    assert "BatchedGridSearchCV" in report and "GridSearchCV" in report
    assert "Adam(amsgrad=True)" in report
    assert path.stat().st_size > 10_000  # a drawn figure, not an empty file


def test_plot_without_matplotlib_is_refused_before_any_work(monkeypatch, capsys):
    def no_work(*args):
        raise AssertionError("the reports ran before the missing matplotlib was reported")

    monkeypatch.setattr(main_job, "compare_with_sklearn", no_work)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: (
        None if name == "matplotlib" else real_find_spec(name, *args)))
    with pytest.raises(SystemExit) as stopped:
        main_job.main(["--plot", "curves.png"])
    assert stopped.value.code == 2
    assert "--plot needs matplotlib: pip install matplotlib" in capsys.readouterr().err
