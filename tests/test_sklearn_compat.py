"""The private scikit-learn names skadam uses still exist and take what skadam passes.

A failure here on a new scikit-learn release names what changed (a name gone altogether
already fails the import of skadam/model_selection/_sklearn_compat.py, naming it): adapt
that module before raising the bound in pyproject.toml.
"""

import ast
import re
from pathlib import Path

import pytest
import sklearn.model_selection._validation as validation

import skadam
from skadam.model_selection import _sklearn_compat
from skadam.model_selection._sklearn_compat import check_private_api

PACKAGE = Path(skadam.__file__).parent
COMPAT = PACKAGE / "model_selection" / "_sklearn_compat.py"


def test_private_api_of_this_scikit_learn():
    check_private_api()


def test_a_changed_name_is_named(monkeypatch):
    def renamed(estimator, X, y, scorer, score_params, error_score="raise"):
        """``_score`` with ``X_test`` and ``y_test`` renamed."""

    monkeypatch.setattr(validation, "_score", renamed)
    monkeypatch.delattr(validation, "_insert_error_scores")
    with pytest.raises(RuntimeError) as raised:
        check_private_api()
    message = str(raised.value)
    assert "_validation:_score: no longer takes X_test, y_test and now requires X, y" in message
    assert "_validation:_insert_error_scores: not found" in message
    assert "_sklearn_compat.py" in message


def _private_sklearn_imports(path):
    """``module:name`` of every private name ``path`` imports from scikit-learn."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
            private_module = any(part.startswith("_") for part in node.module.split("."))
            found.update(f"{node.module}:{alias.name}" for alias in node.names
                         if private_module or alias.name.startswith("_"))
    return found


def test_private_names_are_kept_in_the_compat_module():
    elsewhere = set(_sklearn_compat.USED_ELSEWHERE)
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == COMPAT:
            continue
        imported = _private_sklearn_imports(path)
        if path.parent.name == "model_selection":
            assert not imported, (
                f"{path.name} imports {sorted(imported)} from scikit-learn: import them "
                "from _sklearn_compat, where check_private_api checks them.")
        else:
            assert imported <= elsewhere, (
                f"{path.relative_to(PACKAGE)} imports {sorted(imported - elsewhere)}, "
                "private scikit-learn names not listed in _sklearn_compat.USED_ELSEWHERE: "
                "list them there, so that check_private_api checks them.")


def test_the_searches_call_private_methods_through_the_compat_module():
    methods = {where.rpartition(".")[2] for where in _sklearn_compat.USED_HERE
               if "." in where.partition(":")[2]}
    calls = re.compile(r"\.(" + "|".join(methods) + r")\(")
    for path in sorted((PACKAGE / "model_selection").glob("*.py")):
        if path != COMPAT:
            assert not calls.findall(path.read_text()), path.name
